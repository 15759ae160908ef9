"""Model registry: every run is a new version with its parent, data counts, metrics, config and folder.

A version's folder is created here, atomically, under a name that neither the registry nor the disk knows:
two trainings sharing `EMOTRACE_HOME` can never pick one folder, a deleted folder's name is never handed to a
new version while an old version still points at it, and a failed run only ever removes the folder it created.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from emotrace.core.paths import models_dir
from emotrace.core.ser.modeling import check_model_folder
from emotrace.core.store import ModelVersion, Store
from emotrace.training.gate import check_outputs


def new_model_folder(store: Store, name: str) -> Path:
    """Create and return a fresh, empty folder `<name>-NNN` that is this caller's alone.

    `mkdir(exist_ok=False)` is the lock: of two processes that try one name, exactly one succeeds and the other
    moves on to the next number. Names the registry already uses are skipped even if their folder is gone."""
    base = models_dir()
    taken = {Path(mv.folder).name for mv in store.models.model_versions()}
    i = 1
    while True:
        candidate = base / f"{name}-{i:03d}"
        i += 1
        if candidate.name in taken or candidate.with_name(candidate.name + ".partial").exists():
            continue
        try:
            candidate.mkdir(exist_ok=False)
        except FileExistsError:
            continue
        return candidate


def register(store: Store, *, name: str, folder: Path, parent_id: int | None, metrics: dict, config: dict,
             data_counts: dict, activate: bool) -> ModelVersion:
    """Record a version whose folder passes `check_model_folder`; a broken folder is never registered."""
    check_model_folder(folder)
    return store.models.register_model(name=name, folder=folder, parent_id=parent_id, metrics=metrics, config=config,
                                       data_counts=data_counts, activate=activate)


def activate(store: Store, ref: int | str, device: str = "auto") -> ModelVersion:
    """Make a version active after checking its folder (a truncated or NaN model is refused in one line) and
    running it on the reference clip (`training.gate.check_outputs`): the one gate of the CLI, the app's Models
    panel and Retrain dialog, and roll back."""
    mv = store.models.model_version(ref)
    check_model_folder(mv.folder)
    check_outputs(mv.folder, device)
    store.models.activate_model(mv.id)
    return store.models.model_version(mv.id)


def rollback(store: Store, device: str = "auto") -> ModelVersion:
    """Make the active model's parent active again (through the same gate)."""
    active = store.models.active_model()
    if active is None or active.parent_id is None:
        raise ValueError("nothing to roll back to: the active model has no parent")
    return activate(store, active.parent_id, device)


def discard_folder(folder: Path) -> None:
    """Remove a folder this run created (never call it on a name another run may own)."""
    shutil.rmtree(folder, ignore_errors=True)
