"""Agreement between raters, per dimension, corpus and split: the statistics reviewers ask for.

- ICC (Shrout & Fleiss 1979) through pingouin, with 95% confidence intervals: ICC(2,1) and ICC(2,k) (two-way
  random, absolute agreement) are the headline; ICC(1,*) and ICC(3,*) are reported too. ICC needs a fully
  crossed design, which crowd-sourced corpora (MSP-Podcast: a few of thousands of workers per file) are not, so
  it is computed on the largest block of segments that one set of raters all rated, and the block is reported.
- Krippendorff's alpha (interval) through `krippendorff`, which takes missing ratings as they come: the figure
  for crowd data.
- CCC of each rater against the mean of the *other* raters of the same segments (leave-one-out, so a rater is
  not compared with themselves), and CCC for each pair of raters over their shared segments.
- Categories: Fleiss' kappa (statsmodels) over the segments with the most common number of raters, Cohen's
  kappa (scikit-learn) per pair.

Only human judgements count (Store.labels.human_labels): an accepted prediction is the model's output and a consensus
restates the raters; agreeing with either says nothing about how people hear the speech.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from emotrace.core.stats.metrics import ccc
from emotrace.core.vocab import DIMENSIONS

if TYPE_CHECKING:  # statistics read the store they are given; they sit below it and never open one
    from emotrace.core.store import Store

ICC_MAX_RATERS = 40  # ICC's crossed block is sought among this many most prolific raters
MAX_PAIRS = 200  # pairs listed in full (by shared segments); all of them enter the summary
ICC_FORMS = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")  # pingouin's row order
MIN_SHARED = 2


def _num(x: float | None, digits: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


# -- the statistics, on matrices (segments x raters, NaN where a rater gave nothing) ----------------------
def icc(matrix: np.ndarray) -> dict[str, Any]:
    """All six Shrout & Fleiss forms with 95% CIs on a complete segments x raters matrix."""
    # lazy: pandas, pingouin, krippendorff, statsmodels and scikit-learn take seconds; only a report needs them
    import pandas as pd
    import pingouin

    matrix = np.asarray(matrix, dtype=float)
    n, k = matrix.shape
    long = pd.DataFrame({"segment": np.repeat(np.arange(n), k), "rater": np.tile(np.arange(k), n),
                         "rating": matrix.ravel()})
    with warnings.catch_warnings():  # pingouin's own pandas deprecations are not the user's business
        warnings.simplefilter("ignore")
        table = pingouin.intraclass_corr(long, targets="segment", raters="rater", ratings="rating")
    out: dict[str, Any] = {"segments": n, "raters": k}
    for form, (_i, row) in zip(ICC_FORMS, table.iterrows()):
        low, high = row["CI95"] if "CI95" in row else row["CI95%"]
        out[form] = {"icc": _num(row["ICC"]), "ci95": [_num(low, 3), _num(high, 3)], "F": _num(row["F"], 3),
                     "df1": int(row["df1"]), "df2": int(row["df2"]), "p": _num(row["pval"], 6)}
    return out


def crossed_block(matrix: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """The largest (by ratings) complete block: drop the rater with the fewest ratings until the segments all
    remaining raters rated hold the most ratings, at least 2 raters and 3 segments. Empty when none exists."""
    matrix = np.asarray(matrix, dtype=float)
    keep = list(range(matrix.shape[1]))
    best: tuple[int, list[int], np.ndarray] = (0, [], np.zeros(0, dtype=bool))
    while len(keep) >= 2:
        rows = ~np.isnan(matrix[:, keep]).any(axis=1)
        if rows.sum() >= 3 and rows.sum() * len(keep) > best[0]:
            best = (int(rows.sum()) * len(keep), list(keep), rows)
        counts = (~np.isnan(matrix[:, keep])).sum(axis=0)
        keep.pop(int(np.argmin(counts)))
    if not best[1]:
        return np.zeros((0, 0)), []
    return matrix[np.ix_(best[2], best[1])], [names[j] for j in best[1]]


def krippendorff_alpha(matrix: np.ndarray, level: str = "interval") -> float | None:
    """Krippendorff's alpha on a segments x raters matrix with missing ratings."""
    # lazy: pandas, pingouin, krippendorff, statsmodels and scikit-learn take seconds; only a report needs them
    import krippendorff

    matrix = np.asarray(matrix, dtype=float)
    pairable = (~np.isnan(matrix)).sum(axis=1) >= 2
    if pairable.sum() < 2:
        return None
    try:
        return _num(krippendorff.alpha(reliability_data=matrix[pairable].T, level_of_measurement=level))
    except (ValueError, ZeroDivisionError):  # one value everywhere: no variation to agree on
        return None


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' kappa on a segments x categories table of counts (the same number of raters per segment)."""
    # lazy: pandas, pingouin, krippendorff, statsmodels and scikit-learn take seconds; only a report needs them
    from statsmodels.stats.inter_rater import fleiss_kappa as _fleiss

    counts = np.asarray(counts, dtype=float)
    if len(counts) < 2:
        return None
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # one category everywhere: undefined, None
        warnings.simplefilter("ignore")
        return _num(_fleiss(counts, method="fleiss"))


def cohen_kappa(a: list[str], b: list[str]) -> float | None:
    # lazy: pandas, pingouin, krippendorff, statsmodels and scikit-learn take seconds; only a report needs them
    from sklearn.metrics import cohen_kappa_score

    if len(a) < MIN_SHARED or len(set(a) | set(b)) < 2:
        return None  # one category only: chance agreement is total and kappa undefined
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _num(cohen_kappa_score(a, b))


@dataclass(frozen=True)
class Ratings:
    """One dimension's ratings as parallel arrays (segment index, rater index, value): sparse, because crowd
    corpora are (MSP-Podcast: ~100k segments x ~10k workers, 5 ratings a segment), so no statistic here ever
    builds the dense segments x raters matrix of the whole corpus."""

    segment: np.ndarray
    rater: np.ndarray
    value: np.ndarray
    names: list[str]
    n_segments: int

    @classmethod
    def of(cls, by_rater: dict[str, dict[int, float]]) -> Ratings:
        names = sorted(by_rater)
        segments = sorted({sid for by_seg in by_rater.values() for sid in by_seg})
        index = {sid: i for i, sid in enumerate(segments)}
        rows = [(index[sid], j, v) for j, name in enumerate(names) for sid, v in by_rater[name].items()]
        a = np.array(rows, dtype=float).reshape(-1, 3)
        return cls(a[:, 0].astype(int), a[:, 1].astype(int), a[:, 2], names, len(segments))


def alpha_sparse(r: Ratings, level: str = "interval") -> float | None:
    """Krippendorff's alpha from value counts per segment (the package's sparse input): the same figure as on
    the reliability matrix, at a memory cost of segments x distinct values."""
    # lazy: pandas, pingouin, krippendorff, statsmodels and scikit-learn take seconds; only a report needs them
    import krippendorff

    per_segment = np.bincount(r.segment, minlength=r.n_segments)
    keep = per_segment[r.segment] >= 2
    if keep.sum() < 4:
        return None
    domain, value_index = np.unique(r.value[keep], return_inverse=True)
    if len(domain) < 2:
        return None
    _, segment_index = np.unique(r.segment[keep], return_inverse=True)
    counts = np.zeros((segment_index.max() + 1, len(domain)))
    np.add.at(counts, (segment_index, value_index), 1)
    try:
        return _num(krippendorff.alpha(value_counts=counts, value_domain=domain, level_of_measurement=level))
    except (ValueError, ZeroDivisionError):
        return None


def rater_vs_others(r: Ratings) -> dict[str, dict[str, Any]]:
    """Each rater's CCC against the mean of the other raters of the same segments (leave-one-out)."""
    total = np.bincount(r.segment, weights=r.value, minlength=r.n_segments)
    count = np.bincount(r.segment, minlength=r.n_segments)
    others_n = count[r.segment] - 1
    has = others_n > 0
    others = np.where(has, (total[r.segment] - r.value) / np.maximum(others_n, 1), np.nan)
    out = {}
    idx = np.flatnonzero(has)
    idx = idx[np.argsort(r.rater[idx], kind="stable")]
    for rows in np.split(idx, np.flatnonzero(np.diff(r.rater[idx])) + 1):
        if len(rows) >= MIN_SHARED:
            out[r.names[r.rater[rows[0]]]] = {"n": len(rows), "ccc": _num(ccc(r.value[rows], others[rows]))}
    return dict(sorted(out.items()))


def _pairs_by_segment(segment: np.ndarray, rater: np.ndarray):
    """(rater a, rater b) -> indices of a's and b's ratings of the segments both rated, from co-occurrence (the
    pairs that exist, never all pairs of a crowd)."""
    order = np.argsort(segment, kind="stable")
    bounds = np.flatnonzero(np.diff(segment[order])) + 1
    pairs: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for group in np.split(order, bounds):
        group = sorted(group, key=lambda k: rater[k])
        for a, b in combinations(group, 2):
            pairs.setdefault((int(rater[a]), int(rater[b])), []).append((a, b))
    return pairs


def pairwise_ccc(r: Ratings, limit: int = MAX_PAIRS) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """CCC of every pair of raters with 2+ shared segments: the `limit` pairs with the most shared segments in
    full, and a summary over all of them."""
    rows = []
    for (x, y), idx in _pairs_by_segment(r.segment, r.rater).items():
        if len(idx) >= MIN_SHARED:
            a, b = np.array(idx).T
            rows.append({"pair": [r.names[x], r.names[y]], "n": len(idx), "ccc": _num(ccc(r.value[a], r.value[b]))})
    rows.sort(key=lambda p: (-p["n"], p["pair"]))
    values = [p["ccc"] for p in rows if p["ccc"] is not None]
    summary = {"pairs": len(rows), "median_ccc": _num(float(np.median(values))) if values else None,
               "listed": min(limit, len(rows))}
    return rows[:limit], summary


def icc_block(r: Ratings, max_raters: int = ICC_MAX_RATERS) -> dict[str, Any] | None:
    """ICC on the largest crossed block among the most prolific raters (a dense matrix of those only)."""
    counts = np.bincount(r.rater, minlength=len(r.names))
    top = [j for j in np.argsort(-counts, kind="stable")[:max_raters] if counts[j] > 0]
    if len(top) < 2:
        return None
    mine = np.isin(r.rater, top)
    segments, seg_index = np.unique(r.segment[mine], return_inverse=True)
    col = {j: k for k, j in enumerate(top)}
    dense = np.full((len(segments), len(top)), np.nan)
    dense[seg_index, [col[j] for j in r.rater[mine]]] = r.value[mine]
    block, raters = crossed_block(dense, [r.names[j] for j in top])
    return icc(block) | {"block_raters": raters} if block.size else None


# -- from the store -------------------------------------------------------------------------------------
def agreement_report(store: Store, corpus: str, *, split: str | None = None) -> dict[str, Any]:
    """Every statistic above, per dimension, for one corpus (and split: a segment's own, else its file's)."""
    corpus_row = store.corpora.corpus(corpus)
    file_split = {f.id: f.split for f in store.corpora.files(corpus_row.id)}
    segments = store.segments.corpus_segments(corpus_row.id)
    in_split = {s.id for s in segments if split is None or (s.split or file_split.get(s.file_id)) == split}
    labels = [c for c in store.labels.human_labels(corpus_id=corpus_row.id) if c.segment_id in in_split]
    report: dict[str, Any] = {"corpus": corpus, "split": split, "raters": len({c.annotator for c in labels}),
                              "segments": len({c.segment_id for c in labels}), "dimensions": {}}
    for i, dim in enumerate(DIMENSIONS):
        by_rater: dict[str, dict[int, float]] = {}
        for c in labels:
            if c.values[i] is not None:
                by_rater.setdefault(c.annotator, {})[c.segment_id] = c.values[i]
        r = Ratings.of(by_rater)
        pairs, pair_summary = pairwise_ccc(r)
        report["dimensions"][dim] = {
            "segments": r.n_segments, "ratings": len(r.value),
            "krippendorff_alpha_interval": alpha_sparse(r),
            "icc": icc_block(r),
            "ccc_rater_vs_others": rater_vs_others(r),
            "ccc_pairwise": pairs,
            "ccc_pairwise_summary": pair_summary,
        }
    report["categories"] = _category_agreement(labels)
    return report


def _category_agreement(labels) -> dict[str, Any]:
    by_segment: dict[int, dict[str, str]] = {}
    for c in labels:
        if c.category:
            by_segment.setdefault(c.segment_id, {})[c.annotator] = c.category
    rated = {sid: cats for sid, cats in by_segment.items() if len(cats) >= 2}
    out: dict[str, Any] = {"segments": len(rated), "fleiss_kappa": None, "fleiss_raters": None, "cohen_pairwise": []}
    if rated:
        n_common = Counter(len(c) for c in rated.values()).most_common(1)[0][0]
        same_n = [cats for cats in rated.values() if len(cats) == n_common]
        classes = sorted({x for cats in same_n for x in cats.values()})
        table = np.array([[list(cats.values()).count(k) for k in classes] for cats in same_n])
        out["fleiss_kappa"], out["fleiss_raters"], out["fleiss_segments"] = fleiss_kappa(table), n_common, len(same_n)
    shared: dict[tuple[str, str], list[int]] = {}
    for sid, cats in rated.items():  # pairs that co-occur, never all pairs of a crowd
        for x, y in combinations(sorted(cats), 2):
            shared.setdefault((x, y), []).append(sid)
    for (x, y), sids in sorted(shared.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:MAX_PAIRS]:
        kappa = cohen_kappa([by_segment[s][x] for s in sids], [by_segment[s][y] for s in sids])
        if kappa is not None:
            out["cohen_pairwise"].append({"pair": [x, y], "n": len(sids), "kappa": kappa})
    return out


def annotator_agreement(store: Store, corpus_id: int) -> list[dict]:
    """One row per annotator pair with the shared segment count and CCC for A, V and D (per dimension, over the
    segments where both gave that dimension). Kept for the app's quick pairwise view."""
    current: dict[str, dict[int, tuple]] = {}
    for c in store.labels.human_labels(corpus_id=corpus_id):
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


def format_report(report: dict[str, Any]) -> str:
    """The report as a reviewer reads it: one block per dimension."""
    where = f"corpus {report['corpus']}" + (f", split {report['split']}" if report["split"] else "")
    lines = [f"{where}: {report['raters']} human raters, {report['segments']} segments"]
    for dim, e in report["dimensions"].items():
        lines.append(f"{dim}: {e['ratings']} ratings of {e['segments']} segments; "
                     f"Krippendorff's alpha (interval) {_fmt(e['krippendorff_alpha_interval'])}")
        if e["icc"]:
            i = e["icc"]
            for form in ("ICC(2,1)", "ICC(2,k)", "ICC(1,1)", "ICC(3,1)"):
                lo, hi = i[form]["ci95"]
                lines.append(f"  {form} {_fmt(i[form]['icc'])}  95% CI [{_fmt(lo)}, {_fmt(hi)}]")
            lines.append(f"  (ICC on {i['segments']} segments rated by all of {i['raters']} raters: "
                         f"{', '.join(i['block_raters'][:6])}{' ...' if i['raters'] > 6 else ''})")
        else:
            lines.append("  ICC: no block of 3+ segments rated by the same 2+ raters")
        vs = e["ccc_rater_vs_others"]
        if vs:
            values = [v["ccc"] for v in vs.values() if v["ccc"] is not None]
            lines.append(f"  CCC rater vs the others' mean: {len(vs)} raters, median {_fmt(_median(values))}, "
                         f"range {_fmt(min(values, default=None))}..{_fmt(max(values, default=None))}")
        for p in e["ccc_pairwise"][:10]:
            lines.append(f"  CCC {p['pair'][0]} vs {p['pair'][1]} ({p['n']} segments): {_fmt(p['ccc'])}")
        summary = e["ccc_pairwise_summary"]
        if summary["pairs"] > 10:
            lines.append(f"  ... {summary['pairs']} pairs in all, median CCC {_fmt(summary['median_ccc'])} "
                         f"(--json lists the {summary['listed']} with the most shared segments)")
    cat = report["categories"]
    if cat["segments"]:
        lines.append(f"categories: Fleiss' kappa {_fmt(cat['fleiss_kappa'])} ({cat.get('fleiss_segments')} segments "
                     f"with {cat['fleiss_raters']} raters); {len(cat['cohen_pairwise'])} Cohen's kappa pairs")
    return "\n".join(lines)


def _median(values):
    return float(np.median(values)) if values else None


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.3f}"
