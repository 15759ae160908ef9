"""One lock order for every writer of a file's derived data, so concurrent writers take turns and never deadlock.

Every repository write that changes a file's segments, words, speaker turns or predictions locks the file
first, inside its own transaction: on SQLite the session takes the whole write lock before it reads
(`Database.session(immediate=True)`, `BEGIN IMMEDIATE`), on PostgreSQL the file's `audio_files` row is locked
`FOR NO KEY UPDATE` (writers of one file wait for each other; inserts that merely reference the file, such as
new words, do not wait). Row locks taken after it (the segments an edit removes, the segment a label is saved
on) then always come second, which is what keeps PostgreSQL from finding a cycle.
"""

from __future__ import annotations

from sqlalchemy import select

from emotrace.core.store.models import AudioFile


def lock_file(s, file_id: int) -> None:
    """Serialise the writers of one file inside the caller's transaction (PostgreSQL; SQLite: immediate sessions)."""
    if s.get_bind().dialect.name != "sqlite":
        s.execute(select(AudioFile.id).where(AudioFile.id == file_id).with_for_update(key_share=True))  # FOR NO KEY UPDATE
