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

from emotrace.core.formats.interchange import AnnotationFileError, checked_file, number, rater_name, span
from emotrace.core.store import Store
from emotrace.core.store.speakers import TurnRow as Turn
from emotrace.core.vocab import TurnSource


def read_rttm(path: str | Path) -> dict[str, list[Turn]]:
    """Turns per RTTM file id; a malformed SPEAKER line is an error naming its line (nothing is imported)."""
    return {uri: [turn for _line, turn in turns] for uri, turns in _read_lines(Path(path)).items()}


def _read_lines(path: Path) -> dict[str, list[tuple[int, Turn]]]:
    """(line, turn) per file id, sorted by time; times finite, onset >= 0, duration > 0 (the interchange model)."""
    turns: dict[str, list[tuple[int, Turn]]] = {}
    try:
        with open(checked_file(path), encoding="utf-8") as fh:  # streamed: no whole-file copy of a big RTTM
            for lineno, line in enumerate(fh, start=1):
                fields = line.split()
                if not fields or fields[0].startswith("#") or fields[0] != "SPEAKER":
                    continue
                where = f"{path.name}:{lineno}"
                if len(fields) < 8:
                    raise AnnotationFileError(f"{where}: a SPEAKER line needs 10 fields, found {len(fields)}")
                onset = number(where, fields[3], "onset")
                duration = number(where, fields[4], "duration")
                if duration <= 0:
                    raise AnnotationFileError(f"{where}: duration {duration:g} s (a turn needs duration > 0)")
                start, end = span(where, onset, onset + duration, None)
                speaker = rater_name(where, fields[7])
                turns.setdefault(fields[1], []).append((lineno, Turn(round(start, 3), round(end, 3), speaker)))
    except UnicodeDecodeError as exc:
        raise AnnotationFileError(f"{path.name} cannot be read: {exc}") from exc
    return {uri: sorted(t, key=lambda x: (x[1].start, x[1].end)) for uri, t in turns.items()}


def check_rttm(store: Store, corpus: str, path: str | Path) -> dict[int, list[Turn]]:
    """The turns for each stored file the RTTM names, every file id matched and every turn inside its audio
    (+ the interchange tolerance), before anything is written; writes nothing."""
    corpus_row = store.corpora.corpus(corpus)
    path = Path(path)
    by_stem: dict[str, list] = {}
    for f in store.corpora.files(corpus_row.id):
        by_stem.setdefault(Path(f.path).stem, []).append(f)
    targets = {}
    for file_id, file_turns in _read_lines(path).items():
        hits = by_stem.get(file_id, [])
        if len(hits) != 1:
            raise AnnotationFileError(f"{path.name}: file id {file_id!r} matches "
                                      f"{'no' if not hits else 'more than one'} audio file of the corpus")
        checked = []
        for lineno, turn in file_turns:
            start, end = span(f"{path.name}:{lineno}", turn.start, turn.end, hits[0].duration)
            checked.append(Turn(start, end, turn.speaker))
        targets[hits[0].id] = checked
    return targets


def write_rttm_turns(store: Store, path: str | Path, targets: dict[int, list[Turn]]) -> dict[str, int]:
    """Write what `check_rttm` returned: each file's turns as a new revision."""
    note = f"RTTM {Path(path).name}"
    for fid, file_turns in targets.items():
        store.speakers.write_speaker_turns(fid, file_turns, TurnSource.RTTM, note)
    return {store.corpora.file(fid).path: len(file_turns) for fid, file_turns in targets.items()}


def import_rttm(store: Store, corpus: str, path: str | Path) -> dict[str, int]:
    """Turns for every file the RTTM names; the whole file is checked before anything is written."""
    return write_rttm_turns(store, path, check_rttm(store, corpus, path))


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
