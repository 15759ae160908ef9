"""Continuous traces in and out: CARMA-style CSV (time, value on CARMA's -100..100 or another scale) and NOVA's
continuous annotation (an XML header with sample rate, min and max, and a `~` data file of `score;confidence`
lines, one per frame from time zero). Values come back on the 1-7 scale."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from emotrace.core.stats.traces import on_grid
from emotrace.core.vocab import SCALE, from_scale, to_scale


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
