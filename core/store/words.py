"""ASR words and their corrections: a correction is an append-only row holding what it replaced."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update

from emotrace.core.segmentation import join_words
from emotrace.core.store.annotations import LabelError
from emotrace.core.store.database import Repository
from emotrace.core.store.locks import lock_file
from emotrace.core.store.models import Segment, Word, WordEdit
from emotrace.core.store.rows import WordEditRecord

MAX_WORD = 30.0  # seconds: no word lasts longer; a longer span is a typo in the time


class WordRepository(Repository):
    """A file's words: as ASR wrote them (per ASR segment, resumable) and as annotators corrected them."""

    def words(self, file_id: int) -> list[Word]:
        with self._db.session() as s:
            return list(s.scalars(select(Word).where(Word.file_id == file_id).order_by(Word.start)))

    def transcription_start(self, file_id: int, *, restart: bool = False) -> tuple[float, list[tuple[float, float]]]:
        """Where a transcription of the file resumes (the end of its last ASR word) and the spans of the words
        corrected by hand, which a rerun keeps (they are the annotator's work). With `restart` the uncorrected
        words go first (one commit) and it starts from 0."""
        corrected = self.edited_words(file_id)
        with self._db.session() as s:
            asr_words = Word.file_id == file_id, Word.id.not_in(corrected)
            if restart:
                s.execute(delete(Word).where(*asr_words))
            resume_at = s.scalar(select(func.max(Word.end)).where(*asr_words)) or 0.0
            hand = [(w.start, w.end) for w in s.scalars(select(Word).where(Word.id.in_(corrected)))]
        return resume_at, hand

    def append_asr_words(self, file_id: int, words: Sequence) -> int:
        """One ASR segment's words (objects with start, end, text, probability), committed at once so an
        interrupted transcription keeps them; the last one ends the segment."""
        with self._db.session() as s:
            s.add_all(Word(file_id=file_id, start=round(w.start, 3), end=round(max(w.end, w.start), 3), text=w.text,
                           probability=w.probability, segment_end=k == len(words) - 1)
                      for k, w in enumerate(words))
        return len(words)

    def edit_word(self, word_id: int, *, editor: str, text: str | None = None, start: float | None = None,
                  end: float | None = None) -> WordEditRecord:
        """Correct an ASR word (its text, its times or both). The correction is an append-only row holding what
        it replaced; the word's segment (by midpoint) gets its text again."""
        if not editor or not editor.strip():
            raise LabelError("a word correction needs the editor's name")
        with self._db.session(immediate=True) as s:
            owner = s.scalar(select(Word.file_id).where(Word.id == word_id))
            if owner is not None:
                lock_file(s, owner)  # the word's segments change too: one writer of the file at a time
            w = s.get(Word, word_id)
            if w is None:
                raise LabelError(f"No word with id {word_id}")
            new_text = w.text if text is None else text
            if not new_text.strip():
                raise LabelError("a word cannot be empty")
            if text is not None and not text.startswith(" ") and w.text.startswith(" "):
                new_text = " " + text.strip()  # Whisper's leading space: words join into text as they came
            new_start = w.start if start is None else round(float(start), 3)
            new_end = w.end if end is None else round(float(end), 3)
            if not 0 <= new_start <= new_end or new_end - new_start > MAX_WORD:
                raise LabelError(f"{new_start:.3f}-{new_end:.3f} s is not a word's span")
            row = WordEdit(word_id=w.id, editor=editor.strip(), old_text=w.text, old_start=w.start, old_end=w.end,
                           text=new_text, start=new_start, end=new_end)
            s.add(row)
            w.text, w.start, w.end = new_text, new_start, new_end
            s.flush()
            touched = {w.segment_id} - {None}
            home = s.scalars(select(Segment).where(Segment.file_id == w.file_id, Segment.superseded_at.is_(None),
                                                   Segment.start <= (new_start + new_end) / 2,
                                                   Segment.end > (new_start + new_end) / 2)  # as word_in
                             .order_by(Segment.start.desc())).first()
            w.segment_id = home.id if home is not None else None
            touched |= {w.segment_id} - {None}
            for sid in touched:  # a superseded segment keeps the text its labels were given on
                inside = s.scalars(select(Word).where(Word.segment_id == sid).order_by(Word.start, Word.id)).all()
                s.execute(update(Segment).where(Segment.id == sid, Segment.superseded_at.is_(None))
                          .values(text=join_words(inside)))
            record = _word_edit(row)
            file_id = w.file_id
        self._db.emit("words_changed", file_id=file_id)
        return record

    def word_rows(self, file_id: int) -> list[tuple[int, float, float, str]]:
        """A file's words as plain (id, start, end, text) by start: what a view needs, without building an ORM
        object per word (21,600 words of a 3-hour file: 430 ms as objects, a tenth of that as rows)."""
        with self._db.session() as s:
            return [tuple(r) for r in s.execute(select(Word.id, Word.start, Word.end, Word.text)
                                                .where(Word.file_id == file_id).order_by(Word.start, Word.id))]

    def word_history(self, word_id: int) -> list[WordEditRecord]:
        with self._db.session() as s:
            return [_word_edit(r) for r in s.scalars(select(WordEdit).where(WordEdit.word_id == word_id)
                                                     .order_by(WordEdit.id))]

    def word_edit_count(self, file_id: int) -> int:
        """Correction rows on a file's words (what a re-import must keep with the old content)."""
        with self._db.session() as s:
            return s.scalar(select(func.count(WordEdit.id)).join(Word, Word.id == WordEdit.word_id)
                            .where(Word.file_id == file_id)) or 0

    def edited_words(self, file_id: int) -> set[int]:
        """The file's words corrected by hand (kept by a re-transcription)."""
        with self._db.session() as s:
            return set(s.scalars(select(WordEdit.word_id).distinct().join(Word, Word.id == WordEdit.word_id)
                                 .where(Word.file_id == file_id)))


def _word_edit(r: WordEdit) -> WordEditRecord:
    return WordEditRecord(r.id, r.word_id, r.editor, (r.old_text, r.old_start, r.old_end), (r.text, r.start, r.end),
                          r.created_at)

