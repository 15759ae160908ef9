"""NIST RTTM, the exchange format of diarization: `SPEAKER <file> <chan> <onset> <duration> <NA> <NA> <name> <NA> <NA>`.

The format is ten whitespace-separated fields a line; only SPEAKER lines carry turns. The tests read what this
writes with pyannote.database's own loader, so the files open in pyannote, dscore and md-eval.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from core.store import TurnRow


class RttmError(ValueError):
    """A line that is not RTTM; the message names the file and line."""


def read_rttm(path: str | Path) -> dict[str, list[TurnRow]]:
    """Turns per file id (the RTTM's second field), sorted by start."""
    path = Path(path)
    out: dict[str, list[TurnRow]] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith(("#", ";")) or fields[0] != "SPEAKER":
            continue
        if len(fields) < 8:
            raise RttmError(f"{path.name}:{lineno}: a SPEAKER line needs at least 8 fields, got {len(fields)}")
        try:
            onset, duration = float(fields[3]), float(fields[4])
        except ValueError:
            raise RttmError(f"{path.name}:{lineno}: onset/duration {fields[3]!r}/{fields[4]!r} are not numbers") from None
        if onset < 0 or duration <= 0:
            raise RttmError(f"{path.name}:{lineno}: a turn needs onset >= 0 and duration > 0")
        out.setdefault(fields[1], []).append(TurnRow(round(onset, 3), round(onset + duration, 3), fields[7]))
    return {uri: sorted(turns, key=lambda t: (t.start, t.end)) for uri, turns in out.items()}


def rttm_lines(uri: str, turns: Iterable) -> list[str]:
    uri = uri.replace(" ", "_")
    return [f"SPEAKER {uri} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {t.speaker.replace(' ', '_')} <NA> <NA>"
            for t in turns]
