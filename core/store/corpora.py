"""Corpora and their audio files: the store's repository for what was imported and where it lies."""

from __future__ import annotations

from sqlalchemy import select

from emotrace.core.store.database import Repository, StoreError
from emotrace.core.store.models import AudioFile, Corpus


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
