"""Rebuild the bundled model in resources/models/emotrace-ravdess with the project's own trainer.

    EMOTRACE_HOME=$(mktemp -d) HF_HUB_OFFLINE=1 .venv/bin/python scripts/build_default_model.py \
        --data ../shared/data/ravdess-dev [--backbone whisper:tiny.en] [--seed 0]

Imports RAVDESS actors 1-16 (its Split_Set: 1-12 Train, 13-16 Development) into a throwaway store, trains
audio-only in `layers` mode (heads + per-dimension layer weights on cached features), and copies the heads
(config.json + model.safetensors) with metrics.json next to MODEL_CARD.md. The audio never enters the
repository; the weights are CC BY-NC-SA 4.0 like the data they were trained on.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emotrace.core.store import Store  # noqa: E402
from emotrace.core.workflows.importing import import_folder  # noqa: E402
from emotrace.training.default_model import BUNDLED  # noqa: E402
from emotrace.training.trainer import TrainConfig, train  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "ravdess-dev"))
    ap.add_argument("--backbone", default="whisper:tiny.en")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--db", help="store to use (default: the EMOTRACE_HOME one)")
    ap.add_argument("--out", default=str(BUNDLED))
    args = ap.parse_args()
    store = Store(args.db)
    if "ravdess" not in [c.name for c in store.corpora.corpora()]:
        import_folder(store, args.data, "ravdess")
    cfg = TrainConfig(corpus="ravdess", mode="layers", audio_backbone=args.backbone, modalities="audio",
                      seed=args.seed, device="cpu", activate=False, name="ravdess-build")
    result = train(store, cfg, on_event=lambda e: e["type"] == "epoch" and print(
        f"epoch {e['epoch']:3d} dev {e['dev_ccc']}", file=sys.stderr))
    version = store.models.model_version(result.model_version_id)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "model.safetensors", "trust.safetensors"):  # trust: issue 26's indicator
        shutil.copy2(Path(version.folder) / name, out / name)
    metrics = {k: v for k, v in version.metrics.items() if k != "parent"}
    card = {"metrics": metrics, "mode": cfg.mode, "data_counts": version.data_counts,
            "train": {k: v for k, v in version.config["train"].items() if k not in ("device", "activate")},
            "data": "RAVDESS speech, actors 1-16 (../shared/data/ravdess-dev), proxy A/V/D from acted categories"}
    (out / "metrics.json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps({"out": str(out), "ccc": metrics["ccc"], "layer_weights": metrics["layer_weights"],
                      "seconds": round(result.seconds, 1)}))


if __name__ == "__main__":
    main()
