"""The label repository: appending judgements, the one rule of a current label, and the consensus computed from
the raters. No module outside core/store writes SQL for labels.

The rule itself (`current_from_history`, `combine`, `standing_label`) lives in `annotations`; every consumer
(file view, review queue, agreement, exports, trainer, editor) asks `current_labels` or `segment_labels` here, so
they cannot disagree.

Consensus labels are rows of their own annotators (`consensus:mean`, `consensus:ewe`, origin `computed`), appended
like any label, so their history shows every recomputation. They follow corrections: when a person's label on a
segment that has a consensus changes, that segment's consensus is recomputed with the corpus's stored EWE weights
(`compute_consensus(reweight=True)` re-estimates the weights over the whole corpus; one correction moves them too
little to rewrite every segment).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import func, select

from emotrace.core.stats.consensus import ewe, mean_consensus, plurality
from emotrace.core.store.annotations import (
    _BY_SEGMENT_ANNOTATOR,
    _LABEL_COLUMNS,
    LabelError,
    _record,
    combine,
    current_from_history,
    label_origins,
    standing_label,
)
from emotrace.core.store.database import Database, Repository
from emotrace.core.store.label_chain import link
from emotrace.core.store.models import AudioFile, Label, Segment
from emotrace.core.store.raters import RaterRepository
from emotrace.core.store.rows import NO_ORIGINS, CurrentLabel, LabelRecord, LabelSpec, SegmentLabel
from emotrace.core.store.segments import SegmentRepository
from emotrace.core.vocab import (
    CONSENSUS_PREFIX,
    DIMENSIONS,
    SCALE,
    ConsensusMethod,
    ConsensusRule,
    LabelOrigin,
    RaterKind,
)

CONSENSUS_DECIMALS = 4  # MSP-Podcast states its consensus to 4 decimals; a smaller change writes no new row

MATCH_TOLERANCE_S = 1e-3  # ELAN counts whole milliseconds: its bounds find their segment again within 1 ms


class LabelRepository(Repository):
    """Labels and the consensus computed from them. It reads the rater registry (kinds, EWE weights) from `raters`
    and a segment's sources from `segments`."""

    def __init__(self, db: Database, raters: RaterRepository, segments: SegmentRepository) -> None:
        super().__init__(db)
        self._raters = raters
        self._segments = segments

    # -- labels -------------------------------------------------------------------------------------
    @staticmethod
    def _append(s, rows: Sequence[Label]) -> None:
        """The one way a label row enters the store: onto the hash chain (core/store/label_chain.py), then into
        the session. Every path (a save, accept, undo, an import, a trace's means, the consensus) comes here; the
        ORM guard in database.py refuses a label that did not."""
        link(s, rows)
        s.add_all(rows)

    def record_label(
        self, segment_id: int, *, annotator: str, arousal: float | None, valence: float | None,
        dominance: float | None, category: str | None = None, note: str | None = None,
        origin: LabelOrigin | str = LabelOrigin.MANUAL, origins: Sequence[LabelOrigin | str | None] | None = None,
    ) -> LabelRecord:
        """Append a judgement and commit before returning; the `label_added` event fires after the commit.
        `origins` says per dimension whose value it is (`manual` typed, `accepted` the model's value let stand);
        without it every value has the row's origin."""
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
        dims = label_origins(values, origin, origins)
        # the segment is locked against removal until the label is in (a concurrent segment edit waits, then
        # keeps the segment as labelled): SQLite's write lock first, PostgreSQL's key-share lock on the row
        with self._db.session(immediate=True) as s:
            if s.get(Segment, segment_id, with_for_update={"read": True, "key_share": True}) is None:
                raise LabelError(f"No segment with id {segment_id}")
            label = Label(segment_id=segment_id, annotator=annotator.strip(), arousal=values[0], valence=values[1],
                          dominance=values[2], category=category or None, note=note or None, origin=origin.value,
                          **_origin_columns(dims))
            self._append(s, [label])
            s.flush()
            record = _record(s.execute(select(*_LABEL_COLUMNS).where(Label.id == label.id)).one())
        self._follow_consensus([segment_id])  # an accepted prediction takes the annotator out of the raters
        self._db.emit("label_added", segment_id=segment_id, label_id=record.id)
        return record

    def retract_label(self, label_id: int, *, annotator: str) -> LabelRecord:
        """Withdraw one of the annotator's own standing rows (what undo writes). The row itself stays."""
        with self._db.session() as s:
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
            self._append(s, [row])
            s.flush()
            record = _record(s.execute(select(*_LABEL_COLUMNS).where(Label.id == row.id)).one())
        self._follow_consensus([record.segment_id])
        self._db.emit("label_added", segment_id=record.segment_id, label_id=record.id)
        return record

    def label_count(self, *, file_id: int) -> int:
        """Label rows (history included) on a file's segments: what a command must not take away."""
        with self._db.session() as s:
            return s.scalar(select(func.count(Label.id)).join(Segment, Segment.id == Label.segment_id)
                            .where(Segment.file_id == file_id)) or 0

    def label_history(self, segment_id: int) -> list[LabelRecord]:
        with self._db.session() as s:
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
        with self._db.session() as s:
            return [_record(r) for r in s.execute(q.order_by(Label.created_at, Label.id))]

    def current_labels(self, *, corpus_id: int | None = None, file_id: int | None = None,
                       segment_ids: Sequence[int] | None = None, annotator: str | None = None,
                       include_accepted: bool = True, include_computed: bool = False,
                       origins: Sequence[str] | None = None) -> list[CurrentLabel]:
        """Each annotator's standing label per segment. Without accepted predictions, per dimension: a value the
        annotator let stand at the model's prediction (`accepted`) is left open, and an annotator whose standing
        label holds no human value has no judgement of that segment. A computed consensus
        (`consensus:*`) is left out unless asked for by name or with `include_computed`: it restates the
        raters, so counting it beside them (in LATEST, in a mean) would count them twice. `origins` keeps only
        standing labels of those origins (e.g. trace means, or everything but them)."""
        current = current_from_history(self._label_records(corpus_id=corpus_id, file_id=file_id,
                                                           segment_ids=segment_ids, annotator=annotator))
        if not include_accepted:
            current = [h for c in current if (h := c.human_part()) is not None]
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
        with self._db.session() as s:
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
            current = current_from_history(records)
            standing = {(c.segment_id, c.annotator): (c.values, c.category) for c in current}
            # whose each standing value is: a value an import leaves open keeps its origin (an accepted one stays so)
            standing_origins = {(c.segment_id, c.annotator): c.origins for c in current}
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
                origin = LabelOrigin(spec.origin)
                origins = label_origins(values, origin)
                prior = standing.get((seg.id, spec.annotator))
                if prior is not None:  # an import only adds: a value it lacks is no retraction of the current one
                    kept = standing_origins.get((seg.id, spec.annotator), NO_ORIGINS)
                    origins = tuple(old_o if new is None else o
                                    for new, o, old_o in zip(values, origins, kept))
                    values = tuple(old if new is None else new for new, old in zip(values, prior[0]))
                    category = category or prior[1]
                if prior == (values, category):
                    continue
                standing[(seg.id, spec.annotator)] = (values, category)
                standing_origins[(seg.id, spec.annotator)] = origins
                new_labels.append(Label(segment_id=seg.id, annotator=spec.annotator, arousal=values[0],
                                        valence=values[1], dominance=values[2], category=category,
                                        origin=origin.value, **_origin_columns(origins)))
                labels_added += 1
                touched.add(spec.file_id)
                touched_segments.add(seg.id)
            self._append(s, new_labels)
        self._follow_consensus(sorted(touched_segments))
        for file_id in touched:
            self._db.emit("labels_changed", file_id=file_id)
        return segments_added, labels_added

    def source_label(self, segment_id: int, *, annotator: str) -> SegmentLabel | None:
        """What `annotator` said of the segment's sources (their own current label per source, never an accepted
        prediction; over several sources the store's MEAN rule): offered, never written, as their label of the
        new segment. Only their own: saving it must not turn another rater's judgement (or the model's) into
        theirs, and a blind annotator must not see anyone else's."""
        sources = self._segments.segment_sources(segment_id)
        own = self.current_labels(segment_ids=sources, annotator=annotator, include_accepted=False) if sources else []
        return replace(combine(own, ConsensusRule.MEAN), segment_id=segment_id, annotators=(annotator,)) if own else None

    def human_labels(self, *, corpus_id: int | None = None,
                     segment_ids: Sequence[int] | None = None) -> list[CurrentLabel]:
        """The raters' judgements: current labels of people only (no accepted prediction, no consensus, no
        annotator registered as computed such as an imported consensus)."""
        kinds = self._raters.rater_kinds()
        return [c for c in self.current_labels(corpus_id=corpus_id, segment_ids=segment_ids, include_accepted=False)
                if kinds.get(c.annotator, RaterKind.HUMAN) is RaterKind.HUMAN]

    # -- consensus ------------------------------------------------------------------------------
    def compute_consensus(self, corpus_id: int, *, reweight: bool = True) -> int:
        """Mean and EWE consensus of every segment of a corpus with human labels; returns the rows appended."""
        labels = self.human_labels(corpus_id=corpus_id)
        if reweight:
            self._raters.store_weights(corpus_id, labels)
        with self._db.session() as s:
            segment_ids = {c.segment_id for c in labels} | set(s.scalars(
                select(Label.segment_id).join(Segment, Segment.id == Label.segment_id)
                .join(AudioFile, AudioFile.id == Segment.file_id)
                .where(AudioFile.corpus_id == corpus_id, Label.origin == LabelOrigin.COMPUTED.value)))
        written = self._write_consensus(sorted(segment_ids), labels, {corpus_id: self._raters.rater_weights(corpus_id)})
        self._db.emit("consensus_changed", corpus_id=corpus_id)
        return written

    def _follow_consensus(self, segment_ids: Sequence[int]) -> None:
        """After a person's label changed: recompute the consensus of those segments that have one."""
        if not segment_ids:
            return
        ids = list(segment_ids)
        rows = []
        with self._db.session() as s:
            for i in range(0, len(ids), 500):
                rows += s.execute(select(Label.segment_id, AudioFile.corpus_id).distinct()
                                  .join(Segment, Segment.id == Label.segment_id)
                                  .join(AudioFile, AudioFile.id == Segment.file_id)
                                  .where(Label.segment_id.in_(ids[i:i + 500]),
                                         Label.origin == LabelOrigin.COMPUTED.value)).all()
        if not rows:
            return
        corpora = {corpus_id for _sid, corpus_id in rows}
        followed = sorted({sid for sid, _corpus in rows})
        self._write_consensus(followed, self.human_labels(segment_ids=followed),
                              {cid: self._raters.rater_weights(cid) for cid in corpora})

    def _write_consensus(self, segment_ids: Sequence[int], labels: Sequence[CurrentLabel],
                         weights_by_corpus: dict[int, dict]) -> int:
        """Append a computed row wherever the consensus differs from its standing row (and retract a standing
        consensus whose raters are all gone). One commit."""
        if not segment_ids:
            return 0
        by_segment: dict[int, list[CurrentLabel]] = {}
        for c in labels:
            by_segment.setdefault(c.segment_id, []).append(c)
        annotators = [m.annotator for m in ConsensusMethod]
        standing = {(c.segment_id, c.annotator): c for name in annotators
                    for c in self.current_labels(segment_ids=segment_ids, annotator=name)}
        written = 0
        rows: list[Label] = []
        with self._db.session() as s:
            corpus_of = dict(s.execute(select(Segment.id, AudioFile.corpus_id)
                                       .join(AudioFile, AudioFile.id == Segment.file_id)
                                       .where(Segment.id.in_(list(segment_ids)))).all())
            for sid in segment_ids:
                raters = by_segment.get(sid, [])
                weights = weights_by_corpus.get(corpus_of.get(sid), {})
                category = plurality([c.category for c in raters])
                for method in ConsensusMethod:
                    old = standing.get((sid, method.annotator))
                    values = _consensus_values(method, raters, weights)
                    if values == (None, None, None):
                        if old is not None:
                            rows.append(Label(segment_id=sid, annotator=method.annotator,
                                              origin=LabelOrigin.RETRACTION.value, retracts_id=old.label_id))
                            written += 1
                        continue
                    if old is not None and old.values == values and old.category == category:
                        continue
                    rows.append(Label(segment_id=sid, annotator=method.annotator, arousal=values[0],
                                      valence=values[1], dominance=values[2], category=category,
                                      origin=LabelOrigin.COMPUTED.value, note=f"{method.value} of {len(raters)} raters",
                                      **_origin_columns(label_origins(values, LabelOrigin.COMPUTED))))
                    written += 1
            self._append(s, rows)
        return written


def _origin_columns(origins) -> dict:
    return {f"{dim}_origin": None if o is None else o.value for dim, o in zip(DIMENSIONS, origins)}


def _consensus_values(method: ConsensusMethod, raters: Sequence[CurrentLabel], weights: dict) -> tuple:
    out = []
    for i in range(len(DIMENSIONS)):
        given = {c.annotator: c.values[i] for c in raters if c.values[i] is not None}
        if method is ConsensusMethod.MEAN:
            value = mean_consensus(list(given.values()))
        else:
            value = ewe(given, {name: (w[i] if w else None) for name, w in weights.items()})
        out.append(None if value is None else round(value, CONSENSUS_DECIMALS))
    return tuple(out)

