"""Speaker turns: the store's repository for who speaks when.

Every change writes the file's whole turn list as a new revision; nothing is edited or deleted, so a
diarization, an RTTM import and each manual correction stay in the history and undo is one more revision.
Segments of ASR origin take the speaker of the turn they overlap most; imported segments keep the speaker
their labels file gave them, and labels are never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from emotrace.core.store.database import Repository
from emotrace.core.store.locks import lock_file
from emotrace.core.store.models import AudioFile, Segment, SpeakerTurn
from emotrace.core.vocab import SegmentOrigin, TurnSource

UNDO_NOTE = "undo: back to revision "


class TurnError(ValueError):
    """A turn edit that does not fit the file (outside it, empty, unknown speaker)."""


@dataclass(frozen=True)
class TurnRow:
    start: float
    end: float
    speaker: str
    source: str = TurnSource.MANUAL


@dataclass(frozen=True)
class TurnRevision:
    revision: int
    source: str
    note: str | None
    created_at: datetime
    turns: int


def overlap_speaker(turns: Sequence[TurnRow], start: float, end: float) -> str | None:
    """The speaker who talks longest inside [start, end]."""
    talk: dict[str, float] = {}
    for t in turns:
        overlap = min(end, t.end) - max(start, t.start)
        if overlap > 0:
            talk[t.speaker] = talk.get(t.speaker, 0.0) + overlap
    return max(talk, key=talk.get) if talk else None


class SpeakerRepository(Repository):
    """Each file's speaker turns, as revisions; segments of ASR origin follow them."""

    def speaker_turns(self, file_id: int, revision: int | None = None) -> list[TurnRow]:
        """The file's current turns (its newest revision), by start time; [] when it has none."""
        with self._db.session() as s:
            if revision is None:
                revision = s.scalar(select(func.max(SpeakerTurn.revision)).where(SpeakerTurn.file_id == file_id))
            if revision is None:
                return []
            rows = s.execute(select(SpeakerTurn.start, SpeakerTurn.end, SpeakerTurn.speaker, SpeakerTurn.source)
                             .where(SpeakerTurn.file_id == file_id, SpeakerTurn.revision == revision)
                             .order_by(SpeakerTurn.start, SpeakerTurn.id)).all()
        return [TurnRow(*r) for r in rows]

    def corpus_speakers(self, corpus_id: int) -> dict[int, list[str]]:
        """Each file's speakers in its newest revision of turns (for the corpus browser)."""
        newest = (select(SpeakerTurn.file_id, func.max(SpeakerTurn.revision).label("rev"))
                  .join(AudioFile, AudioFile.id == SpeakerTurn.file_id).where(AudioFile.corpus_id == corpus_id)
                  .group_by(SpeakerTurn.file_id).subquery())
        with self._db.session() as s:
            rows = s.execute(select(SpeakerTurn.file_id, SpeakerTurn.speaker).distinct()
                             .join(newest, (newest.c.file_id == SpeakerTurn.file_id)
                                   & (newest.c.rev == SpeakerTurn.revision))
                             .order_by(SpeakerTurn.file_id, SpeakerTurn.speaker)).all()
        out: dict[int, list[str]] = {}
        for fid, speaker in rows:
            out.setdefault(fid, []).append(speaker)
        return out

    def speaker_revisions(self, file_id: int) -> list[TurnRevision]:
        with self._db.session() as s:
            rows = s.execute(select(SpeakerTurn.revision, func.min(SpeakerTurn.source), func.min(SpeakerTurn.note),
                                    func.min(SpeakerTurn.created_at), func.count(SpeakerTurn.id))
                             .where(SpeakerTurn.file_id == file_id).group_by(SpeakerTurn.revision)
                             .order_by(SpeakerTurn.revision)).all()
        return [TurnRevision(*r) for r in rows]

    def manual_revisions(self, file_id: int) -> int:
        """How many of the file's turn revisions someone made by hand (renames, reassignments, splits, undos):
        human work that an import of new audio at its path must keep, never delete."""
        return sum(1 for r in self.speaker_revisions(file_id) if r.source == TurnSource.MANUAL)

    def write_speaker_turns(self, file_id: int, turns: Sequence, source: TurnSource | str,
                            note: str | None = None) -> int:
        """The file's turns as a new revision (sorted, checked against the file's length); the revision number."""
        source = TurnSource(source)
        with self._db.session(immediate=True) as s:
            lock_file(s, file_id)  # the segments' speakers change too: one writer of the file at a time
            audio = s.get(AudioFile, file_id)
            if audio is None:
                raise TurnError(f"No audio file with id {file_id}")
            limit = (audio.duration or 0.0) + 0.05
            clean = sorted((float(t.start), float(t.end), str(t.speaker).strip()) for t in turns)
            for start, end, speaker in clean:
                if not 0 <= start < end <= limit:
                    raise TurnError(f"turn {start:.2f}-{end:.2f} s lies outside the file ({audio.duration:.2f} s)")
                if not speaker:
                    raise TurnError("a turn needs a speaker name")
            revision = (s.scalar(select(func.max(SpeakerTurn.revision)).where(SpeakerTurn.file_id == file_id))
                        or 0) + 1
            s.add_all(SpeakerTurn(file_id=file_id, revision=revision, start=a, end=min(b, limit), speaker=name,
                                  source=source.value, note=note) for a, b, name in clean)
            self._assign_segment_speakers(s, file_id, [TurnRow(a, b, n) for a, b, n in clean])
        self._db.emit("speakers_changed", file_id=file_id)
        return revision

    @staticmethod
    def _assign_segment_speakers(s, file_id: int, turns: list[TurnRow]) -> None:
        if not turns:
            return
        rows = s.execute(select(Segment.id, Segment.start, Segment.end).where(
            Segment.file_id == file_id, Segment.origin != SegmentOrigin.IMPORTED.value)).all()
        for sid, start, end in rows:
            speaker = overlap_speaker(turns, start, end)
            if speaker is not None:
                s.execute(update(Segment).where(Segment.id == sid).values(speaker=speaker))

    # -- manual corrections: each is one new revision ---------------------------------------------------
    def _edit(self, file_id: int, note: str, change) -> int:
        turns = self.speaker_turns(file_id)
        if not turns:
            raise TurnError("this file has no speaker turns yet: diarize it or import an RTTM first")
        return self.write_speaker_turns(file_id, change(turns), TurnSource.MANUAL, note)

    def reassign_turn(self, file_id: int, index: int, speaker: str) -> int:
        def change(turns):
            if not 0 <= index < len(turns):
                raise TurnError(f"no turn {index} (the file has {len(turns)})")
            turns[index] = TurnRow(turns[index].start, turns[index].end, speaker)
            return turns
        return self._edit(file_id, f"turn {index} -> {speaker}", change)

    def merge_speakers(self, file_id: int, source: str, into: str) -> int:
        def change(turns):
            if source not in {t.speaker for t in turns}:
                raise TurnError(f"no speaker {source!r} in this file")
            return [TurnRow(t.start, t.end, into if t.speaker == source else t.speaker) for t in turns]
        return self._edit(file_id, f"merge {source} into {into}", change)

    rename_speaker = merge_speakers  # a rename is a merge into a new name

    def split_turn(self, file_id: int, index: int, at: float, speaker: str | None = None) -> int:
        """Cut turn `index` at `at`; the second part goes to `speaker` (default: the same speaker)."""
        def change(turns):
            if not 0 <= index < len(turns) or not turns[index].start < at < turns[index].end:
                raise TurnError(f"{at:.2f} s is not inside turn {index}")
            t = turns[index]
            return turns[:index] + [TurnRow(t.start, at, t.speaker), TurnRow(at, t.end, speaker or t.speaker)] + \
                turns[index + 1:]
        return self._edit(file_id, f"split turn {index} at {at:.2f}", change)

    def undo_speaker_edit(self, file_id: int) -> int:
        """The revision before the newest, written again as the newest (nothing is removed)."""
        revisions = self.speaker_revisions(file_id)
        stands_for = {}  # an undo revision stands for the revision it restored, so undo walks further back
        for r in revisions:
            restored = r.note.removeprefix(UNDO_NOTE) if r.note and r.note.startswith(UNDO_NOTE) else None
            stands_for[r.revision] = stands_for[int(restored)] if restored else r.revision
        effective = stands_for[revisions[-1].revision] if revisions else None
        earlier = [r.revision for r in revisions if r.revision < (effective or 0) and stands_for[r.revision] == r.revision]
        if not earlier:
            raise TurnError("nothing to undo: these are the file's first speaker turns")
        previous = earlier[-1]
        return self.write_speaker_turns(file_id, self.speaker_turns(file_id, previous), TurnSource.MANUAL,
                                        f"{UNDO_NOTE}{previous}")
