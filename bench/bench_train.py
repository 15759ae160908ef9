"""Retrain speed and CCC, through the path the app's Retrain dialog takes (issue 25, item 4).

Seconds from the click on Start to the new active model: a `TrainingRun` in a `TrainingWorker` process with the
dialog's settings (layers mode, 80 epochs, continue from the active model when it was trained on this corpus),
then `registry.activate` in this process, as the dialog's Activate button calls it (the gate included).

- `first_s`: a fresh worker process started at the click (nothing warmed up; the dialog warms its worker when it
  opens, so this is the upper bound), on a store just imported; `after_analysis` says whether `emotrace analyze`
  ran before (its features are the training features) or the cache was empty (every clip encoded).
- `warm_s`: after correcting 20 labels, the same worker again.
- CCC on the development split for every run, and with `--seeds` the first run for other seeds (the noise).

On ravdess-dev (960 clips; `../shared/data/ravdess-dev` when present, or `--ravdess DIR`): import, retrain with an
empty cache, warm retrain; then a second store analysed first, its first retrain and warm retrain. Without it, the
same on 1,000 generated segments (50 files of 20 turns).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


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


def shared_ravdess() -> Path | None:
    for base in (ROOT.parent, ROOT.parent.parent):  # a checkout beside shared/, or a worktree one level down
        folder = base / "shared" / "data" / "ravdess-dev"
        if folder.is_dir():
            return folder
    return None


def dialog_config(corpus: str, seed: int = 0):
    from emotrace.training.trainer import TrainConfig

    return TrainConfig(corpus=corpus, mode="layers", modalities="both", epochs=80, device="auto", activate="never",
                       warm_start=True, seed=seed)


def retrain(store, corpus: str, worker, seed: int = 0) -> dict:
    """Click to active model: the dialog's run, then its Activate (the gate runs in this process)."""
    from emotrace.training import registry
    from emotrace.training.runner import TrainingRun

    t = time.perf_counter()
    final = TrainingRun(store.url, dialog_config(corpus, seed), worker=worker).start().join()
    assert final["type"] == "finished", final
    trained = time.perf_counter() - t
    registry.activate(store, final["model_version_id"], device="auto")
    ccc = final["metrics"]["ccc"]
    return {"seconds": round(time.perf_counter() - t, 1), "trained_s": round(trained, 1),
            "trainer_s": round(final["seconds"], 1), "steps": final["metrics"]["optimizer_steps"],
            "ccc": ccc, "mean_ccc": round(float(np.mean(list(ccc.values()))), 4)}


def correct(store, corpus: str, n: int = 20) -> None:
    from emotrace.training.data import TRAIN, load_examples

    for e in [e for e in load_examples(store, corpus) if e.split == TRAIN][:n]:
        store.labels.record_label(e.segment_id, annotator="bench", arousal=min(7.0, e.label[0] + 0.5),
                                  valence=e.label[1], dominance=e.label[2])


def fresh_store(source: Path, corpus: str, name: str):
    """A new EMOTRACE_HOME (empty feature cache) and store, as `emotrace import` leaves them on a new machine."""
    os.environ["EMOTRACE_HOME"] = tempfile.mkdtemp(prefix=f"bench-train-{name}-")
    from emotrace.core.workflows.importing import import_folder
    from emotrace.training.default_model import open_store

    store = open_store(f"sqlite:///{Path(os.environ['EMOTRACE_HOME']) / 'store.sqlite'}")
    t = time.perf_counter()
    import_folder(store, source, corpus)
    return store, round(time.perf_counter() - t, 1)


def scenario(source: Path, corpus: str, analyse: bool, seeds: list[int]) -> None:
    from emotrace.core.workflows.analyze import analyze_corpus
    from emotrace.training.runner import TrainingWorker

    store, imported = fresh_store(source, corpus, "analysed" if analyse else "empty")
    analysed = None
    if analyse:
        t = time.perf_counter()
        analyze_corpus(store, corpus, device="auto")
        analysed = round(time.perf_counter() - t, 1)
    from emotrace.training.data import load_examples

    base = {"data": source.name, "segments": len(load_examples(store, corpus)),
            "after_analysis": analyse, "import_s": imported, "analyze_s": analysed, "load": os.getloadavg()[0]}
    worker = TrainingWorker()  # started at the click: nothing warmed up
    try:
        first = retrain(store, corpus, worker)
        print(json.dumps({**base, "run": "first", **first}), flush=True)
        correct(store, corpus)
        warm = retrain(store, corpus, worker)
        print(json.dumps({**base, "run": "warm", "corrected": 20, **warm}), flush=True)
    finally:
        worker.close()
    for seed in seeds:  # the noise: from scratch on the corrected labels, other seeds (compare with `warm`)
        from emotrace.training.trainer import train

        result = train(store, replace(dialog_config(corpus, seed), warm_start=False))
        ccc = result.metrics["ccc"]
        print(json.dumps({"data": source.name, "run": "scratch", "seed": seed, "seconds": round(result.seconds, 1),
                          "ccc": ccc, "mean_ccc": round(float(np.mean(list(ccc.values()))), 4)}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ravdess", help="folder of RAVDESS-dev (default: ../shared/data/ravdess-dev when present)")
    ap.add_argument("--seeds", type=int, nargs="*", default=[1, 2], help="more first-run seeds for the CCC noise")
    ap.add_argument("--skip-empty", action="store_true", help="only the analysed store (the empty cache is slow)")
    args = ap.parse_args()
    source = Path(args.ravdess) if args.ravdess else shared_ravdess()
    corpus = "rav"
    if source is None:
        source, corpus = make_corpus(Path(tempfile.mkdtemp()) / "corpus"), "bench"
    if not args.skip_empty:
        scenario(source, corpus, analyse=False, seeds=[])
    scenario(source, corpus, analyse=True, seeds=args.seeds)


if __name__ == "__main__":
    main()
