"""Model versions: the registry's rows (training/registry.py makes and checks their folders) and the active one."""

from __future__ import annotations

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

