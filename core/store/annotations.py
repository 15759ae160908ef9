"""The one repository of segments, labels and predictions. No module outside core/store writes SQL for them.

The rule of a current label lives here and only here: per segment and annotator, the newest row that is not a
retraction and that no retraction withdrew. Every consumer (file view, review queue, agreement, exports,
trainer, editor) asks `current_labels` or `segment_labels`, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from operator import attrgetter

import numpy as np
from sqlalchemy import delete, func, select, update

from emotrace.core.store.models import AudioFile, Label, Prediction, Segment, Word
from emotrace.core.store.rows import (
    CurrentLabel,
    LabelRecord,
    LabelSpec,
    PredictionRow,
    SegmentLabel,
    SegmentRow,
    SegmentSpec,
    SupersedeResult,
)
from emotrace.core.vocab import CONSENSUS_PREFIX, DIMENSIONS, SCALE, ConsensusRule, LabelOrigin, PredictionKind

_LABEL_COLUMNS = (Label.id, Label.segment_id, Label.annotator, Label.arousal, Label.valence, Label.dominance,
                  Label.category, Label.note, Label.origin, Label.retracts_id, Label.created_at)
_SEGMENT_COLUMNS = (Segment.id, Segment.file_id, Segment.start, Segment.end, Segment.speaker, Segment.split,
                    Segment.origin, Segment.text, Segment.superseded_at)


CONSENSUS_MEAN = f"{CONSENSUS_PREFIX}mean"  # core.vocab.ConsensusMethod.MEAN.annotator


class LabelError(ValueError):
    """A label write that the domain refuses (off the scale, nothing to retract, another annotator's row)."""


MATCH_TOLERANCE_S = 1e-3  # ELAN counts whole milliseconds: its bounds find their segment again within 1 ms
_ORIGINS = {o.value: o for o in LabelOrigin}  # a dict lookup, not an Enum call per row (10k rows per file view)
_BY_SEGMENT_ANNOTATOR = attrgetter("segment_id", "annotator")


def _record(row) -> LabelRecord:
    lid, sid, ann, a, v, d, cat, note, origin, retracts, created = row
    return LabelRecord(lid, sid, ann, (a, v, d), cat, note, _ORIGINS[origin], retracts, created)


def _segment_row(row) -> SegmentRow:
    sid, fid, start, end, speaker, split, origin, text, superseded = row
    return SegmentRow(sid, fid, start, end, speaker, split, origin, text or "", superseded)


def current_from_history(records: Iterable[LabelRecord]) -> list[CurrentLabel]:
    """THE rule, on time-ordered rows: per (segment, annotator) the newest row not withdrawn by a retraction."""
    records = list(records)
    withdrawn = {r.retracts_id for r in records if r.origin is LabelOrigin.RETRACTION and r.retracts_id is not None}
    current: dict[tuple[int, str], CurrentLabel] = {}
    for r in records:
        if r.origin is LabelOrigin.RETRACTION or r.id in withdrawn:
            continue
        current[(r.segment_id, r.annotator)] = CurrentLabel(r.segment_id, r.annotator, r.id, r.values, r.category,
                                                            r.note, r.origin)
    return list(current.values())


def combine(labels: Sequence[CurrentLabel], rule: ConsensusRule | str = ConsensusRule.LATEST) -> SegmentLabel:
    """One segment's value from its annotators' current labels."""
    rule = ConsensusRule(rule)
    newest = max(labels, key=lambda c: c.label_id)
    annotators = tuple(sorted(c.annotator for c in labels))
    if rule is ConsensusRule.LATEST:  # per dimension: a label that leaves a dimension open does not hide it
        values, used = [], set()
        for i in range(len(DIMENSIONS)):
            having = [c for c in labels if c.values[i] is not None]
            pick = max(having, key=lambda c: c.label_id) if having else None
            values.append(pick.values[i] if pick else None)
            if pick:
                used.add(pick.annotator)
        return SegmentLabel(newest.segment_id, tuple(values), tuple(sorted(used)), newest.category, newest.origin,
                            newest.label_id)
    values = []
    for i in range(len(DIMENSIONS)):
        present = [c.values[i] for c in labels if c.values[i] is not None]
        values.append(float(np.mean(present)) if present else None)
    return SegmentLabel(newest.segment_id, tuple(values), annotators, newest.category, newest.origin, newest.label_id)


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
    return SegmentLabel(primary.segment_id, values, tuple(sorted(set(primary.annotators) | set(fallback.annotators))),
                        primary.category, primary.origin, primary.label_id)


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


class AnnotationRepository:
    """Segments, labels and predictions; mixed into `Store`, which provides `session()` and `emit()`."""

    # -- segments -----------------------------------------------------------------------------------
    def segments(self, file_id: int, *, include_superseded: bool = True) -> list[SegmentRow]:
        """A file's segments by start time. Superseded ones are all labelled (unlabelled ones are removed)."""
        with self.session() as s:
            q = select(*_SEGMENT_COLUMNS).where(Segment.file_id == file_id)
            if not include_superseded:
                q = q.where(Segment.superseded_at.is_(None))
            return [_segment_row(r) for r in s.execute(q.order_by(Segment.start, Segment.id))]

    def corpus_segments(self, corpus_id: int) -> list[SegmentRow]:
        with self.session() as s:
            q = (select(*_SEGMENT_COLUMNS).join(AudioFile, AudioFile.id == Segment.file_id)
                 .where(AudioFile.corpus_id == corpus_id).order_by(AudioFile.path, Segment.start, Segment.id))
            return [_segment_row(r) for r in s.execute(q)]

    def segment(self, segment_id: int) -> SegmentRow:
        with self.session() as s:
            row = s.execute(select(*_SEGMENT_COLUMNS).where(Segment.id == segment_id)).first()
        if row is None:
            raise LabelError(f"No segment with id {segment_id}")
        return _segment_row(row)

    def add_segments(self, file_id: int, specs: Sequence[SegmentSpec]) -> list[int]:
        """New segments of a file, with their words linked; one commit."""
        ids = []
        with self.session() as s:
            for spec in specs:
                seg = Segment(file_id=file_id, start=spec.start, end=spec.end, speaker=spec.speaker, split=spec.split,
                              origin=str(spec.origin), text=spec.text)
                s.add(seg)
                s.flush()
                if spec.word_ids:
                    s.execute(update(Word).where(Word.id.in_(spec.word_ids)).values(segment_id=seg.id))
                ids.append(seg.id)
        self.emit("segments_changed", file_id=file_id)
        return ids

    def set_segment_texts(self, file_id: int, texts: dict[int, tuple[str, Sequence[int]]]) -> None:
        """Give kept segments their words: segment id -> (text, word ids)."""
        with self.session() as s:
            for sid, (text, word_ids) in texts.items():
                s.execute(update(Segment).where(Segment.id == sid, Segment.file_id == file_id).values(text=text))
                if word_ids:
                    s.execute(update(Word).where(Word.id.in_(list(word_ids))).values(segment_id=sid))
        self.emit("segments_changed", file_id=file_id)

    def supersede_segments(self, file_id: int, origin: str) -> SupersedeResult:
        """Make way for new units of `origin`: unlabelled ones go (with their predictions); labelled ones stay,
        marked superseded, with every label and its history, still shown, exported and trained on."""
        with self.session() as s:
            rows = s.execute(select(Segment.id).where(Segment.file_id == file_id, Segment.origin == str(origin),
                                                      Segment.superseded_at.is_(None))).scalars().all()
            dropped, labelled = retire_segments(s, rows)
        self.emit("segments_changed", file_id=file_id)
        return SupersedeResult(removed=len(dropped), kept_labelled=len(labelled), labels_kept=sum(labelled.values()))

    # -- labels -------------------------------------------------------------------------------------
    def record_label(
        self, segment_id: int, *, annotator: str, arousal: float | None, valence: float | None,
        dominance: float | None, category: str | None = None, note: str | None = None,
        origin: LabelOrigin | str = LabelOrigin.MANUAL,
    ) -> LabelRecord:
        """Append a judgement and commit before returning; the `label_added` event fires after the commit."""
        origin = LabelOrigin(origin)
        if origin is LabelOrigin.RETRACTION:
            raise LabelError("a retraction is written by retract_label")
        if origin is LabelOrigin.COMPUTED or annotator.strip().startswith(CONSENSUS_PREFIX):
            raise LabelError(f"{annotator!r}: a computed consensus is written by compute_consensus, not by hand")
        values = tuple(SCALE.check(n, x) for n, x in zip(DIMENSIONS, (arousal, valence, dominance)))
        if values == (None, None, None):
            raise LabelError("a label needs at least one of arousal, valence, dominance (undo is retract_label)")
        if not annotator or not annotator.strip():
            raise LabelError("a label needs an annotator")
        with self.session() as s:
            if s.get(Segment, segment_id) is None:
                raise LabelError(f"No segment with id {segment_id}")
            label = Label(segment_id=segment_id, annotator=annotator.strip(), arousal=values[0], valence=values[1],
                          dominance=values[2], category=category or None, note=note or None, origin=origin.value)
            s.add(label)
            s.flush()
            record = _record(s.execute(select(*_LABEL_COLUMNS).where(Label.id == label.id)).one())
        self._follow_consensus([segment_id])  # an accepted prediction takes the annotator out of the raters
        self.emit("label_added", segment_id=segment_id, label_id=record.id)
        return record

    def retract_label(self, label_id: int, *, annotator: str) -> LabelRecord:
        """Withdraw one of the annotator's own standing rows (what undo writes). The row itself stays."""
        with self.session() as s:
            target = s.get(Label, label_id)
            if target is None:
                raise LabelError(f"No label with id {label_id}")
            if target.origin == LabelOrigin.RETRACTION:
                raise LabelError("a retraction cannot itself be retracted; record the label again")
            if target.annotator != annotator:
                raise LabelError(f"label {label_id} is {target.annotator}'s; only they can retract it")
            if target.origin == LabelOrigin.COMPUTED:
                raise LabelError("a computed consensus follows its raters; retract a rater's label instead")
            if s.scalar(select(Label.id).where(Label.retracts_id == label_id)) is not None:
                raise LabelError(f"label {label_id} is already retracted")
            row = Label(segment_id=target.segment_id, annotator=annotator, arousal=None, valence=None, dominance=None,
                        origin=LabelOrigin.RETRACTION.value, retracts_id=label_id)
            s.add(row)
            s.flush()
            record = _record(s.execute(select(*_LABEL_COLUMNS).where(Label.id == row.id)).one())
        self._follow_consensus([record.segment_id])
        self.emit("label_added", segment_id=record.segment_id, label_id=record.id)
        return record

    def label_count(self, *, file_id: int) -> int:
        """Label rows (history included) on a file's segments: what a command must not take away."""
        with self.session() as s:
            return s.scalar(select(func.count(Label.id)).join(Segment, Segment.id == Label.segment_id)
                            .where(Segment.file_id == file_id)) or 0

    def label_history(self, segment_id: int) -> list[LabelRecord]:
        with self.session() as s:
            q = select(*_LABEL_COLUMNS).where(Label.segment_id == segment_id).order_by(Label.created_at, Label.id)
            return [_record(r) for r in s.execute(q)]

    def _label_records(self, *, corpus_id: int | None = None, file_id: int | None = None,
                       segment_ids: Sequence[int] | None = None, annotator: str | None = None) -> list[LabelRecord]:
        q = select(*_LABEL_COLUMNS)
        if corpus_id is not None or file_id is not None:
            q = q.join(Segment, Segment.id == Label.segment_id)
        if corpus_id is not None:
            q = q.join(AudioFile, AudioFile.id == Segment.file_id).where(AudioFile.corpus_id == corpus_id)
        if file_id is not None:
            q = q.where(Segment.file_id == file_id)
        if segment_ids is not None:
            q = q.where(Label.segment_id.in_(list(segment_ids)))
        if annotator is not None:
            q = q.where(Label.annotator == annotator)
        with self.session() as s:
            return [_record(r) for r in s.execute(q.order_by(Label.created_at, Label.id))]

    def current_labels(self, *, corpus_id: int | None = None, file_id: int | None = None,
                       segment_ids: Sequence[int] | None = None, annotator: str | None = None,
                       include_accepted: bool = True, include_computed: bool = False,
                       origins: Sequence[str] | None = None) -> list[CurrentLabel]:
        """Each annotator's standing label per segment. Without accepted predictions, an annotator whose
        standing label is an accepted prediction has no human judgement of that segment. A computed consensus
        (`consensus:*`) is left out unless asked for by name or with `include_computed`: it restates the
        raters, so counting it beside them (in LATEST, in a mean) would count them twice. `origins` keeps only
        standing labels of those origins (e.g. trace means, or everything but them)."""
        current = current_from_history(self._label_records(corpus_id=corpus_id, file_id=file_id,
                                                           segment_ids=segment_ids, annotator=annotator))
        if not include_accepted:
            current = [c for c in current if c.origin is not LabelOrigin.ACCEPTED]
        if not include_computed and not (annotator or "").startswith(CONSENSUS_PREFIX):
            current = [c for c in current if c.origin is not LabelOrigin.COMPUTED]
        if origins is not None:
            keep = {LabelOrigin(o) for o in origins} | ({LabelOrigin.COMPUTED} if include_computed else set())
            current = [c for c in current if c.origin in keep]
        return sorted(current, key=_BY_SEGMENT_ANNOTATOR)

    def segment_labels(self, *, corpus_id: int | None = None, file_id: int | None = None,
                       segment_ids: Sequence[int] | None = None, annotator: str | None = None,
                       rule: ConsensusRule | str = ConsensusRule.LATEST, include_accepted: bool = True,
                       include_computed: bool = False, origins: Sequence[str] | None = None
                       ) -> dict[int, SegmentLabel]:
        """One value per segment (by `rule`) from the current labels above.

        LATEST on a segment whose imported raters have a computed consensus: a correction made in the app (a
        manual or accepted label, or a trace's mean) supersedes, as everywhere; without one, the raters' mean
        consensus (`consensus:mean`) stands for them, never whichever rater's row happened to be imported last."""
        rule = ConsensusRule(rule)
        follow_consensus = rule is ConsensusRule.LATEST and annotator is None and not include_computed
        by_segment: dict[int, list[CurrentLabel]] = {}
        for c in self.current_labels(corpus_id=corpus_id, file_id=file_id, segment_ids=segment_ids,
                                     annotator=annotator, include_accepted=include_accepted,
                                     include_computed=include_computed or follow_consensus, origins=origins):
            by_segment.setdefault(c.segment_id, []).append(c)
        if not follow_consensus:
            return {sid: combine(labels, rule) for sid, labels in by_segment.items()}
        return {sid: label for sid, labels in by_segment.items() if (label := standing_label(labels)) is not None}

    def import_labels(self, specs: Sequence[LabelSpec]) -> tuple[int, int]:
        """Find (or make) each spec's segment by its bounds (within 1 ms, or a quarter of its length when shorter; the
        oldest such segment) and add its label unless the annotator's current label there already says the same
        (re-importing a CSV adds nothing). An import only adds: a dimension or category a spec leaves open keeps
        the annotator's current value (an edited table missing a column never clears anyone's judgement).
        One commit; (segments, labels). The files' segments and their labels are read once up front, so an
        MSP-Podcast labels_detailed.csv of hundreds of thousands of rows costs no query per row."""
        segments_added = labels_added = 0
        touched: set[int] = set()
        touched_segments: set[int] = set()
        for spec in specs:
            if spec.annotator.startswith(CONSENSUS_PREFIX):
                raise LabelError(f"{spec.annotator!r} names a computed consensus; it cannot be imported as a rater")
        file_ids = sorted({spec.file_id for spec in specs})
        with self.session() as s:
            buckets: dict[tuple[int, int], list[Segment]] = {}

            def bucket(seg: Segment) -> None:
                buckets.setdefault((seg.file_id, round(seg.start * 1000)), []).append(seg)

            for i in range(0, len(file_ids), 500):
                for seg in s.scalars(select(Segment).where(Segment.file_id.in_(file_ids[i:i + 500]))
                                     .order_by(Segment.id)):
                    bucket(seg)
            known = [seg.id for segs in buckets.values() for seg in segs]
            records = []
            for i in range(0, len(known), 500):
                records += [_record(r) for r in s.execute(select(*_LABEL_COLUMNS)
                                                          .where(Label.segment_id.in_(known[i:i + 500])))]
            records.sort(key=lambda r: (r.created_at, r.id))
            standing = {(c.segment_id, c.annotator): (c.values, c.category) for c in current_from_history(records)}
            found: list[Segment] = []
            for spec in specs:  # first every spec's segment, the new ones written in one flush
                ms = round(spec.start * 1000)
                tol = min(MATCH_TOLERANCE_S, (spec.end - spec.start) / 4)  # a 1 ms interval never takes a neighbour
                near = [g for k in (ms - 1, ms, ms + 1) for g in buckets.get((spec.file_id, k), [])
                        if abs(g.start - spec.start) <= tol and abs(g.end - spec.end) <= tol]
                seg = min(near, key=lambda g: (g.id is None, g.id or 0)) if near else None
                if seg is None:
                    seg = Segment(file_id=spec.file_id, start=spec.start, end=spec.end, speaker=spec.speaker,
                                  split=spec.split, origin="imported")
                    s.add(seg)
                    bucket(seg)
                    segments_added += 1
                else:
                    seg.speaker, seg.split = spec.speaker or seg.speaker, spec.split or seg.split
                found.append(seg)
            s.flush()
            new_labels = []
            for spec, seg in zip(specs, found):
                values = tuple(SCALE.check(n, x) for n, x in zip(DIMENSIONS, spec.values))
                category = spec.category
                prior = standing.get((seg.id, spec.annotator))
                if prior is not None:  # an import only adds: a value it lacks is no retraction of the current one
                    values = tuple(old if new is None else new for new, old in zip(values, prior[0]))
                    category = category or prior[1]
                if prior == (values, category):
                    continue
                standing[(seg.id, spec.annotator)] = (values, category)
                new_labels.append(Label(segment_id=seg.id, annotator=spec.annotator, arousal=values[0],
                                        valence=values[1], dominance=values[2], category=category,
                                        origin=LabelOrigin(spec.origin).value))
                labels_added += 1
                touched.add(spec.file_id)
                touched_segments.add(seg.id)
            s.add_all(new_labels)
        self._follow_consensus(sorted(touched_segments))
        for file_id in touched:
            self.emit("labels_changed", file_id=file_id)
        return segments_added, labels_added

    # -- predictions --------------------------------------------------------------------------------
    def replace_predictions(self, file_id: int, model_version_id: int, rows: Sequence[PredictionRow]) -> None:
        """A file's predictions by one model, replaced at once: a rerun never leaves half old, half new."""
        objects = [Prediction(
            file_id=file_id, segment_id=r.segment_id, model_version_id=model_version_id, kind=str(r.kind),
            start=float(r.start), end=float(r.end), arousal=r.values[0], valence=r.values[1], dominance=r.values[2],
            audio_only=r.audio_only, text_only=r.text_only, uncertainty=r.uncertainty, flag=r.flag) for r in rows]
        with self.session() as s:
            s.execute(delete(Prediction).where(Prediction.file_id == file_id,
                                               Prediction.model_version_id == model_version_id))
            s.add_all(objects)
        self.emit("predictions_changed", file_id=file_id, model_version_id=model_version_id)

    def trajectory(self, file_id: int, model_version_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Window centres `[N]` and A/V/D `[N, 3]`; NaN where a window was flagged (nothing to draw there)."""
        with self.session() as s:
            rows = s.execute(select(Prediction.start, Prediction.end, Prediction.arousal, Prediction.valence,
                                    Prediction.dominance)
                             .where(Prediction.file_id == file_id, Prediction.model_version_id == model_version_id,
                                    Prediction.kind == PredictionKind.WINDOW.value)
                             .order_by(Prediction.start)).all()
        arr = np.array([[np.nan if x is None else x for x in r] for r in rows], dtype=np.float64).reshape(-1, 5)
        return (arr[:, 0] + arr[:, 1]) / 2, arr[:, 2:5]

    def window_predictions(self, file_id: int, model_version_id: int) -> list[PredictionRow]:
        """A file's trajectory windows by one model, by start time, flagged ones included (values None)."""
        with self.session() as s:
            rows = s.execute(select(Prediction.kind, Prediction.start, Prediction.end, Prediction.arousal,
                                    Prediction.valence, Prediction.dominance, Prediction.uncertainty, Prediction.flag)
                             .where(Prediction.file_id == file_id, Prediction.model_version_id == model_version_id,
                                    Prediction.kind == PredictionKind.WINDOW.value)
                             .order_by(Prediction.start)).all()
        return [PredictionRow(None, r[0], r[1], r[2], (r[3], r[4], r[5]), uncertainty=r[6], flag=r[7]) for r in rows]

    def segment_predictions(self, model_version_id: int, *, file_id: int | None = None,
                            corpus_id: int | None = None) -> dict[int, PredictionRow]:
        q = (select(Prediction.segment_id, Prediction.kind, Prediction.start, Prediction.end, Prediction.arousal,
                    Prediction.valence, Prediction.dominance, Prediction.audio_only, Prediction.text_only,
                    Prediction.uncertainty, Prediction.flag)
             .where(Prediction.model_version_id == model_version_id, Prediction.kind == PredictionKind.SEGMENT.value))
        if file_id is not None:
            q = q.where(Prediction.file_id == file_id)
        if corpus_id is not None:
            q = q.join(AudioFile, AudioFile.id == Prediction.file_id).where(AudioFile.corpus_id == corpus_id)
        with self.session() as s:
            return {r[0]: PredictionRow(r[0], r[1], r[2], r[3], (r[4], r[5], r[6]), r[7], r[8], r[9], r[10])
                    for r in s.execute(q)}

    def predicted_models(self, file_id: int) -> list[int]:
        """The model versions with predictions on a file, newest first (a view falls back to the newest)."""
        q = (select(Prediction.model_version_id).distinct().where(Prediction.file_id == file_id)
             .order_by(Prediction.model_version_id.desc()))
        with self.session() as s:
            return list(s.scalars(q))

    def predicted_files(self, corpus_id: int, model_version_id: int | None = None) -> set[int]:
        q = (select(Prediction.file_id).distinct().join(AudioFile, AudioFile.id == Prediction.file_id)
             .where(AudioFile.corpus_id == corpus_id))
        if model_version_id is not None:
            q = q.where(Prediction.model_version_id == model_version_id)
        with self.session() as s:
            return set(s.scalars(q))

