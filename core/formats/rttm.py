"""RTTM speaker turns (NIST's diarisation format, what pyannote and DIHARD write), in and out.

A line `SPEAKER <file> <channel> <onset> <duration> <NA> <NA> <speaker> <NA> <NA>`; other line types (e.g.
`SPKR-INFO`) are skipped. The `<file>` field names the audio by its stem (`talk` for `talk.wav`). Import writes
the file's turns as a new revision (source `rttm`; earlier revisions stay), names each segment's speaker by the
one who talks most in it, and makes transcription cut utterances at speaker changes (emotrace.core.segmentation). The
tests read what this writes with pyannote.database's own loader.
"""

from __future__ import annotations

import re
from pathlib import Path

from emotrace.core.formats.interchange import AnnotationFileError
from emotrace.core.store import Store
from emotrace.core.store.speakers import TurnRow as Turn
from emotrace.core.vocab import TurnSource


def read_rttm(path: str | Path) -> dict[str, list[Turn]]:
    """Turns per RTTM file id; a malformed SPEAKER line is an error naming its line (nothing is imported)."""
    path = Path(path)
    turns: dict[str, list[Turn]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotationFileError(f"{path.name} cannot be read: {exc}") from exc
    for lineno, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#") or fields[0] != "SPEAKER":
            continue
        where = f"{path.name}:{lineno}"
        if len(fields) < 8:
            raise AnnotationFileError(f"{where}: a SPEAKER line needs 10 fields, found {len(fields)}")
        try:
            onset, duration = float(fields[3]), float(fields[4])
        except ValueError:
            raise AnnotationFileError(f"{where}: onset {fields[3]!r} / duration {fields[4]!r} are not numbers") from None
        if onset < 0 or duration <= 0:
            raise AnnotationFileError(f"{where}: a turn needs onset >= 0 and duration > 0")
        turns.setdefault(fields[1], []).append(Turn(round(onset, 3), round(onset + duration, 3), fields[7]))
    return {uri: sorted(t, key=lambda x: (x.start, x.end)) for uri, t in turns.items()}


def import_rttm(store: Store, corpus: str, path: str | Path) -> dict[str, int]:
    """Turns for every file the RTTM names; all its file ids are matched before anything is written."""
    corpus_row = store.corpora.corpus(corpus)
    by_stem: dict[str, list] = {}
    for f in store.corpora.files(corpus_row.id):
        by_stem.setdefault(Path(f.path).stem, []).append(f)
    turns = read_rttm(path)
    targets = {}
    for file_id, file_turns in turns.items():
        hits = by_stem.get(file_id, [])
        if len(hits) != 1:
            raise AnnotationFileError(f"{Path(path).name}: file id {file_id!r} matches "
                                      f"{'no' if not hits else 'more than one'} audio file of the corpus")
        targets[hits[0].id] = file_turns
    note = f"RTTM {Path(path).name}"
    for fid, file_turns in targets.items():
        store.speakers.write_speaker_turns(fid, file_turns, TurnSource.RTTM, note)
    return {store.corpora.file(fid).path: len(file_turns) for fid, file_turns in targets.items()}


def export_rttm(store: Store, corpus: str, out: str | Path) -> int:
    """The corpus's turns, or, for a file without turns, its segments that name a speaker; returns lines."""
    lines = []
    for f in store.corpora.files(store.corpora.corpus(corpus).id):
        stem = Path(f.path).stem
        turns = store.speakers.speaker_turns(f.id) or [Turn(s.start, s.end, s.speaker) for s in store.segments.segments(f.id)
                                             if s.speaker]
        lines += [f"SPEAKER {_field(stem)} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> "
                  f"{_field(t.speaker)} <NA> <NA>" for t in turns]
    Path(out).write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    return len(lines)


def _field(name: str) -> str:
    """An RTTM field is whitespace-delimited: any run of white space or control characters in a name (a space, a
    tab, a newline) becomes one `_`, so the file our own import reads back has one turn per line."""
    return re.sub(r"[\s\x00-\x1f\x7f]+", "_", name.strip()) or "<NA>"
