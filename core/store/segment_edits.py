"""Splitting, merging and resizing segments, and correcting ASR words: edits that never cost a label.

A segment edit is one rule (`edit_segments`): the segments it takes away are retired by
`annotations.retire_segments` (an unlabelled one goes; a labelled one stays, superseded, with every label) and
the new segments name their labelled sources, whose label the editor offers for the new segment. Nothing is
written on the new segment until the annotator saves. Every edit returns a `SegmentEdit` whose `inverse()` is
again an edit, so undo and redo are edits too and history only grows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from sqlalchemy import func, select, update

from emotrace.core.segmentation import join_words, word_in
from emotrace.core.store.annotations import LabelError, combine, retire_segments
from emotrace.core.store.models import AudioFile, JobAssignment, Segment, SegmentSource, Word, WordEdit
from emotrace.core.store.rows import SegmentEdit, SegmentLabel, SegmentSpec, WordEditRecord
from emotrace.core.vocab import ConsensusRule, SegmentOrigin

MIN_SEGMENT = 0.05  # seconds: shorter than this is a slip of the key, not a unit anyone can label
MAX_WORD = 30.0  # seconds: no word lasts longer; a longer span is a typo in the time
OVERLAP_SLACK = 1e-3  # seconds: segments that touch within a millisecond do not overlap


def _relink_words(s, file_id: int, segments: Sequence[Segment]) -> None:
    """Give each segment the file's words whose midpoint it holds, and its text from them."""
    if not segments:
        return
    lo, hi = min(g.start for g in segments), max(g.end for g in segments)
    words = s.scalars(select(Word).where(Word.file_id == file_id, Word.end >= lo - MAX_WORD, Word.start <= hi)
                      .order_by(Word.start, Word.id)).all()
    for seg in segments:
        inside = [w for w in words if word_in(w, seg.start, seg.end)]
        for w in inside:
            w.segment_id = seg.id
        seg.text = join_words(inside) or seg.text


class SegmentEditRepository:
    """Mixed into `Store`, which provides `session()` and `emit()`."""

    def edit_segments(self, file_id: int, *, remove: Sequence[int] = (), add: Sequence[SegmentSpec] = (),
                      revive: Sequence[int] = ()) -> SegmentEdit:
        """Take `remove` away, add `add`, bring back the superseded `revive`; one transaction, nothing half done.

        - New segments name as sources the labelled segments removed, and the sources of the unlabelled ones
          removed (a split then merged back still offers the original label), never a labelled one's older
          sources (its label replaced theirs).
        - New segments inherit the job assignments of the removed ones (an annotator's job, blind or not,
          follows its segments through a split).
        - A spec with an `id` comes back as that very segment (an undo): ids are never reused (AUTOINCREMENT
          on SQLite, a sequence on PostgreSQL), so every older undo step still names the right segments.
        - A new or revived segment may not overlap a current segment that stays (one tier, as in ELAN)."""
        with self.session() as s:
            live = {g.id: g for g in s.scalars(select(Segment).where(Segment.id.in_(list(remove) + list(revive))))}
            for sid in remove:
                g = live.get(sid)
                if g is None or g.file_id != file_id or g.superseded_at is not None:
                    raise LabelError(f"segment {sid} is not a current segment of file {file_id}")
            for sid in revive:
                g = live.get(sid)
                if g is None or g.file_id != file_id or g.superseded_at is None:
                    raise LabelError(f"segment {sid} is not a superseded segment of file {file_id}")
            duration = s.scalar(select(AudioFile.duration).where(AudioFile.id == file_id))
            for spec in add:
                _check_span(spec.start, spec.end, duration)
            coming = [(spec.start, spec.end) for spec in add] + [(live[sid].start, live[sid].end) for sid in revive]
            staying = []
            if coming:  # only the current segments near the new ones (a 3-hour file has thousands)
                lo, hi = min(a for a, _b in coming), max(b for _a, b in coming)
                staying = [tuple(r) for r in s.execute(select(Segment.start, Segment.end).where(
                    Segment.file_id == file_id, Segment.superseded_at.is_(None), Segment.id.not_in(list(remove)),
                    Segment.start < hi, Segment.end > lo))]
            for start, end in coming:
                clash = next(((a, b) for a, b in staying if a < end - OVERLAP_SLACK and start < b - OVERLAP_SLACK),
                             None)
                if clash is not None:
                    raise LabelError(f"{start:.2f}-{end:.2f} s would overlap the segment at {clash[0]:.2f}-"
                                     f"{clash[1]:.2f} s: shorten or remove that one first")
            gone = {sid: SegmentSpec(live[sid].start, live[sid].end, live[sid].origin, live[sid].text or "",
                                     live[sid].speaker, live[sid].split, id=sid) for sid in remove}
            assigned = s.execute(select(JobAssignment.job_id, JobAssignment.annotator, func.min(JobAssignment.position))
                                 .where(JobAssignment.segment_id.in_(list(remove)))
                                 .group_by(JobAssignment.job_id, JobAssignment.annotator)).all() if remove else []
            passed_on: dict[int, set[int]] = {}
            if remove:
                for child, source in s.execute(select(SegmentSource.segment_id, SegmentSource.source_id)
                                               .where(SegmentSource.segment_id.in_(list(remove)))):
                    passed_on.setdefault(child, set()).add(source)
            dropped, labelled = retire_segments(s, list(remove))
            # a dropped (unlabelled) segment passes its sources on; a kept labelled one is itself the source, and
            # its own older sources are not (its label already replaced theirs)
            inherited = set().union(*(passed_on.get(sid, set()) for sid in dropped))
            for sid in revive:
                live[sid].superseded_at = None
            new = [Segment(id=spec.id, file_id=file_id, start=spec.start, end=spec.end, speaker=spec.speaker,
                           split=spec.split, origin=str(spec.origin), text=spec.text) for spec in add]
            s.add_all(new)
            s.flush()
            sources = (set(labelled) | inherited) - {g.id for g in new} - set(revive)
            s.add_all(SegmentSource(segment_id=g.id, source_id=src) for g in new for src in sorted(sources))
            have = set(s.execute(select(JobAssignment.job_id, JobAssignment.segment_id, JobAssignment.annotator)
                                 .where(JobAssignment.segment_id.in_([g.id for g in new]))).all()) if new else set()
            s.add_all(JobAssignment(job_id=job, segment_id=g.id, annotator=who, position=pos)
                      for g in new for job, who, pos in assigned if (job, g.id, who) not in have)
            _relink_words(s, file_id, [*new, *(live[sid] for sid in revive)])
            edit = SegmentEdit(file_id, tuple(g.id for g in new), tuple(gone[sid] for sid in dropped),
                               tuple(labelled), tuple(revive))
        self.emit("segments_changed", file_id=file_id)
        return edit

    def split_segment(self, segment_id: int, at: float) -> SegmentEdit:
        """Two segments where there was one, cut at `at` (seconds, inside the segment)."""
        seg = self.segment(segment_id)
        if not seg.start + MIN_SEGMENT <= at <= seg.end - MIN_SEGMENT:
            raise LabelError(f"cannot split {seg.start:.2f}-{seg.end:.2f} s at {at:.2f} s: the cut must fall inside "
                             f"the segment, at least {MIN_SEGMENT} s from its ends")
        halves = [SegmentSpec(seg.start, at, SegmentOrigin.MANUAL, speaker=seg.speaker, split=seg.split),
                  SegmentSpec(at, seg.end, SegmentOrigin.MANUAL, speaker=seg.speaker, split=seg.split)]
        return self.edit_segments(seg.file_id, remove=[segment_id], add=halves)

    def merge_segments(self, segment_ids: Sequence[int]) -> SegmentEdit:
        """One segment over the span of two or more segments of one file."""
        segs = [self.segment(sid) for sid in dict.fromkeys(segment_ids)]
        if len(segs) < 2 or len({g.file_id for g in segs}) != 1:
            raise LabelError("merging needs two or more segments of one file")
        speakers, splits = {g.speaker for g in segs}, {g.split for g in segs}
        spec = SegmentSpec(min(g.start for g in segs), max(g.end for g in segs), SegmentOrigin.MANUAL,
                           speaker=speakers.pop() if len(speakers) == 1 else None,
                           split=splits.pop() if len(splits) == 1 else None)
        return self.edit_segments(segs[0].file_id, remove=[g.id for g in segs], add=[spec])

    def resize_segment(self, segment_id: int, start: float, end: float) -> SegmentEdit:
        """New bounds for a segment. A labelled one is kept as it was (its labels judged that span) and a new
        segment takes the new bounds, offering the old label to confirm."""
        seg = self.segment(segment_id)
        spec = SegmentSpec(start, end, SegmentOrigin.MANUAL, speaker=seg.speaker, split=seg.split)
        return self.edit_segments(seg.file_id, remove=[segment_id], add=[spec])

    def segment_sources(self, segment_id: int) -> list[int]:
        """The labelled segments this one was split, merged or resized from."""
        with self.session() as s:
            return list(s.scalars(select(SegmentSource.source_id).where(SegmentSource.segment_id == segment_id)
                                  .order_by(SegmentSource.source_id)))

    def source_label(self, segment_id: int, *, annotator: str) -> SegmentLabel | None:
        """What `annotator` said of the segment's sources (their own current label per source, never an accepted
        prediction; over several sources the store's MEAN rule): offered, never written, as their label of the
        new segment. Only their own: saving it must not turn another rater's judgement (or the model's) into
        theirs, and a blind annotator must not see anyone else's."""
        sources = self.segment_sources(segment_id)
        own = self.current_labels(segment_ids=sources, annotator=annotator, include_accepted=False) if sources else []
        return replace(combine(own, ConsensusRule.MEAN), segment_id=segment_id, annotators=(annotator,)) if own else None

    def replaced_segments(self, corpus_id: int, labelled: Iterable[int]) -> set[int]:
        """Superseded segments every one of whose successors (the segments split, merged or resized from them)
        is labelled, or replaced in turn: the newer judgements stand for them, so a trainer takes those and not
        both (the span would count twice). A source with an unlabelled successor stays: its label is the only
        judgement of that part. Nothing is hidden from the store, the file view or the exports."""
        labelled = set(labelled)
        successors: dict[int, list[int]] = {}
        with self.session() as s:
            q = (select(SegmentSource.source_id, SegmentSource.segment_id)
                 .join(Segment, Segment.id == SegmentSource.source_id)
                 .join(AudioFile, AudioFile.id == Segment.file_id)
                 .where(AudioFile.corpus_id == corpus_id, Segment.superseded_at.is_not(None)))  # a revived one stands
            for source, child in s.execute(q):
                successors.setdefault(source, []).append(child)
        replaced: set[int] = set()
        changed = True
        while changed:  # generations: a split of a split
            changed = False
            for source, children in successors.items():
                if source not in replaced and all(c in labelled or c in replaced for c in children):
                    replaced.add(source)
                    changed = True
        return replaced

    # -- words ----------------------------------------------------------------------------------------
    def edit_word(self, word_id: int, *, editor: str, text: str | None = None, start: float | None = None,
                  end: float | None = None) -> WordEditRecord:
        """Correct an ASR word (its text, its times or both). The correction is an append-only row holding what
        it replaced; the word's segment (by midpoint) gets its text again."""
        if not editor or not editor.strip():
            raise LabelError("a word correction needs the editor's name")
        with self.session() as s:
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
        self.emit("words_changed", file_id=file_id)
        return record

    def word_rows(self, file_id: int) -> list[tuple[int, float, float, str]]:
        """A file's words as plain (id, start, end, text) by start: what a view needs, without building an ORM
        object per word (21,600 words of a 3-hour file: 430 ms as objects, a tenth of that as rows)."""
        with self.session() as s:
            return [tuple(r) for r in s.execute(select(Word.id, Word.start, Word.end, Word.text)
                                                .where(Word.file_id == file_id).order_by(Word.start, Word.id))]

    def word_history(self, word_id: int) -> list[WordEditRecord]:
        with self.session() as s:
            return [_word_edit(r) for r in s.scalars(select(WordEdit).where(WordEdit.word_id == word_id)
                                                     .order_by(WordEdit.id))]

    def word_edit_count(self, file_id: int) -> int:
        """Correction rows on a file's words (what a re-import must keep with the old content)."""
        with self.session() as s:
            return s.scalar(select(func.count(WordEdit.id)).join(Word, Word.id == WordEdit.word_id)
                            .where(Word.file_id == file_id)) or 0

    def edited_words(self, file_id: int) -> set[int]:
        """The file's words corrected by hand (kept by a re-transcription)."""
        with self.session() as s:
            return set(s.scalars(select(WordEdit.word_id).distinct().join(Word, Word.id == WordEdit.word_id)
                                 .where(Word.file_id == file_id)))


def _check_span(start: float, end: float, duration: float | None) -> None:
    if not 0 <= start < end or end - start < MIN_SEGMENT:
        raise LabelError(f"{start:.2f}-{end:.2f} s is not a segment (at least {MIN_SEGMENT} s, from 0 s on)")
    if duration is not None and end > duration + 1e-3:
        raise LabelError(f"{start:.2f}-{end:.2f} s runs past the end of the file ({duration:.2f} s)")


def _word_edit(r: WordEdit) -> WordEditRecord:
    return WordEditRecord(r.id, r.word_id, r.editor, (r.old_text, r.old_start, r.old_end), (r.text, r.start, r.end),
                          r.created_at)
