"""Raters and the consensus computed from them; mixed into `Store` beside the label repository.

A rater is an annotator with a kind (audformat's idea): imports register the raters they bring, an annotator
never registered is a person using the app. Consensus labels are rows of their own annotators
(`consensus:mean`, `consensus:ewe`, origin `computed`), appended like any label, so their history shows every
recomputation. They follow corrections: when a person's label on a segment that has a consensus changes, that
segment's consensus is recomputed with the corpus's stored EWE weights (`compute_consensus(reweight=True)`
re-estimates the weights over the whole corpus; one correction moves them too little to rewrite every segment).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select

from emotrace.core.stats.consensus import ewe, ewe_weights, mean_consensus, plurality
from emotrace.core.store.models import AudioFile, Label, Rater, RaterWeight, Segment
from emotrace.core.store.rows import CurrentLabel
from emotrace.core.vocab import CONSENSUS_PREFIX, DIMENSIONS, ConsensusMethod, LabelOrigin, RaterKind

CONSENSUS_DECIMALS = 4  # MSP-Podcast states its consensus to 4 decimals; a smaller change writes no new row


class RaterRepository:
    """Mixed into `Store` (which provides `session`, `emit`, `current_labels`)."""

    # -- raters ---------------------------------------------------------------------------------
    def register_rater(self, name: str, kind: RaterKind | str = RaterKind.HUMAN, *, source: str | None = None,
                       blind: bool | None = None) -> None:
        """Add or update a rater (its kind and source; blind only when given)."""
        kind = RaterKind(kind)
        with self.session() as s:
            row = s.scalar(select(Rater).where(Rater.name == name))
            if row is None:
                row = Rater(name=name, kind=kind.value, source=source, blind=bool(blind))
                s.add(row)
            else:
                row.kind, row.source = kind.value, source or row.source
                if blind is not None:
                    row.blind = blind
        self.emit("raters_changed")

    def register_raters(self, names: Iterable[str], kind: RaterKind | str, *, source: str | None = None) -> None:
        """Many raters in one commit (an MSP detailed file brings thousands of workers)."""
        kind = RaterKind(kind)
        names = sorted(set(names))
        with self.session() as s:
            known = {r.name: r for r in s.scalars(select(Rater).where(Rater.name.in_(names)))} if names else {}
            for name in names:
                if name in known:
                    known[name].kind = kind.value
                else:
                    s.add(Rater(name=name, kind=kind.value, source=source, blind=False))

    def rater_kinds(self) -> dict[str, RaterKind]:
        """Registered annotators and their kind; any other annotator is a person."""
        with self.session() as s:
            return {n: RaterKind(k) for n, k in s.execute(select(Rater.name, Rater.kind))}

    def rater_kind(self, name: str) -> RaterKind:
        if name.startswith(CONSENSUS_PREFIX):
            return RaterKind.COMPUTED
        return self.rater_kinds().get(name, RaterKind.HUMAN)

    def set_blind(self, name: str, blind: bool) -> None:
        """Blind labelling for this annotator everywhere (a job can also be blind for all its annotators)."""
        self.register_rater(name, self.rater_kind(name), blind=blind)

    def is_blind(self, name: str) -> bool:
        with self.session() as s:
            return bool(s.scalar(select(Rater.blind).where(Rater.name == name)))

    def human_labels(self, *, corpus_id: int | None = None,
                     segment_ids: Sequence[int] | None = None) -> list[CurrentLabel]:
        """The raters' judgements: current labels of people only (no accepted prediction, no consensus, no
        annotator registered as computed such as an imported consensus)."""
        kinds = self.rater_kinds()
        return [c for c in self.current_labels(corpus_id=corpus_id, segment_ids=segment_ids, include_accepted=False)
                if kinds.get(c.annotator, RaterKind.HUMAN) is RaterKind.HUMAN]

    # -- consensus ------------------------------------------------------------------------------
    def rater_weights(self, corpus_id: int) -> dict[str, tuple[float | None, float | None, float | None]]:
        with self.session() as s:
            return {r.annotator: (r.arousal, r.valence, r.dominance)
                    for r in s.scalars(select(RaterWeight).where(RaterWeight.corpus_id == corpus_id))}

    def compute_consensus(self, corpus_id: int, *, reweight: bool = True) -> int:
        """Mean and EWE consensus of every segment of a corpus with human labels; returns the rows appended."""
        labels = self.human_labels(corpus_id=corpus_id)
        if reweight:
            self._store_weights(corpus_id, labels)
        with self.session() as s:
            segment_ids = {c.segment_id for c in labels} | set(s.scalars(
                select(Label.segment_id).join(Segment, Segment.id == Label.segment_id)
                .join(AudioFile, AudioFile.id == Segment.file_id)
                .where(AudioFile.corpus_id == corpus_id, Label.origin == LabelOrigin.COMPUTED.value)))
        written = self._write_consensus(sorted(segment_ids), labels, {corpus_id: self.rater_weights(corpus_id)})
        self.emit("consensus_changed", corpus_id=corpus_id)
        return written

    def _store_weights(self, corpus_id: int, labels: Sequence[CurrentLabel]) -> None:
        per_dim = []
        for i in range(len(DIMENSIONS)):
            ratings: dict[int, dict[str, float]] = {}
            for c in labels:
                if c.values[i] is not None:
                    ratings.setdefault(c.segment_id, {})[c.annotator] = c.values[i]
            per_dim.append(ewe_weights(ratings))
        counts: dict[str, int] = {}
        for c in labels:
            counts[c.annotator] = counts.get(c.annotator, 0) + 1
        with self.session() as s:
            s.execute(delete(RaterWeight).where(RaterWeight.corpus_id == corpus_id))
            s.add_all(RaterWeight(corpus_id=corpus_id, annotator=name, arousal=per_dim[0].get(name),
                                  valence=per_dim[1].get(name), dominance=per_dim[2].get(name), segments=n)
                      for name, n in counts.items())

    def _follow_consensus(self, segment_ids: Sequence[int]) -> None:
        """After a person's label changed: recompute the consensus of those segments that have one."""
        if not segment_ids:
            return
        ids = list(segment_ids)
        rows = []
        with self.session() as s:
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
                              {cid: self.rater_weights(cid) for cid in corpora})

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
        with self.session() as s:
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
                            s.add(Label(segment_id=sid, annotator=method.annotator, origin=LabelOrigin.RETRACTION.value,
                                        retracts_id=old.label_id))
                            written += 1
                        continue
                    if old is not None and old.values == values and old.category == category:
                        continue
                    s.add(Label(segment_id=sid, annotator=method.annotator, arousal=values[0], valence=values[1],
                                dominance=values[2], category=category, origin=LabelOrigin.COMPUTED.value,
                                note=f"{method.value} of {len(raters)} raters"))
                    written += 1
        return written


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
