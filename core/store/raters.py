"""Raters: the registry of annotators and their kinds, blindness and EWE weights.

A rater is an annotator with a kind (audformat's idea): imports register the raters they bring, an annotator
never registered is a person using the app. The consensus computed from the raters' labels is written by the
label repository (labels.py), which reads kinds and weights from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select

from emotrace.core.stats.consensus import ewe_weights
from emotrace.core.store.database import Repository
from emotrace.core.store.models import Rater, RaterWeight
from emotrace.core.store.rows import CurrentLabel
from emotrace.core.vocab import CONSENSUS_PREFIX, DIMENSIONS, RaterKind


class RaterRepository(Repository):
    """Registered raters, their blindness, and each corpus's EWE rater weights."""

    def register_rater(self, name: str, kind: RaterKind | str = RaterKind.HUMAN, *, source: str | None = None,
                       blind: bool | None = None) -> None:
        """Add or update a rater (its kind and source; blind only when given)."""
        kind = RaterKind(kind)
        with self._db.session() as s:
            row = s.scalar(select(Rater).where(Rater.name == name))
            if row is None:
                row = Rater(name=name, kind=kind.value, source=source, blind=bool(blind))
                s.add(row)
            else:
                row.kind, row.source = kind.value, source or row.source
                if blind is not None:
                    row.blind = blind
        self._db.emit("raters_changed")

    def register_raters(self, names: Iterable[str], kind: RaterKind | str, *, source: str | None = None) -> None:
        """Many raters in one commit (an MSP detailed file brings thousands of workers)."""
        kind = RaterKind(kind)
        names = sorted(set(names))
        with self._db.session() as s:
            known = {r.name: r for r in s.scalars(select(Rater).where(Rater.name.in_(names)))} if names else {}
            for name in names:
                if name in known:
                    known[name].kind = kind.value
                else:
                    s.add(Rater(name=name, kind=kind.value, source=source, blind=False))

    def rater_kinds(self) -> dict[str, RaterKind]:
        """Registered annotators and their kind; any other annotator is a person."""
        with self._db.session() as s:
            return {n: RaterKind(k) for n, k in s.execute(select(Rater.name, Rater.kind))}

    def rater_kind(self, name: str) -> RaterKind:
        if name.startswith(CONSENSUS_PREFIX):
            return RaterKind.COMPUTED
        return self.rater_kinds().get(name, RaterKind.HUMAN)

    def set_blind(self, name: str, blind: bool) -> None:
        """Blind labelling for this annotator everywhere (a job can also be blind for all its annotators)."""
        self.register_rater(name, self.rater_kind(name), blind=blind)

    def is_blind(self, name: str) -> bool:
        with self._db.session() as s:
            return bool(s.scalar(select(Rater.blind).where(Rater.name == name)))

    # -- EWE weights ----------------------------------------------------------------------------
    def rater_weights(self, corpus_id: int) -> dict[str, tuple[float | None, float | None, float | None]]:
        with self._db.session() as s:
            return {r.annotator: (r.arousal, r.valence, r.dominance)
                    for r in s.scalars(select(RaterWeight).where(RaterWeight.corpus_id == corpus_id))}

    def store_weights(self, corpus_id: int, labels: Sequence[CurrentLabel]) -> None:
        """Each rater's EWE weight per dimension over these labels, replacing the corpus's stored weights."""
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
        with self._db.session() as s:
            s.execute(delete(RaterWeight).where(RaterWeight.corpus_id == corpus_id))
            s.add_all(RaterWeight(corpus_id=corpus_id, annotator=name, arousal=per_dim[0].get(name),
                                  valence=per_dim[1].get(name), dominance=per_dim[2].get(name), segments=n)
                      for name, n in counts.items())

