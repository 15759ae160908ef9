"""Corpora and their audio files: the store's repository for what was imported and where it lies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from emotrace.core.store.database import Repository, StoreError
from emotrace.core.store.models import AudioFile, Corpus
from emotrace.core.vocab import FileStatus


class AudioImport:
    """A corpus's audio files while an import walks a folder: known by content (fingerprint) and by path, written in
    the import's one session and committed every `commit_every` files, so an interrupted import keeps what it did
    and the next run skips it. The rows it hands out are for reading; every change goes through its methods."""

    def __init__(self, session: Session, corpus_id: int, commit_every: int) -> None:
        self._s = session
        self._corpus_id = corpus_id
        self._commit_every = commit_every
        self._pending = 0
        self._known = {f.fingerprint: f for f in session.scalars(select(AudioFile)
                                                                 .where(AudioFile.corpus_id == corpus_id))}
        self._by_path = {f.path: f for f in self._known.values()}

    def with_content(self, digest: str) -> AudioFile | None:
        """The corpus's file with this content, wherever it lies."""
        return self._known.get(digest)

    def at_path(self, path: str) -> AudioFile | None:
        """The corpus's file at this path (flushed, so a row added earlier in this import has its id)."""
        row = self._by_path.get(path)
        if row is not None:
            self._s.flush()
        return row

    def relink(self, row: AudioFile, path: str) -> None:
        """The same audio found at `path` (moved, or back after being replaced): usable again."""
        if self._by_path.get(row.path) is row:
            self._by_path.pop(row.path)
        row.path, row.status = path, FileStatus.OK
        self._by_path[path] = row

    def retire(self, row: AudioFile, *, keep: bool) -> None:
        """Make way for new content at the row's path: a row with work on it (`keep`) stays, marked replaced (its
        labels are never moved to other audio); one without goes."""
        path = row.path
        if keep:
            row.status = FileStatus.REPLACED
        else:
            self._s.delete(row)
            self._known.pop(row.fingerprint, None)
        self._by_path.pop(path, None)
        self._s.flush()

    def add(self, path: str, digest: str, size_bytes: int, *, sample_rate: int | None = None,
            channels: int | None = None, duration: float | None = None, error: str | None = None) -> AudioFile:
        """A new file of the corpus; with `error`, one that failed to decode (kept, with the reason)."""
        row = AudioFile(corpus_id=self._corpus_id, path=path, fingerprint=digest, size_bytes=size_bytes)
        if error is None:
            row.sample_rate, row.channels, row.duration, row.status = sample_rate, channels, duration, FileStatus.OK
        else:
            row.status, row.error = FileStatus.ERROR, error
        self._s.add(row)
        self._known[digest] = row
        self._by_path[path] = row
        return row

    def step(self) -> None:
        """One path done; every `commit_every` paths the work so far is committed."""
        self._pending += 1
        if self._pending >= self._commit_every:
            self._s.commit()
            self._pending = 0


class CorpusRepository(Repository):
    """Corpora and their audio files."""

    def corpus(self, name: str, *, create: bool = False, root: str | None = None) -> Corpus:
        with self._db.session() as s:
            corpus = s.scalar(select(Corpus).where(Corpus.name == name))
            if corpus is None:
                if not create:
                    known = ", ".join(s.scalars(select(Corpus.name))) or "none yet"
                    raise StoreError(f"No corpus named {name!r} (known: {known})")
                corpus = Corpus(name=name, root=root)
                s.add(corpus)
                s.flush()
                created = True
            else:
                created = False
        if created:
            self._db.emit("corpus_added", corpus_id=corpus.id)
        return corpus

    def corpora(self) -> list[Corpus]:
        with self._db.session() as s:
            return list(s.scalars(select(Corpus).order_by(Corpus.name)))

    def files(self, corpus_id: int, *, status: str | None = None) -> list[AudioFile]:
        with self._db.session() as s:
            q = select(AudioFile).where(AudioFile.corpus_id == corpus_id)
            if status:
                q = q.where(AudioFile.status == status)
            return list(s.scalars(q.order_by(AudioFile.path)))

    def file(self, file_id: int) -> AudioFile:
        with self._db.session() as s:
            f = s.get(AudioFile, file_id)
            if f is None:
                raise StoreError(f"No audio file with id {file_id}")
            return f

    def set_file_metadata(self, file_id: int, *, speaker: str | None, gender: str | None, split: str | None) -> None:
        """Speaker, gender and split of a file, as a labels CSV gives them (one value per file in MSP-Podcast)."""
        with self._db.session() as s:
            f = s.get(AudioFile, file_id)
            f.speaker, f.gender, f.split = speaker, gender, split

    @contextmanager
    def audio_import(self, corpus_id: int, *, commit_every: int = 50) -> Iterator[AudioImport]:
        """The corpus's files for an import to add, relink and retire; committed every `commit_every` files and at
        the end, rolled back to the last commit on an error."""
        with self._db.session() as s:
            yield AudioImport(s, corpus_id, commit_every)

    def mark_transcribed(self, file_id: int, asr_model: str) -> None:
        """The file's transcript is complete (by `asr_model`); `file_transcribed` fires after the commit."""
        with self._db.session() as s:
            row = s.get(AudioFile, file_id)
            row.transcribed_at, row.asr_model = datetime.now(UTC), asr_model
        self._db.emit("file_transcribed", file_id=file_id)
