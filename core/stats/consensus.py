"""Consensus of raters: the plain mean (MSP-Podcast's labels_consensus.csv) and the evaluator weighted estimator.

EWE (Grimm & Kroschel, ASRU 2005) weights each rater by how well they agree with the others: the weight of
rater k on a dimension is the Pearson correlation between k's ratings and the mean rating of the segments k
rated, clipped at 0 (a rater who runs against everyone counts for nothing rather than negatively); the EWE of a
segment is the weight-normalised sum of its raters' values. A rater with too few segments for a correlation, or
new to the corpus, gets the mean weight of the others, i.e. counts like an average rater.

Pure numpy on plain mappings: no store, so the rules can be checked on their own and on any corpus.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

MIN_SEGMENTS_FOR_WEIGHT = 3
NO_AGREEMENT = "X"  # MSP-Podcast's class when no category has a plurality

Ratings = Mapping[int, Mapping[str, float]]  # segment -> rater -> value, one dimension


def mean_consensus(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def plurality(categories: Sequence[str | None]) -> str | None:
    """The category most raters chose; MSP's `X` (no agreement) on a tie; None when nobody gave one."""
    counts = Counter(c for c in categories if c)
    if not counts:
        return None
    (top, n), *rest = counts.most_common()
    return NO_AGREEMENT if rest and rest[0][1] == n else top


def ewe_weights(ratings: Ratings, min_segments: int = MIN_SEGMENTS_FOR_WEIGHT) -> dict[str, float | None]:
    """Each rater's weight on one dimension; None when they rated too few (or constant) segments to correlate."""
    means = {sid: float(np.mean(list(by_rater.values()))) for sid, by_rater in ratings.items() if by_rater}
    own: dict[str, list[tuple[float, float]]] = {}
    for sid, by_rater in ratings.items():
        for rater, value in by_rater.items():
            own.setdefault(rater, []).append((value, means[sid]))
    weights: dict[str, float | None] = {}
    for rater, pairs in own.items():
        a = np.asarray(pairs, dtype=float)
        if len(a) < min_segments or a[:, 0].std() == 0 or a[:, 1].std() == 0:
            weights[rater] = None
            continue
        weights[rater] = max(0.0, float(np.corrcoef(a[:, 0], a[:, 1])[0, 1]))
    return weights


def ewe(values: Mapping[str, float], weights: Mapping[str, float | None]) -> float | None:
    """One segment's EWE from its raters' values. Unknown weights are the mean known weight; if no rater has a
    positive weight the EWE is the plain mean (there is nothing to weight by)."""
    if not values:
        return None
    known = [w for w in weights.values() if w is not None]
    default = float(np.mean(known)) if known else 1.0
    w = np.array([default if weights.get(r) is None else weights[r] for r in values], dtype=float)
    x = np.array(list(values.values()), dtype=float)
    if w.sum() <= 0:
        return float(x.mean())
    return float((w * x).sum() / w.sum())
