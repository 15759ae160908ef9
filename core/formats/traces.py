"""Continuous traces in and out: CARMA-style CSV (time, value on CARMA's -100..100 or another scale) and NOVA's
continuous annotation (an XML header with sample rate, min and max, and a `~` data file of `score;confidence`
lines, one per frame from time zero). Values come back on the 1-7 scale."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from array import array
from pathlib import Path

import numpy as np

from emotrace.core.formats.interchange import (
    AnnotationFileError,
    checked_file,
    number,
    refuse_xml_declarations,
    samples,
)
from emotrace.core.stats.traces import on_grid
from emotrace.core.vocab import SCALE, SCALES, from_scale, to_scale


def write_carma_csv(path: str | Path, t: np.ndarray, v: np.ndarray, scale: str = "carma") -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["time", "value"])
        for a, b in zip(t, to_scale(v, scale)):
            w.writerow([f"{a:.3f}", f"{b:.4f}"])


def read_carma_csv(path: str | Path, scale: str = "carma", duration: float | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Two columns, time (s) and value on `scale`; the first row may be a header. Streamed row by row under the
    import size cap; every sample checked by the interchange model (emotrace.core.formats.interchange). Values
    come back on the 1-7 scale."""
    path = checked_file(path)
    low, high = SCALES[scale]
    times, values = array("d"), array("d")  # 8 bytes a sample (a list of floats takes 32)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            for k, row in enumerate(csv.reader(fh), start=1):
                if not row or not any(cell.strip() for cell in row):
                    continue
                if len(row) < 2:
                    raise AnnotationFileError(f"{path.name}:{k}: {len(row)} column, expected time,value")
                try:
                    t, v = float(row[0]), float(row[1])
                except ValueError:
                    if k == 1:
                        continue  # the header
                    raise AnnotationFileError(f"{path.name}:{k}: {row[:2]} are not numbers") from None
                times.append(t)
                values.append(v)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise AnnotationFileError(f"{path.name}: not a readable CSV ({exc})") from exc
    t, v = samples(path.name, np.frombuffer(times), np.frombuffer(values), duration, low=low, high=high)
    return t, np.clip(from_scale(v, scale), SCALE.low, SCALE.high)  # float error only: v was checked on its scale


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


NOVA_MAX_HEADER_BYTES = 1024 * 1024


def _nova_scheme(header: Path) -> tuple[dict, dict]:
    """The header's scheme and meta attributes; DOCTYPEs and entities (never in a NOVA file) are refused."""
    if header.stat().st_size > NOVA_MAX_HEADER_BYTES:
        raise AnnotationFileError(f"{header.name}: {header.stat().st_size} bytes, not a NOVA header")
    refuse_xml_declarations(header)
    text = header.read_bytes()
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise AnnotationFileError(f"{header.name}: not readable XML ({exc})") from exc
    scheme = root.find("scheme")
    if scheme is None or scheme.get("type", "").upper() != "CONTINUOUS":
        raise AnnotationFileError(f"{header.name}: not a NOVA continuous annotation")
    meta = root.find("meta")
    return dict(scheme.attrib), dict(meta.attrib) if meta is not None else {}


def read_nova(path: str | Path, duration: float | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """Times, 1-7 values (uncovered `nan;0` frames dropped) and the header's scheme/meta attributes. The `~`
    data file is streamed line by line under the import size cap; every frame is checked."""
    header = checked_file(path)
    scheme, meta = _nova_scheme(header)
    rate = number(header.name, scheme.get("sr"), "sample rate sr")
    if not 0 < rate <= 1000:
        raise AnnotationFileError(f"{header.name}: sample rate sr={rate:g} (must be in (0, 1000] Hz)")
    low, high = number(header.name, scheme.get("min", 0), "min"), number(header.name, scheme.get("max", 1), "max")
    if not low < high:
        raise AnnotationFileError(f"{header.name}: min {low:g} is not below max {high:g}")
    data = checked_file(Path(str(header) + "~"))
    times, scores = array("d"), array("d")  # 8 bytes a sample (a list of floats takes 32)
    try:
        with open(data, encoding="utf-8") as fh:
            for k, line in enumerate(fh, start=1):
                line = line.strip()
                if not line:
                    continue
                cells = line.split(";")
                if cells[0].strip().lower() == "nan" and (len(cells) < 2 or cells[1].strip() in ("0", "0.0")):
                    continue  # a frame nobody traced
                scores.append(number(f"{data.name}:{k}", cells[0], "score"))
                times.append((k - 1) / rate)
    except UnicodeDecodeError as exc:
        raise AnnotationFileError(f"{data.name}: not a text file ({exc})") from exc
    t, v = samples(data.name, np.frombuffer(times), np.frombuffer(scores), duration, low=low, high=high)
    return t, SCALE.from_unit((v - low) / (high - low)), {**scheme, **meta}
