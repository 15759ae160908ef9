"""The model that ships in emotrace.resources (resources/ here): a store with no model versions registers it first.

So the main job shows trajectories on a fresh machine, and the first retrain forks from it (its parent). The
folder holds only the heads (config.json + model.safetensors, a few MB); its config names the packaged Whisper
backbone (`whisper:tiny.en`), which is converted once on first use. The weights are CC BY-NC-SA 4.0 (trained on
RAVDESS); see its MODEL_CARD.md. `EMOTRACE_NO_DEFAULT_MODEL=1` turns the registration off (tests that need an
empty registry); `scripts/build_default_model.py` rebuilds it.
"""

from __future__ import annotations

import json
import os
import shutil
from importlib.resources import files
from pathlib import Path

from emotrace.core.paths import models_dir, resolve_db_url
from emotrace.core.store import ModelVersion, Store

BUNDLED = Path(str(files("emotrace.resources") / "models" / "emotrace-ravdess"))  # package data, a real folder
NAME = "default-ravdess"


def bundled_folder() -> Path | None:
    folder = Path(os.environ.get("EMOTRACE_DEFAULT_MODEL", BUNDLED))
    return folder if (folder / "model.safetensors").is_file() and (folder / "config.json").is_file() else None


def open_store(url: str | None = None, *, repair_triggers: bool = True) -> Store:
    """The one way every front end (CLI, app, notebook API) opens a store: `Store(url)`, where None means the
    store the one resolution order names (`emotrace.core.paths.resolve_db_url`), and, when it has no model yet,
    the bundled one registered as version 1, so the app and the CLI show the same models on a fresh store.
    Opening re-creates missing append-only triggers unless `repair_triggers` is False (`emotrace check`)."""
    store = Store(url or resolve_db_url()[0], repair_triggers=repair_triggers)
    if not store.read_only:
        ensure_default_model(store)
    return store


def ensure_default_model(store: Store) -> ModelVersion | None:
    """Register the bundled model as version 1 of a store that has none; returns it, or None when nothing was
    registered (the store has models, the bundle is missing, or the registration is switched off)."""
    if os.environ.get("EMOTRACE_NO_DEFAULT_MODEL") == "1" or store.models.model_versions():
        return None
    source = bundled_folder()
    if source is None:
        return None
    from emotrace.training.registry import register  # lazy: it checks folders with torch; only a first open needs it
    card = json.loads((source / "metrics.json").read_text()) if (source / "metrics.json").is_file() else {}
    target = models_dir() / NAME
    if not (target / "model.safetensors").is_file():
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(source, partial)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
    config = json.loads((source / "config.json").read_text())
    metrics = {**card.get("metrics", {}), "mode": card.get("mode", "layers"), "bundled": True}
    return register(store, name=NAME, folder=target, parent_id=None, metrics=metrics,
                    config={**config, "train": card.get("train", {})}, data_counts=card.get("data_counts", {}),
                    activate=True)


__all__ = ["BUNDLED", "bundled_folder", "ensure_default_model", "open_store"]
