"""The corpus store: SQLAlchemy 2 over SQLite by default, any SQLAlchemy URL for a team."""

from emotrace.core.store.annotations import LabelError
from emotrace.core.store.models import (
    AudioFile,
    Corpus,
    Job,
    Label,
    ModelVersion,
    Prediction,
    Rater,
    RaterWeight,
    Segment,
    Word,
)
from emotrace.core.store.rows import (
    CurrentLabel,
    LabelRecord,
    LabelSpec,
    PredictionRow,
    SegmentEdit,
    SegmentLabel,
    SegmentRow,
    SegmentSpec,
    SupersedeResult,
    WordEditRecord,
)
from emotrace.core.store.speakers import TurnError, TurnRevision, TurnRow
from emotrace.core.store.store import Store, StoreError

__all__ = [
    "AudioFile", "Corpus", "CurrentLabel", "Job", "Label", "LabelError", "LabelRecord", "LabelSpec", "ModelVersion",
    "Prediction", "PredictionRow", "Rater", "RaterWeight", "Segment", "SegmentEdit", "SegmentLabel", "SegmentRow",
    "SegmentSpec", "Store", "StoreError", "SupersedeResult", "TurnError", "TurnRevision", "TurnRow", "Word",
    "WordEditRecord",
]
