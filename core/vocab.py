"""EmoTrace's one vocabulary: the dimensions, the rating scale, and where a label or a segment came from.

Every module names these things through this file, and the store's check constraints (migration 0003) enforce
the same sets, so a spelling written twice cannot drift. audformat's idea: a scheme knows its scale, a rater
knows whether it is a human or a machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

DIMENSIONS: tuple[str, str, str] = ("arousal", "valence", "dominance")
"""A/V/D in this order everywhere: arrays `[..., 3]`, CSV columns, model outputs."""

MSP_DIMENSION_COLUMNS: dict[str, str] = {"arousal": "EmoAct", "valence": "EmoVal", "dominance": "EmoDom"}
"""MSP-Podcast's column for each dimension (activation = arousal)."""

MSP_HEADER: list[str] = ["FileName", "EmoClass", *MSP_DIMENSION_COLUMNS.values(), "SpkrID", "Gender", "Split_Set"]
"""The columns of MSP-Podcast's `labels_consensus.csv`."""


@dataclass(frozen=True)
class Scale:
    """A bounded rating scale. MSP-Podcast rates 1-7 with 4 as neutral; exports may want 0..1 or -1..1."""

    low: float = 1.0
    high: float = 7.0

    @property
    def neutral(self) -> float:
        return (self.low + self.high) / 2

    def contains(self, value: float) -> bool:
        return bool(np.isfinite(value)) and self.low <= value <= self.high

    def check(self, name: str, value: float | None) -> float | None:
        """The value itself, or a ValueError that names the dimension; None passes (a dimension left open)."""
        if value is None:
            return None
        value = float(value)
        if not self.contains(value):
            raise ValueError(f"{name} {value} is off the {self.low:g}-{self.high:g} scale")
        return value

    def to_unit(self, value):
        """Onto 0..1 (low -> 0, high -> 1)."""
        return (np.asarray(value, dtype=float) - self.low) / (self.high - self.low)

    def from_unit(self, value):
        return self.low + np.asarray(value, dtype=float) * (self.high - self.low)

    def to_signed(self, value):
        """Onto -1..1 around the neutral point (MSP-Conversation and most trace tools use a signed scale)."""
        return (np.asarray(value, dtype=float) - self.neutral) / ((self.high - self.low) / 2)

    def from_signed(self, value):
        return self.neutral + np.asarray(value, dtype=float) * ((self.high - self.low) / 2)


SCALE = Scale()

SCALES: dict[str, tuple[float, float]] = {
    "1-7": (SCALE.low, SCALE.high),  # MSP-Podcast's own
    "unit": (0.0, 1.0),
    "signed": (-1.0, 1.0),  # around neutral: MSP-Conversation and most trace tools
    "carma": (-100.0, 100.0),  # CARMA's default rating range (continuous traces)
}
"""Every named scale a value may be written on or read from; each maps linearly onto SCALE (low->low, high->high)."""

EXPORT_SCALES: tuple[str, ...] = ("1-7", "unit", "signed")
"""The scales of label and trajectory tables (CSV, Parquet, the notebook API); traces also know `carma`."""


def _bounds(scale: str) -> tuple[float, float]:
    try:
        return SCALES[scale]
    except KeyError:
        raise ValueError(f"unknown scale {scale!r}; use one of {', '.join(SCALES)}") from None


def to_scale(values, scale: str):
    """1-7 values (scalars or arrays) onto a named scale."""
    low, high = _bounds(scale)
    return low + SCALE.to_unit(values) * (high - low)


def from_scale(values, scale: str):
    """Values on a named scale back onto 1-7."""
    low, high = _bounds(scale)
    return SCALE.from_unit((np.asarray(values, dtype=float) - low) / (high - low))


def rescale(value: float | None, scale: str) -> float | None:
    """One 1-7 value onto a named scale for a table (None passes: a dimension left open)."""
    if value is None or scale == "1-7":
        return value
    return round(float(to_scale(value, scale)), 9)  # 9 decimals: `unscale` gives the 1-7 value back exactly


def unscale(value: float, scale: str) -> float:
    """One value of a table on a named scale back onto 1-7 (to 6 decimals: a round trip through `rescale` is the
    identity, never a new label row that differs in the 16th digit)."""
    return float(value) if scale == "1-7" else round(float(from_scale(value, scale)), 6)


class RaterKind(StrEnum):
    """Whose judgement a label is: a person's, a model output that a person only accepted, or a value computed
    from other raters (a consensus). Only human judgements enter agreement statistics and consensus."""

    HUMAN = "human"
    MODEL_ASSISTED = "model_assisted"
    COMPUTED = "computed"


class LabelOrigin(StrEnum):
    """How a label row came to be. Rows are never changed; a retraction is a row of its own."""

    IMPORTED = "imported"  # read from a labels CSV
    MANUAL = "manual"  # an annotator's own values (a save, or redo of one)
    ACCEPTED = "accepted"  # the model's prediction, accepted as it was
    RETRACTION = "retraction"  # withdraws one earlier row of the same annotator (what undo writes)
    TRACE = "trace"  # the mean of an annotator's continuous trace over the segment (rater "<name> (trace)")
    COMPUTED = "computed"  # a consensus computed from the raters' current labels (stats.consensus), never typed

    @property
    def rater_kind(self) -> RaterKind:
        if self is LabelOrigin.ACCEPTED:
            return RaterKind.MODEL_ASSISTED
        return RaterKind.COMPUTED if self is LabelOrigin.COMPUTED else RaterKind.HUMAN


ACCEPTED_SUFFIX = " (accepted)"
"""An export writes a person's accepted dimensions (the model's values they let stand) under `<name> (accepted)`,
a model-assisted rater beside their human tiers; an import never reads such a rater back as a judgement."""


def accepted_rater(annotator: str) -> str:
    return f"{annotator}{ACCEPTED_SUFFIX}"


def is_accepted_rater(name: str) -> bool:
    return name.strip().endswith(ACCEPTED_SUFFIX)


class SegmentOrigin(StrEnum):
    IMPORTED = "imported"  # bounds from a labels CSV
    ASR = "asr"  # an utterance cut from the transcript
    MANUAL = "manual"  # drawn by an annotator


class FileStatus(StrEnum):
    OK = "ok"
    ERROR = "error"  # could not be decoded; the reason is kept
    REPLACED = "replaced"  # new content appeared at its path; its labelled segments stay with this row


class PredictionKind(StrEnum):
    SEGMENT = "segment"
    WINDOW = "window"


class PredictionFlag(StrEnum):
    """Why a prediction row is not an ordinary one."""

    NO_AUDIO = "no_audio"  # no decodable audio under the span: values are None, never made up
    PARTIAL = "partial"  # streamed while its file is analysed; the file's final rows replace it in one transaction


class TurnSource(StrEnum):
    """Where a file's speaker turns came from."""

    DIARIZATION = "diarization"
    RTTM = "rttm"  # imported from an RTTM file
    MANUAL = "manual"  # an annotator's correction (reassign, merge, split, rename, undo)


class ConsensusRule(StrEnum):
    """One value per segment from its annotators' current labels."""

    LATEST = "latest"  # the newest current label of any annotator: a correction supersedes older labels
    MEAN = "mean"  # MSP-Podcast's consensus: the mean over annotators, per dimension


class ConsensusMethod(StrEnum):
    """How a stored consensus is computed from raters (emotrace.core.stats.consensus); each is its own annotator."""

    MEAN = "mean"  # the plain mean of the raters (MSP-Podcast's labels_consensus.csv)
    EWE = "ewe"  # evaluator weighted estimator (Grimm & Kroschel 2005): raters weighted by their reliability

    @property
    def annotator(self) -> str:
        """The annotator name its labels are stored under; the prefix cannot be typed as a rater name."""
        return f"{CONSENSUS_PREFIX}{self.value}"


CONSENSUS_PREFIX = "consensus:"
"""Annotators named so are computed consensus (origin `computed`); `record_label` refuses them for people."""


def sql_in(values) -> str:
    """`'a', 'b'` for a check constraint over an enum's values."""
    return ", ".join(f"'{v.value if hasattr(v, 'value') else v}'" for v in values)


# How an annotation job picks its segments: a random sample, one split, or the review queue's order.
JOB_SELECTIONS: tuple[str, ...] = ("sample", "split", "review")
