"""Continuous traces: agreement over time with a lag search (their file formats: emotrace.core.formats.traces).

Annotators trail what they hear by one to four seconds (Mariooryad & Busso 2015 measured it on tracing tools),
so agreement is also reported at the lag that maximises it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emotrace.core.stats.agreement import icc
from emotrace.core.stats.metrics import ccc
from emotrace.core.vocab import DIMENSIONS

GRID_RATE = 10.0  # traces are compared on a common 10 Hz grid


def on_grid(t: np.ndarray, v: np.ndarray, grid: np.ndarray, max_gap: float = 0.5) -> np.ndarray:
    """Linear interpolation onto `grid`; NaN outside the trace and across gaps longer than `max_gap` seconds."""
    out = np.full(len(grid), np.nan)
    if len(t) < 2:
        return out
    order = np.argsort(t)
    t, v = t[order], v[order]
    inside = (grid >= t[0]) & (grid <= t[-1])
    out[inside] = np.interp(grid[inside], t, v)
    idx = np.clip(np.searchsorted(t, grid), 1, len(t) - 1)
    gap = t[idx] - t[idx - 1]
    out[inside & (gap > max_gap)] = np.nan
    return out


@dataclass(frozen=True)
class LaggedAgreement:
    n: int  # grid points both cover at lag 0
    ccc: float  # at lag 0
    pearson: float
    best_lag: float  # seconds by which the second trails the first
    ccc_at_best_lag: float
    icc21: float | None = None  # ICC(2,1) at lag 0 (two-way random, absolute agreement), pingouin
    icc31: float | None = None  # ICC(3,1) at lag 0 (two-way mixed, consistency)


def lagged_agreement(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], max_lag: float = 4.0,
                     step: float = 0.1) -> LaggedAgreement | None:
    """CCC of trace b against trace a, at lag 0 and at the lag in [0, max_lag] where b(t + lag) best matches a(t)."""
    lo, hi = max(a[0].min(initial=np.inf), b[0].min(initial=np.inf)), min(a[0].max(initial=-np.inf),
                                                                          b[0].max(initial=-np.inf))
    if not np.isfinite(lo) or hi - lo < 2.0:
        return None
    grid = np.arange(lo, hi + max_lag, 1.0 / GRID_RATE)
    av = on_grid(*a, grid)

    def score(lag: float) -> tuple[float, int]:
        bv = on_grid(b[0], b[1], grid + lag)
        ok = np.isfinite(av) & np.isfinite(bv)
        return (ccc(av[ok], bv[ok]) if ok.sum() >= 10 else float("nan")), int(ok.sum())

    zero, n = score(0.0)
    if n < 10:
        return None
    ok = np.isfinite(av) & np.isfinite(on_grid(b[0], b[1], grid))
    pearson = float(np.corrcoef(av[ok], on_grid(b[0], b[1], grid)[ok])[0, 1])
    lags = np.arange(0.0, max_lag + 1e-9, step)
    scores = np.array([score(lag)[0] for lag in lags])
    best = int(np.nanargmax(scores)) if np.isfinite(scores).any() else 0
    iccs = _icc(np.stack([av[ok], on_grid(b[0], b[1], grid)[ok]], axis=1))
    return LaggedAgreement(n, round(zero, 4), round(pearson, 4), round(float(lags[best]), 2),
                           round(float(scores[best]), 4), iccs.get("ICC(2,1)"), iccs.get("ICC(3,1)"))


def _icc(matrix: np.ndarray, max_points: int = 2000) -> dict[str, float | None]:
    """ICC forms of two traces on the grid (the same pingouin computation as the label agreement report), on an
    even subsample: neighbouring 10 Hz points are not independent targets anyway."""
    if len(matrix) > max_points:
        matrix = matrix[np.linspace(0, len(matrix) - 1, max_points).astype(int)]
    try:
        forms = icc(matrix)
    except Exception:  # noqa: BLE001 - a constant trace has no variance to split: no ICC, the CCC still stands
        return {}
    return {name: value["icc"] for name, value in forms.items() if isinstance(value, dict) and "icc" in value}


def trace_agreement(store, corpus_id: int, file_ids=None, max_lag: float = 4.0) -> list[dict]:
    """Per file and dimension: every pair of annotators' traces, and each trace against the active model's
    trajectory (the model first: annotators trail it), with CCC at lag 0 and at the best lag; then one corpus
    row per pair and dimension (the files' values weighted by their overlap)."""
    rows = []
    active = store.models.active_model()
    for f in store.corpora.files(corpus_id):
        if file_ids is not None and f.id not in file_ids:
            continue
        traced = store.traces.traced(f.id)
        t, values = store.predictions.trajectory(f.id, active.id) if active is not None and traced else ((), None)
        for dim in sorted({d for _a, d in traced}):
            series = {a: store.traces.current_trace(f.id, a, dim) for a, d in traced if d == dim}
            if len(t):  # the model's line, read once per file
                series[f"model v{active.id}"] = (t, values[:, DIMENSIONS.index(dim)])
            keys = sorted(series, key=lambda k: (not k.startswith("model"), k))
            for i, ref in enumerate(keys):
                for other in keys[i + 1:]:
                    res = lagged_agreement(series[ref], series[other], max_lag=max_lag)
                    if res is not None:
                        rows.append({"file": Path(f.path).name, "dimension": dim, "reference": ref, "other": other,
                                     **res.__dict__})
    corpus = {}
    for r in rows:
        corpus.setdefault((r["dimension"], r["reference"], r["other"]), []).append(r)
    for (dim, ref, other), group in sorted(corpus.items()):
        w = np.array([g["n"] for g in group], float)
        rows.append({"file": "(corpus)", "dimension": dim, "reference": ref, "other": other, "n": int(w.sum()),
                     "ccc": round(float(np.average([g["ccc"] for g in group], weights=w)), 4),
                     "pearson": round(float(np.average([g["pearson"] for g in group], weights=w)), 4),
                     "best_lag": round(float(np.average([g["best_lag"] for g in group], weights=w)), 2),
                     "ccc_at_best_lag": round(float(np.average([g["ccc_at_best_lag"] for g in group], weights=w)), 4),
                     "icc21": None, "icc31": None})
    return rows
