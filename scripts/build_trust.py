"""Fit the trust indicator of an existing model folder (the bundled one by default) without retraining it.

    EMOTRACE_HOME=/tmp/trusthome HF_HUB_OFFLINE=1 .venv/bin/python scripts/build_trust.py \
        --data ../shared/data/ravdess-dev [--model resources/models/emotrace-ravdess]

Imports the labelled corpus the model was trained on into a throwaway store, pools its clips' features with the
model's own backbone (the feature cache in EMOTRACE_HOME keeps them for the next run), fits the statistics on
the Train split and calibrates the radius on the Development split (95% inside), and writes trust.safetensors
into the model folder (`core/ser/trust.py`). New models get theirs from the trainer; this is for models trained
before the indicator existed. The audio never enters the repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emotrace.core.ser.modeling import EmoTraceModel  # noqa: E402
from emotrace.core.ser.pipeline import Encoders  # noqa: E402
from emotrace.core.ser.trust import fit_for_model, model_features  # noqa: E402
from emotrace.core.store import Store  # noqa: E402
from emotrace.core.workflows.importing import import_folder  # noqa: E402
from emotrace.training.data import DEV, TRAIN, load_examples  # noqa: E402
from emotrace.training.default_model import BUNDLED  # noqa: E402
from emotrace.training.features import audio_features  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "ravdess-dev"))
    ap.add_argument("--model", default=str(ROOT / "resources" / "models" / "emotrace-ravdess"),
                    help=f"model folder (default: the repository's copy of the bundled model, {BUNDLED.name})")
    ap.add_argument("--db", help="store to use (default: the EMOTRACE_HOME one)")
    args = ap.parse_args()
    store = Store(args.db)
    if "trust-data" not in [c.name for c in store.corpora.corpora()]:
        import_folder(store, args.data, "trust-data")
    examples = load_examples(store, "trust-data")
    model = EmoTraceModel.from_pretrained(args.model)
    encoders = Encoders(model.config, "cpu")
    sets = {}
    for split in (TRAIN, DEV):
        exs = [e for e in examples if e.split == split]
        sets[split] = audio_features(encoders.audio, exs)
    trust = fit_for_model(model, sets[TRAIN], sets[DEV])
    if trust is None:
        raise SystemExit("too few examples to fit the trust statistics")
    trust.save(args.model)
    train_out = float((trust.score(model_features(model, sets[TRAIN])) > 1).mean())
    print(json.dumps({"model": args.model, **trust.info, "train_outside": round(train_out, 4)}))


if __name__ == "__main__":
    main()
