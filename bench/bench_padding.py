"""Variable-length input vs Whisper's 30 s padding: per-layer probe CCC on a subset of ravdess-dev.

Whisper was trained on 30 s windows. EmoTrace feeds each chunk at its own length (position embeddings sliced),
which costs up to 10x less on 3-second segments. This checks whether padding to 30 s would give better
features: the same clips encoded both ways by the same torch module, pooled over the real audio's frames only,
probed per layer (fit on Train actors, CCC on Development actors).

    EMOTRACE_HOME=/tmp/bench-layers HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_padding.py --db URL
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

from emotrace.core.audio.decode import AudioSource  # noqa: E402
from emotrace.core.ser.encoders import load_audio_encoder  # noqa: E402
from emotrace.core.store import Store  # noqa: E402
from emotrace.training.data import DEV, TRAIN, labels_array, load_examples  # noqa: E402
from emotrace.training.features import audio_features  # noqa: E402
from emotrace.training.probe import probe_layers  # noqa: E402

SAMPLES_30S = 480_000


def padded_features(enc, examples, batch: int = 4) -> np.ndarray:
    """Each clip zero-padded to 30 s (as Whisper's own pipeline does), pooled over the real audio's frames."""
    out = []
    for i in range(0, len(examples), batch):
        wavs = [AudioSource(e.path).read(e.start, e.end)[:SAMPLES_30S - 160] for e in examples[i: i + batch]]
        x = torch.zeros(len(wavs), SAMPLES_30S)
        for k, w in enumerate(wavs):
            x[k, : len(w)] = torch.from_numpy(w)
        with torch.inference_mode():
            hidden, _ = enc.module(x, torch.full((len(wavs),), SAMPLES_30S))
        for k, w in enumerate(wavs):
            keep = ((len(w) + 160) // 160 + 1) // 2
            h = hidden[k, :, :keep].double()
            out.append(torch.cat([h.mean(1), h.std(1, unbiased=False)], -1).float().numpy())
    return np.stack(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--corpus", default="rav")
    ap.add_argument("--backbone", default="whisper:tiny.en")
    ap.add_argument("--per-split", type=int, default=240, help="clips per split (every k-th, all actors kept)")
    args = ap.parse_args()
    store = Store(args.db)
    examples = load_examples(store, args.corpus)
    enc = load_audio_encoder(args.backbone)
    sets = {}
    for split in (TRAIN, DEV):
        exs = [e for e in examples if e.split == split]
        exs = exs[:: max(1, len(exs) // args.per_split)][: args.per_split]
        t = time.perf_counter()
        padded = padded_features(enc, exs)
        sets[split] = (audio_features(enc, exs), padded, labels_array(exs), time.perf_counter() - t)
    for name, k in (("variable length (default)", 0), ("padded to 30 s", 1)):
        per_layer, flat = probe_layers(sets[TRAIN][k], sets[TRAIN][2], sets[DEV][k], sets[DEV][2])
        print(json.dumps({"input": name, "backbone": args.backbone, "n_train": len(sets[TRAIN][2]),
                          "n_dev": len(sets[DEV][2]), "probe_ccc": per_layer, "all_layers_ccc": flat}), flush=True)
    print(json.dumps({"padded_encode_s": round(sets[TRAIN][3] + sets[DEV][3], 1)}))


if __name__ == "__main__":
    main()
