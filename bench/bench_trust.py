"""The trust indicator of the bundled model (issue 26): the fraction of windows outside its training domain on
RAVDESS (what it was trained on), the packaged demo and podcast-like audio. JSON lines.

    EMOTRACE_HOME=/tmp/trusthome HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_trust.py \
        --data ../shared/data/ravdess-dev --podcast /tmp/pod.flac

The podcast-like file comes from `python ../shared/scripts/make_podcast.py /tmp/pod.flac --minutes 5`. Windows are
the trajectory's (4 s, 1 s hop; a clip shorter than 4 s is one window), predicted as `emotrace analyze` does
(`predict_spans`); RAVDESS clips from the feature cache `scripts/build_trust.py` filled (same EMOTRACE_HOME).
RAVDESS Development (actors 13-16) is the split the radius was calibrated on, so about 5%
outside there is by construction; Train (actors 1-12) is what the statistics were fitted on.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emotrace.core.audio.decode import AudioSource  # noqa: E402
from emotrace.core.ser.pipeline import SERPipeline  # noqa: E402
from emotrace.core.workflows.analyze import predict_spans, window_spans  # noqa: E402
from emotrace.training.default_model import BUNDLED  # noqa: E402

DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo"


def trust_of(pipeline: SERPipeline, paths: list[Path]) -> np.ndarray:
    out = []
    for path in paths:
        spans = window_spans(AudioSource(path).duration, 4.0, 1.0)
        preds, _missing = predict_spans(pipeline, str(path), spans)
        out.append(preds.trust)
    return np.concatenate(out)


def cached_trust(pipeline: SERPipeline, data: str, split: str) -> tuple[np.ndarray, int]:
    """RAVDESS clips (each shorter than a window: one window over the whole clip) from the feature cache that
    scripts/build_trust.py filled, scored as analysis scores them."""
    from emotrace.core.ser.trust import model_features
    from emotrace.core.store import Store
    from emotrace.core.workflows.importing import import_folder
    from emotrace.training.data import load_examples
    from emotrace.training.features import audio_features

    store = Store(None)
    if "trust-data" not in [c.name for c in store.corpora.corpora()]:
        import_folder(store, data, "trust-data")
    examples = [e for e in load_examples(store, "trust-data") if e.split == split]
    feats = audio_features(pipeline.encoders.audio, examples)
    return pipeline.trust.score(model_features(pipeline.model, feats)), len(examples)


def report(name: str, trust: np.ndarray, files: int) -> None:
    print(json.dumps({"source": name, "files": files, "windows": len(trust),
                      "outside_fraction": round(float(np.mean(trust > 1.0)), 3),
                      "trust_median": round(float(np.median(trust)), 2)}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="ravdess-dev (labels_consensus.csv with Split_Set)")
    ap.add_argument("--podcast", help="a podcast-like file (make_podcast.py)")
    ap.add_argument("--model", default=str(Path(__file__).resolve().parents[1] / "resources" / "models" / BUNDLED.name))
    args = ap.parse_args()
    t = time.perf_counter()
    pipeline = SERPipeline(args.model, device="cpu")
    if pipeline.trust is None:
        raise SystemExit(f"{args.model} has no trust statistics (scripts/build_trust.py)")
    print(json.dumps({"model": args.model, **pipeline.trust.info}), flush=True)
    for split, what in (("Development", "actors 13-16, calibration"), ("Train", "actors 1-12, fitted on")):
        trust, n = cached_trust(pipeline, args.data, split)
        report(f"ravdess-dev {split} ({what})", trust, n)
    demo = sorted(DEMO.glob("*.flac"))
    for path in demo:
        report(f"demo {path.name}", trust_of(pipeline, [path]), 1)
    if args.podcast:
        report(f"podcast-like {Path(args.podcast).name}", trust_of(pipeline, [Path(args.podcast)]), 1)
    print(json.dumps({"seconds": round(time.perf_counter() - t, 1)}), flush=True)


if __name__ == "__main__":
    main()
