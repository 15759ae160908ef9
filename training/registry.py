"""Model registry: every run is a new version with its parent, data counts, metrics, config and folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from core.paths import models_dir
from core.store import ModelVersion, Store


def new_model_folder(name: str) -> Path:
    """A fresh folder; the model is written to `<folder>.partial` first and renamed when complete."""
    base = models_dir()
    i = 1
    while (base / f"{name}-{i:03d}").exists():
        i += 1
    return base / f"{name}-{i:03d}"


def register(store: Store, *, name: str, folder: Path, parent_id: int | None, metrics: dict, config: dict,
             data_counts: dict, activate: bool) -> ModelVersion:
    with store.session() as s:
        mv = ModelVersion(name=name, folder=str(folder), parent_id=parent_id, metrics=metrics, config=config,
                          data_counts=data_counts, active=False)
        s.add(mv)
        s.flush()
        mv_id = mv.id
    if activate:
        store.activate_model(mv_id)
    store.emit("model_registered", model_version_id=mv_id)
    return store.model_version(mv_id)


def rollback(store: Store) -> ModelVersion:
    """Make the active model's parent active again."""
    active = store.active_model()
    if active is None or active.parent_id is None:
        raise ValueError("nothing to roll back to: the active model has no parent")
    store.activate_model(active.parent_id)
    return store.model_version(active.parent_id)


def discard_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
