"""Agreement between annotators per dimension (CCC), over the segments both labelled.

Only human judgements count: an accepted prediction is the model's output, and agreeing with it says nothing
about how people hear the speech (core.vocab.RaterKind).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from core.metrics import ccc
from core.store import Store
from core.vocab import DIMENSIONS


def annotator_agreement(store: Store, corpus_id: int) -> list[dict]:
    """One row per annotator pair with the shared segment count and CCC for A, V and D (per dimension, over the
    segments where both gave that dimension)."""
    current: dict[str, dict[int, tuple]] = {}
    for c in store.current_labels(corpus_id=corpus_id, include_accepted=False):
        current.setdefault(c.annotator, {})[c.segment_id] = c.values
    out = []
    for x, y in combinations(sorted(current), 2):
        shared = sorted(set(current[x]) & set(current[y]))
        if len(shared) < 2:
            continue
        row = {"pair": (x, y), "n": len(shared), "ccc": {}}
        for i, dim in enumerate(DIMENSIONS):
            pairs = [(current[x][k][i], current[y][k][i]) for k in shared
                     if current[x][k][i] is not None and current[y][k][i] is not None]
            a = np.array(pairs, dtype=float).reshape(-1, 2)
            row["ccc"][dim] = round(ccc(a[:, 0], a[:, 1]), 4) if len(a) >= 2 else None
        out.append(row)
    return out
