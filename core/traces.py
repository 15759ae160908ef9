"""Continuous traces beyond the store: agreement over time with a lag search, and the field's file formats.

Annotators trail what they hear by one to four seconds (Mariooryad & Busso 2015 measured it on tracing tools),
so agreement is also reported at the lag that maximises it. Formats: CARMA-style CSV (time, value on CARMA's
-100..100 or another scale) and NOVA's continuous annotation (an XML header with sample rate, min and max,
and a `~` data file of `score;confidence` lines, one per frame from time zero).
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.metrics import ccc
from core.vocab import SCALE

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
    from core.agreement import icc

    if len(matrix) > max_points:
        matrix = matrix[np.linspace(0, len(matrix) - 1, max_points).astype(int)]
    try:
        forms = icc(matrix)
    except Exception:  # noqa: BLE001 - a constant trace has no variance to split: no ICC, the CCC still stands
        return {}
    return {name: value["icc"] for name, value in forms.items() if isinstance(value, dict) and "icc" in value}


# -- formats -----------------------------------------------------------------------------------------------
SCALES = {
    "1-7": (SCALE.low, SCALE.high),
    "unit": (0.0, 1.0),
    "signed": (-1.0, 1.0),
    "carma": (-100.0, 100.0),  # CARMA's default rating range
}


def to_scale(values: np.ndarray, scale: str) -> np.ndarray:
    low, high = SCALES[scale]
    return low + SCALE.to_unit(values) * (high - low)


def from_scale(values: np.ndarray, scale: str) -> np.ndarray:
    low, high = SCALES[scale]
    return SCALE.from_unit((np.asarray(values, float) - low) / (high - low))


def write_carma_csv(path: str | Path, t: np.ndarray, v: np.ndarray, scale: str = "carma") -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["time", "value"])
        for a, b in zip(t, to_scale(v, scale)):
            w.writerow([f"{a:.3f}", f"{b:.4f}"])


def read_carma_csv(path: str | Path, scale: str = "carma") -> tuple[np.ndarray, np.ndarray]:
    """Two columns, time (s) and value; the first row may be a header. Values back on the 1-7 scale."""
    rows = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for k, row in enumerate(csv.reader(fh)):
            if len(row) < 2:
                continue
            try:
                rows.append((float(row[0]), float(row[1])))
            except ValueError:
                if k == 0:
                    continue  # the header
                raise ValueError(f"{Path(path).name}:{k + 1}: {row[:2]} are not numbers") from None
    arr = np.array(rows, dtype=float).reshape(-1, 2)
    return arr[:, 0], from_scale(arr[:, 1], scale)


def write_nova(path: str | Path, t: np.ndarray, v: np.ndarray, *, annotator: str, dimension: str, rate: float,
               duration: float) -> Path:
    """NOVA's continuous annotation: `<path>.annotation` (XML) + `<path>.annotation~` (score;confidence per
    frame from 0 at `rate`, on 0..1). Frames the trace does not cover are `nan;0`."""
    base = Path(path).with_suffix("")
    grid = np.arange(0.0, duration, 1.0 / rate)
    values = on_grid(t, v, grid, max_gap=2.0 / rate)
    root = ET.Element("annotation", {"ssi-v": "3"})
    ET.SubElement(root, "info", {"ftype": "ASCII", "size": str(len(grid))})
    ET.SubElement(root, "meta", {"annotator": annotator, "role": "emotrace"})
    ET.SubElement(root, "scheme", {"name": dimension, "type": "CONTINUOUS", "sr": f"{rate:g}", "min": "0",
                                   "max": "1", "mincolor": "#FFFFFFFF", "maxcolor": "#FF000000"})
    ET.ElementTree(root).write(base.with_suffix(".annotation"), encoding="utf-8", xml_declaration=True)
    unit = SCALE.to_unit(values)
    lines = ["nan;0" if np.isnan(x) else f"{x:.5f};1" for x in unit]
    Path(str(base.with_suffix(".annotation")) + "~").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return base.with_suffix(".annotation")


def read_nova(path: str | Path) -> tuple[np.ndarray, np.ndarray, dict]:
    """Times, 1-7 values (uncovered frames dropped) and the header's scheme/meta attributes."""
    header = Path(path)
    root = ET.parse(header).getroot()
    scheme = root.find("scheme")
    if scheme is None or scheme.get("type", "").upper() != "CONTINUOUS":
        raise ValueError(f"{header.name}: not a NOVA continuous annotation")
    rate, low, high = float(scheme.get("sr")), float(scheme.get("min", 0)), float(scheme.get("max", 1))
    scores = []
    for line in Path(str(header) + "~").read_text(encoding="utf-8").splitlines():
        if line.strip():
            scores.append(float(line.split(";")[0]))
    scores = np.array(scores)
    t = np.arange(len(scores)) / rate
    ok = np.isfinite(scores)
    meta = {**scheme.attrib, **(root.find("meta").attrib if root.find("meta") is not None else {})}
    return t[ok], SCALE.from_unit((scores[ok] - low) / (high - low)), meta


def trace_agreement(store, corpus_id: int, file_ids=None, max_lag: float = 4.0) -> list[dict]:
    """Per file and dimension: every pair of annotators' traces, and each trace against the active model's
    trajectory (the model first: annotators trail it), with CCC at lag 0 and at the best lag; then one corpus
    row per pair and dimension (the files' values weighted by their overlap)."""
    from core.vocab import DIMENSIONS

    rows = []
    active = store.active_model()
    for f in store.files(corpus_id):
        if file_ids is not None and f.id not in file_ids:
            continue
        traced = store.traced(f.id)
        t, values = store.trajectory(f.id, active.id) if active is not None and traced else ((), None)
        for dim in sorted({d for _a, d in traced}):
            series = {a: store.current_trace(f.id, a, dim) for a, d in traced if d == dim}
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
