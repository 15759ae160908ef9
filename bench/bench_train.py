"""Retrain speed and CCC.

1. Seconds from "retrain" to a new active model for 1,000 labelled segments, heads mode, on this CPU, through
   the same worker-process API the GUI's Retrain button uses: cold (empty feature cache) and after correcting
   20 labels (warm cache).
2. `--ravdess DIR`: CCC on RAVDESS-dev (train on Train, select on Development, report Development).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def synth(arousal: float, valence: float, seconds: float, base: float, rng) -> np.ndarray:
    sr = 16000
    t = np.arange(int(seconds * sr)) / sr
    f0 = base * (1 + 0.12 * (arousal - 4))
    x = (0.05 + 0.05 * arousal) * np.sin(2 * np.pi * f0 * t + 0.3 * valence * np.sin(2 * np.pi * 5 * t))
    x *= 0.6 + 0.4 * np.sin(2 * np.pi * (2 + arousal) * t) ** 2
    return (x + 0.002 * rng.standard_normal(len(t))).astype(np.float32)


def make_corpus(root: Path, files: int = 50, per_file: int = 20) -> Path:
    """1,000 segments: 50 files of 20 turns each, labels in the generic CSV form."""
    rng = np.random.default_rng(0)
    rows = ["file,start,end,arousal,valence,dominance,category,annotator"]
    root.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        parts, t = [], 0.0
        for _ in range(per_file):
            a, v = rng.uniform(1.5, 6.5, 2)
            sec = float(rng.uniform(2.75, 4.5))
            parts.append(synth(a, v, sec, 120 + 7 * (f % 10), rng))
            d = float(np.clip(0.5 * a + 0.5 * v, 1, 7))
            rows.append(f"talk{f:02d}.wav,{t:.3f},{t + sec:.3f},{a:.2f},{v:.2f},{d:.2f},N,consensus")
            t += sec
        sf.write(root / f"talk{f:02d}.wav", np.concatenate(parts), 16000)
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return root


def retrain_seconds(store, corpus: str) -> tuple[float, dict]:
    from emotrace.training.runner import TrainingRun
    from emotrace.training.trainer import TrainConfig

    t = time.perf_counter()
    final = TrainingRun(store.url, TrainConfig(corpus=corpus, device="cpu", activate=False)).start().join()
    assert final["type"] == "finished", final
    store.models.activate_model(final["model_version_id"])
    return time.perf_counter() - t, final


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ravdess", help="folder of RAVDESS-dev (../shared/data/ravdess-dev)")
    args = ap.parse_args()
    os.environ.setdefault("EMOTRACE_HOME", tempfile.mkdtemp())
    from emotrace.core.store import Store
    from emotrace.core.workflows.importing import import_folder
    from emotrace.training.data import load_examples

    tmp = Path(tempfile.mkdtemp())
    store = Store(f"sqlite:///{tmp / 'bench.sqlite'}")
    report = import_folder(store, make_corpus(tmp / "corpus"), "bench")
    assert report.labels_added == 1000, report.summary()
    cold, final = retrain_seconds(store, "bench")
    print(json.dumps({"segments": 1000, "retrain_cold_s": round(cold, 1), "dev_ccc": final["metrics"]["ccc"]}),
          flush=True)
    for e in [e for e in load_examples(store, "bench") if e.split == "Train"][:20]:
        store.labels.record_label(e.segment_id, annotator="bench", arousal=min(7.0, e.label[0] + 0.5), valence=e.label[1],
                        dominance=e.label[2])
    warm, final = retrain_seconds(store, "bench")
    print(json.dumps({"segments": 1000, "corrected": 20, "retrain_warm_s": round(warm, 1),
                      "trainer_s": round(final["seconds"], 1), "dev_ccc": final["metrics"]["ccc"]}), flush=True)
    if args.ravdess:
        from emotrace.training.evaluate import evaluate
        from emotrace.training.trainer import TrainConfig, train

        rav = Store(f"sqlite:///{tmp / 'rav.sqlite'}")
        t = time.perf_counter()
        import_folder(rav, args.ravdess, "rav")
        imported = time.perf_counter() - t
        for seed in (0, 1, 2):
            t = time.perf_counter()
            train(rav, TrainConfig(corpus="rav", device="cpu", seed=seed))
            dev = evaluate(rav, "rav", "Development")
            print(json.dumps({"ravdess_import_s": round(imported, 1), "seed": seed,
                              "train_s": round(time.perf_counter() - t, 1), "split": dev["split"], "n": dev["n"],
                              "ccc": dev["ccc"]}), flush=True)


if __name__ == "__main__":
    main()
