"""`full` mode speed: one fine-tuning step (forward + backward + AdamW) of the audio encoder + text encoder +
heads on a batch of utterances, bf16 autocast on a GPU. Random weights and inputs (speed does not depend on
them). Reports steps/s and audio seconds trained per second: DistilHuBERT + MiniLM, HuBERT-large, and the
torch Whisper tiny/base encoders (the offline backbone's `full` mode). The encoder runs through EmoTrace's
own featurizer modules and pooling (`training.trainer.pool_examples` uses the same statistics).

    python bench/bench_finetune.py --device cuda      # on the GPU machine (see bench/gpu_check.sh)
    python bench/bench_finetune.py --device cpu --batch 4 --steps 2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emotrace.core.ser.architectures import build  # noqa: E402
from emotrace.core.ser.config import EmoTraceConfig  # noqa: E402
from emotrace.core.ser.encoders import SpeechLayers  # noqa: E402
from emotrace.core.ser.modeling import EmoTraceModel  # noqa: E402
from emotrace.core.ser.whisper_torch import WhisperLayers  # noqa: E402
from emotrace.core.stats.metrics import ccc_loss  # noqa: E402


def pooled(upstream, wav: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Per-layer mean + std over every valid frame (the items here are all full length)."""
    hidden, frames = upstream(wav, lengths)
    hidden = hidden[:, :, : int(frames.min())]
    return torch.cat([hidden.mean(2), hidden.std(2, unbiased=False)], dim=-1)


def time_model(name: str, with_text: bool, args, dev: str) -> dict:
    cuda = dev.startswith("cuda")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    model = build(name)
    encoder = (WhisperLayers(model) if name.startswith("whisper") else SpeechLayers(model)).to(dev).train()
    encoder.freeze_cnn()
    text = build("minilm-l6").to(dev).train() if with_text else None
    heads = EmoTraceModel(EmoTraceConfig(audio_layers=encoder.num_layers, audio_dim=encoder.dim,
                                         text_dim=384, modalities="both" if with_text else "audio")).to(dev)
    params = [p for m in (encoder, text, heads) if m is not None for p in m.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5)
    wav = torch.randn(args.batch, int(args.seconds * 16000), device=dev) * 0.1
    lengths = torch.full((args.batch,), wav.shape[1], device=dev)
    ids = torch.randint(1000, 30000, (args.batch, 24), device=dev)
    gold = torch.rand(args.batch, 3, device=dev) * 6 + 1

    def step() -> None:
        with torch.autocast("cuda" if cuda else "cpu", dtype=torch.bfloat16, enabled=cuda):
            feats = pooled(encoder, wav, lengths).float()
            t = None
            if text is not None:
                t = text(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state.mean(1).float()
            loss = ccc_loss(heads(feats, t), gold)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()
    sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    dt = (time.perf_counter() - t0) / args.steps
    return {"model": name + (" + MiniLM-L6" if with_text else ""),
            "device": torch.cuda.get_device_name() if cuda else dev, "batch": args.batch,
            "seconds_each": args.seconds, "trainable": sum(p.numel() for p in params), "step_s": round(dt, 4),
            "audio_s_per_s": round(args.batch * args.seconds / dt, 1),
            "peak_mem_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--models", nargs="+", default=["distilhubert+text", "hubert-large", "whisper-tiny", "whisper-base"])
    args = ap.parse_args()
    for spec in args.models:
        name, with_text = spec.removesuffix("+text"), spec.endswith("+text")
        print(json.dumps(time_model(name, with_text, args, args.device)), flush=True)


if __name__ == "__main__":
    main()
