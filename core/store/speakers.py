"""Speaker turns of a file (diarisation, e.g. RTTM); mixed into `Store`. A file's turns are replaced at once, and
its segments take the speaker who talks most within them, in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select

from core.store.models import Segment, SpeakerTurn


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: str


def dominant_speaker(turns: Sequence[Turn], start: float, end: float) -> str | None:
    """The speaker with the most time inside [start, end]; None when no turn overlaps it."""
    talk: dict[str, float] = {}
    for t in turns:
        overlap = min(end, t.end) - max(start, t.start)
        if overlap > 0:
            talk[t.speaker] = talk.get(t.speaker, 0.0) + overlap
    return max(talk, key=talk.get) if talk else None


class SpeakerRepository:
    """Mixed into `Store` (which provides `session` and `emit`)."""

    def replace_speaker_turns(self, file_id: int, turns: Sequence[Turn]) -> int:
        """The file's turns, replaced; returns how many of its segments got a speaker from them."""
        turns = sorted(turns, key=lambda t: (t.start, t.end))
        named = 0
        with self.session() as s:
            s.execute(delete(SpeakerTurn).where(SpeakerTurn.file_id == file_id))
            s.add_all(SpeakerTurn(file_id=file_id, start=t.start, end=t.end, speaker=t.speaker) for t in turns)
            for seg in s.scalars(select(Segment).where(Segment.file_id == file_id)):
                who = dominant_speaker(turns, seg.start, seg.end)
                if who is not None:
                    seg.speaker = who
                    named += 1
        self.emit("segments_changed", file_id=file_id)
        return named

    def speaker_turns(self, file_id: int) -> list[Turn]:
        with self.session() as s:
            return [Turn(*r) for r in s.execute(select(SpeakerTurn.start, SpeakerTurn.end, SpeakerTurn.speaker)
                                                .where(SpeakerTurn.file_id == file_id).order_by(SpeakerTurn.start))]
