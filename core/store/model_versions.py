"""Model versions: the registry's rows (training/registry.py makes and checks their folders) and the active one."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from emotrace.core.store.database import Repository, StoreError
from emotrace.core.store.models import ModelVersion


class ModelRepository(Repository):
    """Model versions, their lineage and which one is active."""

    def active_model(self) -> ModelVersion | None:
        with self._db.session() as s:
            return s.scalar(select(ModelVersion).where(ModelVersion.active.is_(True)))

    def model_versions(self) -> list[ModelVersion]:
        with self._db.session() as s:
            return list(s.scalars(select(ModelVersion).order_by(ModelVersion.id)))

    def model_version(self, ref: int | str) -> ModelVersion:
        with self._db.session() as s:
            if isinstance(ref, int) or str(ref).isdigit():
                mv = s.get(ModelVersion, int(ref))
            else:
                mv = s.scalar(select(ModelVersion).where(ModelVersion.name == ref).order_by(ModelVersion.id.desc()))
            if mv is None:
                raise StoreError(f"No model version {ref!r}; `emotrace models list` shows them")
            return mv

    def activate_model(self, model_version_id: int) -> None:
        with self._db.session() as s:
            target = s.get(ModelVersion, model_version_id)
            if target is None:
                raise StoreError(f"No model version {model_version_id}")
            for mv in s.scalars(select(ModelVersion).where(ModelVersion.active.is_(True))):
                mv.active = False
            target.active = True
        self._db.emit("model_activated", model_version_id=model_version_id)

    def register_model(self, *, name: str, folder: str | Path, parent_id: int | None, metrics: dict, config: dict,
                       data_counts: dict, activate: bool) -> ModelVersion:
        """A new version (committed, inactive), then activated when asked; `model_registered` fires after both.
        The caller checks the folder first (training.registry.register): a broken folder is never registered."""
        with self._db.session() as s:
            mv = ModelVersion(name=name, folder=str(folder), parent_id=parent_id, metrics=metrics, config=config,
                              data_counts=data_counts, active=False)
            s.add(mv)
            s.flush()
            mv_id = mv.id
        if activate:
            self.activate_model(mv_id)
        self._db.emit("model_registered", model_version_id=mv_id)
        return self.model_version(mv_id)
