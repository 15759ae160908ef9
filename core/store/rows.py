"""Plain rows the store hands out for segments, labels and predictions: no ORM objects leave the store for these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from emotrace.core.vocab import LabelOrigin, RaterKind

Values = tuple[float | None, float | None, float | None]  # A/V/D in core.vocab.DIMENSIONS order
Origins = tuple[LabelOrigin | None, LabelOrigin | None, LabelOrigin | None]
"""Per dimension, whose value it is (issue 24): a label the person typed in part and left at the model's value in
part is `manual` where they typed and `accepted` where they did not; None exactly where the value is None."""
NO_ORIGINS: Origins = (None, None, None)


@dataclass(frozen=True)
class SegmentRow:
    id: int
    file_id: int
    start: float
    end: float
    speaker: str | None
    split: str | None
    origin: str
    text: str
    superseded_at: datetime | None = None


@dataclass(frozen=True)
class SegmentSpec:
    """A segment to add."""

    start: float
    end: float
    origin: str
    text: str = ""
    speaker: str | None = None
    split: str | None = None
    word_ids: tuple[int, ...] = ()
    id: int | None = None  # set only to bring a removed segment back as itself (an undo)


@dataclass(frozen=True)
class LabelRecord:
    """One row of a segment's label history, retractions included."""

    id: int
    segment_id: int
    annotator: str
    values: Values
    category: str | None
    note: str | None
    origin: LabelOrigin
    retracts_id: int | None
    created_at: datetime
    origins: Origins = NO_ORIGINS

    @property
    def rater_kind(self) -> RaterKind:
        return self.origin.rater_kind


@dataclass(frozen=True)
class CurrentLabel:
    """An annotator's standing judgement of a segment: their newest row that no retraction withdrew."""

    segment_id: int
    annotator: str
    label_id: int
    values: Values
    category: str | None
    note: str | None
    origin: LabelOrigin
    origins: Origins = NO_ORIGINS

    @property
    def rater_kind(self) -> RaterKind:
        return self.origin.rater_kind

    @property
    def complete(self) -> bool:
        return None not in self.values

    def human_part(self) -> CurrentLabel | None:
        """This label without its accepted dimensions (the model's values the person let stand): what agreement,
        training and a person's export tiers read. None when nothing human is left. A consensus stays whole."""
        if self.origin is LabelOrigin.COMPUTED:
            return self
        keep = [o is not None and o.rater_kind is RaterKind.HUMAN for o in self.origins]
        if all(keep):
            return self
        return self._only(keep, self.origin, self.category, self.note) if any(keep) else None

    def accepted_part(self) -> CurrentLabel | None:
        """Its accepted dimensions alone, as an `accepted` label (what an export writes under the model-assisted
        rater); None when none is accepted."""
        keep = [o is LabelOrigin.ACCEPTED for o in self.origins]
        return self._only(keep, LabelOrigin.ACCEPTED, None, None) if any(keep) else None

    def _only(self, keep, origin, category, note) -> CurrentLabel:
        return CurrentLabel(self.segment_id, self.annotator, self.label_id,
                            tuple(v if k else None for v, k in zip(self.values, keep)), category, note, origin,
                            tuple(o if k else None for o, k in zip(self.origins, keep)))


@dataclass(frozen=True)
class SegmentLabel:
    """One value per segment from its annotators' current labels, by a core.vocab.ConsensusRule."""

    segment_id: int
    values: Values
    annotators: tuple[str, ...]
    category: str | None
    origin: LabelOrigin  # of the newest label that went into it
    label_id: int  # the newest label that went into it
    origins: Origins = NO_ORIGINS  # per dimension, whose value it is (None where open or of mixed origins)

    @property
    def complete(self) -> bool:
        return None not in self.values


@dataclass(frozen=True)
class LabelSpec:
    """A label to import onto a segment found (or made) by its bounds."""

    file_id: int
    start: float
    end: float
    annotator: str
    values: Values
    category: str | None = None
    speaker: str | None = None
    split: str | None = None
    origin: LabelOrigin = LabelOrigin.IMPORTED


@dataclass(frozen=True)
class PredictionRow:
    segment_id: int | None
    kind: str
    start: float
    end: float
    values: Values  # None values with a flag: the span could not be predicted
    audio_only: list | None = None
    text_only: list | None = None
    uncertainty: float | None = None
    flag: str | None = None
    trust: float | None = None  # distance from the model's training data over its 95% radius: > 1 is outside


@dataclass(frozen=True)
class SupersedeResult:
    """What replacing a file's units did to them: the summary a command prints."""

    removed: int = 0  # unlabelled units dropped
    kept_labelled: int = 0  # labelled units kept beside the new ones, marked superseded
    labels_kept: int = 0
    no_words: tuple[tuple[float, float], ...] = ()  # speech the ASR left without words, made segments anyway
    assignments_moved: int = 0  # annotation-job assignments the new units took over from the old ones


@dataclass(frozen=True)
class SegmentEdit:
    """What one split, merge or resize did, enough to undo it: `store.segments.edit_segments(**edit.inverse())`."""

    file_id: int
    added: tuple[int, ...] = ()  # the new segments
    removed: tuple[SegmentSpec, ...] = ()  # unlabelled segments that went (their bounds and words come back on undo)
    superseded: tuple[int, ...] = ()  # labelled segments kept with every label, marked superseded
    revived: tuple[int, ...] = ()  # superseded segments brought back (an undo)

    def inverse(self) -> dict:
        return dict(file_id=self.file_id, remove=self.added + self.revived, add=self.removed, revive=self.superseded)


@dataclass(frozen=True)
class WordEditRecord:
    """One hand correction of a word: who, when, and the values before and after."""

    id: int
    word_id: int
    editor: str
    old: tuple[str, float, float]  # text, start, end before
    new: tuple[str, float, float]
    created_at: datetime
