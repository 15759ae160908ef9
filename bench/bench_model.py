"""Parameters and inference throughput (audio seconds per second) of the SER model's encoders, side by side.

DistilHuBERT + MiniLM (the paper's audio-textual distilled model) against HuBERT-large and
wav2vec2-large-robust (12 layers), random weights (speed does not depend on them), plus the offline Whisper
tiny.en backbone. Each audio model encodes the same 4 x 10 s batch; MiniLM encodes the text of one 4 s window
per second of audio (the trajectory's hop). `--device cuda` runs the same on a GPU with bf16 autocast.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emotrace.core.ser.architectures import AUDIO_ARCHITECTURES, build  # noqa: E402
from emotrace.core.ser.config import EmoTraceConfig  # noqa: E402
from emotrace.core.ser.encoders import SpeechLayers  # noqa: E402
from emotrace.core.ser.modeling import HUBERT_LARGE_PARAMS, EmoTraceModel, count_parameters  # noqa: E402


def timed(fn, repeats: int, sync) -> float:
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    dev = args.device
    sync = torch.cuda.synchronize if dev.startswith("cuda") else (lambda: None)
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if dev.startswith("cuda") else (
        lambda: torch.autocast("cpu", enabled=False))
    audio_s = args.batch * args.seconds
    wav = torch.randn(args.batch, int(args.seconds * 16000), device=dev) * 0.1
    lengths = torch.full((args.batch,), wav.shape[1], device=dev)
    text_model = build("minilm-l6").eval().to(dev)
    text_params = count_parameters(text_model)
    ids = torch.randint(1000, 30000, (int(audio_s), 16), device=dev)  # one ~12-word window per second of audio

    def run_text():
        with torch.inference_mode(), autocast():
            text_model(input_ids=ids, attention_mask=torch.ones_like(ids))

    text_t = timed(run_text, args.repeats, sync)
    rows = []
    for name in AUDIO_ARCHITECTURES:
        from emotrace.core.ser.whisper_torch import WhisperLayers

        raw = build(name)
        model = (WhisperLayers(raw) if name.startswith("whisper") else SpeechLayers(raw)).eval().to(dev)
        params = count_parameters(raw)
        heads = count_parameters(EmoTraceModel(EmoTraceConfig(audio_layers=model.num_layers, audio_dim=model.dim,
                                                              text_dim=384)))

        def run_audio(model=model):  # the featurizer module: every hidden state, as EmoTrace runs it
            with torch.inference_mode(), autocast():
                model(wav, lengths)

        audio_t = timed(run_audio, args.repeats, sync)
        with_text = name == "distilhubert"
        trainable = params + heads + (text_params if with_text else 0)
        rows.append({
            "model": name + (" + MiniLM-L6" if with_text else ""), "device": dev,
            "params_audio": params, "params_text": text_params if with_text else 0, "params_heads": heads,
            "trainable": trainable, "share_of_hubert_large": round(trainable / HUBERT_LARGE_PARAMS, 3),
            "audio_s_per_s": round(audio_s / (audio_t + (text_t if with_text else 0)), 1),
            "audio_only_s_per_s": round(audio_s / audio_t, 1),
        })
        print(json.dumps(rows[-1]), flush=True)
        del model
    base = next(r for r in rows if r["model"].startswith("distilhubert"))
    for r in rows[1:]:
        print(json.dumps({"speedup_of_distilhubert_minilm_over": r["model"],
                          "throughput_ratio": round(base["audio_s_per_s"] / r["audio_s_per_s"], 2),
                          "param_ratio": round(r["trainable"] / base["trainable"], 2)}))


if __name__ == "__main__":
    main()
