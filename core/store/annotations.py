"""The rules of labels and segments, apart from the repositories that apply them (labels.py, segments.py).

The rule of a current label lives here and only here: per segment and annotator, the newest row that is not a
retraction and that no retraction withdrew. Every consumer (file view, review queue, agreement, exports,
trainer, editor) asks `LabelRepository.current_labels` or `segment_labels`, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from operator import attrgetter

import numpy as np
from sqlalchemy import delete, func, select, update

from emotrace.core.store.models import Label, Prediction, Segment, Word
from emotrace.core.store.rows import (
    CurrentLabel,
    LabelRecord,
    SegmentLabel,
)
from emotrace.core.vocab import CONSENSUS_PREFIX, DIMENSIONS, ConsensusRule, LabelOrigin

_LABEL_COLUMNS = (Label.id, Label.segment_id, Label.annotator, Label.arousal, Label.valence, Label.dominance,
                  Label.category, Label.note, Label.origin, Label.retracts_id, Label.created_at,
                  Label.arousal_origin, Label.valence_origin, Label.dominance_origin)


CONSENSUS_MEAN = f"{CONSENSUS_PREFIX}mean"  # core.vocab.ConsensusMethod.MEAN.annotator


class LabelError(ValueError):
    """A label write that the domain refuses (off the scale, nothing to retract, another annotator's row)."""


_ORIGINS = {o.value: o for o in LabelOrigin}  # a dict lookup, not an Enum call per row (10k rows per file view)
_BY_SEGMENT_ANNOTATOR = attrgetter("segment_id", "annotator")


def _record(row) -> LabelRecord:
    lid, sid, ann, a, v, d, cat, note, origin, retracts, created, ao, vo, do = row
    return LabelRecord(lid, sid, ann, (a, v, d), cat, note, _ORIGINS[origin], retracts, created,
                       (_ORIGINS.get(ao), _ORIGINS.get(vo), _ORIGINS.get(do)))


def label_origins(values, origin: LabelOrigin, origins=None) -> tuple:
    """Per-dimension origins of a row to write: the row's origin for each value unless given; None where the value
    is None (the store's check constraint holds the same rule). A dimension may be `accepted` in a `manual` row."""
    if origins is None:
        return tuple(None if v is None else origin for v in values)
    origins = tuple(None if o is None else LabelOrigin(o) for o in origins)
    if len(origins) != len(DIMENSIONS):
        raise LabelError(f"a label has {len(DIMENSIONS)} dimension origins, not {len(origins)}")
    for name, v, o in zip(DIMENSIONS, values, origins):
        if (v is None) != (o is None):
            raise LabelError(f"{name}: a value needs an origin and an open dimension has none")
        if o in (LabelOrigin.RETRACTION, LabelOrigin.COMPUTED) and origin is not o:
            raise LabelError(f"{name}: a dimension cannot be {o.value} in a {origin.value} row")
    return origins


def current_from_history(records: Iterable[LabelRecord]) -> list[CurrentLabel]:
    """THE rule, on time-ordered rows: per (segment, annotator) the newest row not withdrawn by a retraction."""
    records = list(records)
    withdrawn = {r.retracts_id for r in records if r.origin is LabelOrigin.RETRACTION and r.retracts_id is not None}
    current: dict[tuple[int, str], CurrentLabel] = {}
    for r in records:
        if r.origin is LabelOrigin.RETRACTION or r.id in withdrawn:
            continue
        current[(r.segment_id, r.annotator)] = CurrentLabel(r.segment_id, r.annotator, r.id, r.values, r.category,
                                                            r.note, r.origin, r.origins)
    return list(current.values())


def combine(labels: Sequence[CurrentLabel], rule: ConsensusRule | str = ConsensusRule.LATEST) -> SegmentLabel:
    """One segment's value from its annotators' current labels."""
    rule = ConsensusRule(rule)
    newest = max(labels, key=lambda c: c.label_id)
    annotators = tuple(sorted(c.annotator for c in labels))
    if rule is ConsensusRule.LATEST:  # per dimension: a label that leaves a dimension open does not hide it
        values, origins, used = [], [], set()
        for i in range(len(DIMENSIONS)):
            having = [c for c in labels if c.values[i] is not None]
            pick = max(having, key=lambda c: c.label_id) if having else None
            values.append(pick.values[i] if pick else None)
            origins.append(pick.origins[i] if pick else None)
            if pick:
                used.add(pick.annotator)
        return SegmentLabel(newest.segment_id, tuple(values), tuple(sorted(used)), newest.category, newest.origin,
                            newest.label_id, tuple(origins))
    values, origins = [], []
    for i in range(len(DIMENSIONS)):
        present = [c for c in labels if c.values[i] is not None]
        values.append(float(np.mean([c.values[i] for c in present])) if present else None)
        kinds = {c.origins[i] for c in present}
        origins.append(kinds.pop() if len(kinds) == 1 else None)
    return SegmentLabel(newest.segment_id, tuple(values), annotators, newest.category, newest.origin, newest.label_id,
                        tuple(origins))


CORRECTIONS = (LabelOrigin.MANUAL, LabelOrigin.ACCEPTED, LabelOrigin.TRACE)  # judgements made in the app


def standing_label(labels: Sequence[CurrentLabel]) -> SegmentLabel | None:
    """ConsensusRule.LATEST over one segment's current labels, computed consensus rows included: a correction
    made in the app (manual or accepted) supersedes; without one, the raters' mean consensus stands for imported
    raters; otherwise the newest label. Per dimension: a correction that leaves a dimension open (a trace of
    arousal alone) does not hide the other dimensions. The file view and `segment_labels` both use this."""
    people = [c for c in labels if c.origin is not LabelOrigin.COMPUTED]
    corrections = [c for c in people if c.origin in CORRECTIONS]
    consensus = [c for c in labels if c.annotator == CONSENSUS_MEAN]
    base = consensus or people
    if not corrections:
        return combine(base) if base else None
    primary = combine(corrections)
    if None not in primary.values or not base:
        return primary
    fallback = combine(base)  # a dimension the corrections leave open keeps the raters' (or newest) value
    values = tuple(p if p is not None else f for p, f in zip(primary.values, fallback.values))
    origins = tuple(po if p is not None else fo for p, po, fo in zip(primary.values, primary.origins, fallback.origins))
    return SegmentLabel(primary.segment_id, values, tuple(sorted(set(primary.annotators) | set(fallback.annotators))),
                        primary.category, primary.origin, primary.label_id, origins)


def retire_segments(s, segment_ids: Sequence[int]) -> tuple[list[int], dict[int, int]]:
    """THE rule for taking segments away, in the caller's transaction: an unlabelled one goes (its words are
    unlinked, its predictions dropped); a labelled one stays with every label, marked superseded. Returns the
    dropped ids and {kept id: label rows}. A label row, retractions included, counts: its history is kept."""
    ids = list(segment_ids)
    labelled = dict(s.execute(select(Label.segment_id, func.count(Label.id)).where(Label.segment_id.in_(ids))
                              .group_by(Label.segment_id)).all()) if ids else {}
    drop = [sid for sid in ids if sid not in labelled]
    if drop:
        s.execute(update(Word).where(Word.segment_id.in_(drop)).values(segment_id=None))
        s.execute(delete(Prediction).where(Prediction.segment_id.in_(drop)))
        s.execute(delete(Segment).where(Segment.id.in_(drop)))
    if labelled:
        s.execute(update(Segment).where(Segment.id.in_(list(labelled))).values(superseded_at=datetime.now(UTC)))
    return drop, labelled
