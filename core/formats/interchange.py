"""The one validated model every annotation importer passes through: times, values, rater names and files.

A format module only parses syntax; what a row *means* is checked here, the same way for MSP CSVs, the generic
CSV, ELAN, TextGrid, RTTM, audformat, CARMA and NOVA:

- a file is a regular file of at most `max_import_bytes()` (a FIFO, a device such as /dev/zero or a folder is
  refused before anything is read; `EMOTRACE_MAX_IMPORT_MB` raises the cap);
- times are finite and `0 <= start < end <= duration + TIME_TOLERANCE_S`; an end inside the tolerance is
  taken as the end of the audio (the last frame of a resampled file), anything further is refused;
- values are finite numbers on the declared scale (MSP's 1-7, or a named scale of `emotrace.core.vocab`):
  off the scale is refused with the row named, never clipped;
- rater names are stripped of surrounding spaces and may hold no control characters (a NUL, a newline, a tab);
  a name that reads `consensus:*` after stripping is a computed rater, never a person;
- trace samples have strictly increasing finite times inside the audio and at least one value.

Every failure is an `AnnotationFileError` whose one line names the file and the row, tier or time; the caller
writes nothing unless the whole file passed.
"""

from __future__ import annotations

import math
import os
import stat
import unicodedata
from pathlib import Path

import numpy as np

from emotrace.core.errors import UserFacingError
from emotrace.core.vocab import CONSENSUS_PREFIX, SCALE, SCALES, unscale


class AnnotationFileError(UserFacingError, ValueError):
    """A malformed annotation file; the message names the tier and the time (nothing was imported)."""


TIME_TOLERANCE_S = 0.5
"""How far past the end of the audio a time may lie (resampling and a tool's own rounding); taken as the end."""

DEFAULT_MAX_IMPORT_MB = 256
MAX_NAME_CHARS = 200


def max_import_bytes() -> int:
    """The size cap of one imported file: EMOTRACE_MAX_IMPORT_MB (default 256 MB)."""
    raw = os.environ.get("EMOTRACE_MAX_IMPORT_MB", "")
    try:
        mb = float(raw) if raw else DEFAULT_MAX_IMPORT_MB
    except ValueError:
        mb = DEFAULT_MAX_IMPORT_MB
    return int(max(mb, 0.001) * 1024 * 1024)


def checked_file(path: str | Path) -> Path:
    """`path` if it is a regular file within the size cap; else one line saying why it is not read."""
    path = Path(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise AnnotationFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if stat.S_ISDIR(info.st_mode):
        raise AnnotationFileError(f"{path}: is a folder, not an annotation file")
    if not stat.S_ISREG(info.st_mode):
        raise AnnotationFileError(f"{path}: not a regular file (a pipe, socket or device is not read)")
    if info.st_size > max_import_bytes():
        raise AnnotationFileError(f"{path}: {info.st_size / 1e6:.1f} MB, over the {max_import_bytes() / 1e6:.0f} MB "
                                  "import limit (EMOTRACE_MAX_IMPORT_MB raises it)")
    return path


def refuse_xml_declarations(path: Path) -> None:
    """An XML annotation file (ELAN, NOVA) never declares a DOCTYPE or entities: one that does is refused before
    any parser sees it (entity expansion, external entities), streamed in 1 MB blocks under the size cap."""
    tail = b""
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            text = (tail + block).upper()
            if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
                raise AnnotationFileError(f"{path.name}: refused: an XML DOCTYPE or entity declaration (this format "
                                          "has none; entities can expand without bound)")
            tail = block[-16:]


def rater_name(where: str, raw: object) -> str:
    """A person's (or a computed rater's) name as stored: stripped, non-empty, printable."""
    name = str(raw if raw is not None else "").strip()
    if not name:
        raise AnnotationFileError(f"{where}: an empty rater name")
    bad = next((ch for ch in name if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        raise AnnotationFileError(f"{where}: rater name {name!r} holds a control character ({bad!r})")
    if len(name) > MAX_NAME_CHARS:
        raise AnnotationFileError(f"{where}: rater name of {len(name)} characters (at most {MAX_NAME_CHARS})")
    return name


def is_computed(name: str) -> bool:
    """A computed consensus (`consensus:mean`, `consensus:ewe`): recomputed from the raters, never imported."""
    return name.strip().startswith(CONSENSUS_PREFIX)


def number(where: str, raw: object, what: str) -> float:
    """A finite number from a cell or attribute."""
    try:
        x = float(str(raw).strip()) if not isinstance(raw, int | float) else float(raw)
    except (TypeError, ValueError):
        raise AnnotationFileError(f"{where}: {what} {raw!r} is not a number") from None
    if not math.isfinite(x):
        raise AnnotationFileError(f"{where}: {what} {raw!r} is not a finite number")
    return x


def span(where: str, start: object, end: object, duration: float | None) -> tuple[float, float]:
    """A checked interval in seconds: 0 <= start < end <= duration (+ TIME_TOLERANCE_S, taken as the end)."""
    s, e = number(where, start, "start"), number(where, end, "end")
    if s < 0:
        raise AnnotationFileError(f"{where}: start {s:g} s is before the audio begins")
    if e <= s:
        raise AnnotationFileError(f"{where}: end {e:g} s is not after start {s:g} s")
    if duration is not None:
        if s >= duration:
            raise AnnotationFileError(f"{where}: start {s:g} s is past the end of the audio ({duration:.3f} s)")
        if e > duration + TIME_TOLERANCE_S:
            raise AnnotationFileError(f"{where}: end {e:g} s is past the end of the audio ({duration:.3f} s; "
                                      f"{TIME_TOLERANCE_S:g} s tolerance)")
        e = min(e, duration)
    return s, e


def rating(where: str, raw: object, what: str, scale: str = "1-7") -> float:
    """A value on the named scale, returned on 1-7; off the scale is refused, never clipped."""
    x = number(where, raw, what)
    low, high = SCALES[scale]
    if not low <= x <= high:
        named = f"{low:g}-{high:g}" if scale == "1-7" else f"{low:g}..{high:g}"
        raise AnnotationFileError(f"{where}: {what} {x:g} is off the {named} scale")
    return x if scale == "1-7" else float(np.clip(unscale(x, scale), SCALE.low, SCALE.high))  # exact inverse of export


def samples(where: str, times: np.ndarray, values: np.ndarray, duration: float | None, *, low: float,
            high: float) -> tuple[np.ndarray, np.ndarray]:
    """A trace's samples: strictly increasing finite times inside the audio, finite values in [low, high] (the
    file's declared range), at least one. Returned as given (the caller maps the range onto 1-7)."""
    t, v = np.asarray(times, dtype=float), np.asarray(values, dtype=float)
    if len(t) == 0:
        raise AnnotationFileError(f"{where}: no samples (nothing to import)")
    bad_t = np.flatnonzero(~np.isfinite(t))
    if len(bad_t):
        raise AnnotationFileError(f"{where}: sample {bad_t[0] + 1} has time {t[bad_t[0]]:g}")
    back = np.flatnonzero(np.diff(t) <= 0)
    if len(back):
        k = back[0] + 1
        raise AnnotationFileError(f"{where}: sample {k + 1} at {t[k]:g} s does not follow {t[k - 1]:g} s "
                                  "(times must increase)")
    if t[0] < 0:
        raise AnnotationFileError(f"{where}: sample 1 at {t[0]:g} s is before the audio begins")
    if duration is not None and t[-1] > duration + TIME_TOLERANCE_S:
        k = int(np.argmax(t > duration + TIME_TOLERANCE_S))
        raise AnnotationFileError(f"{where}: sample {k + 1} at {t[k]:g} s is past the end of the audio "
                                  f"({duration:.3f} s)")
    bad_v = np.flatnonzero(~np.isfinite(v) | (v < low) | (v > high))
    if len(bad_v):
        k = bad_v[0]
        raise AnnotationFileError(f"{where}: sample {k + 1} at {t[k]:g} s has value {v[k]:g}, off the "
                                  f"{low:g}..{high:g} scale")
    return t, v


__all__ = ["TIME_TOLERANCE_S", "AnnotationFileError", "checked_file", "is_computed", "max_import_bytes", "number",
           "rater_name", "refuse_xml_declarations", "rating", "samples", "span"]
