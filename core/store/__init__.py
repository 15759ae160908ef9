"""The corpus store: SQLAlchemy 2 over SQLite by default, any SQLAlchemy URL for a team."""

from core.store.models import (
    AudioFile,
    Corpus,
    Job,
    Label,
    ModelVersion,
    Prediction,
    Segment,
    Word,
)
from core.store.store import Store, StoreError

__all__ = [
    "AudioFile", "Corpus", "Job", "Label", "ModelVersion", "Prediction", "Segment", "Store",
    "StoreError", "Word",
]
