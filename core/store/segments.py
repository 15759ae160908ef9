"""The segment repository: a file's units, and splitting, merging and resizing them, edits that never cost a label.

A segment edit is one rule (`edit_segments`): the segments it takes away are retired by
`annotations.retire_segments` (an unlabelled one goes; a labelled one stays, superseded, with every label) and
the new segments name their labelled sources, whose label the editor offers for the new segment. Nothing is
written on the new segment until the annotator saves. Every edit returns a `SegmentEdit` whose `inverse()` is
again an edit, so undo and redo are edits too and history only grows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from emotrace.core.segmentation import join_words, word_in
from emotrace.core.store.annotations import LabelError, retire_segments
from emotrace.core.store.database import Repository, StoreError
from emotrace.core.store.locks import lock_file
from emotrace.core.store.models import AudioFile, JobAssignment, Segment, SegmentSource, Word
from emotrace.core.store.rows import SegmentEdit, SegmentRow, SegmentSpec, SupersedeResult
from emotrace.core.store.words import MAX_WORD
from emotrace.core.vocab import SegmentOrigin

MIN_SEGMENT = 0.05  # seconds: shorter than this is a slip of the key, not a unit anyone can label
OVERLAP_SLACK = 1e-3  # seconds: segments that touch within a millisecond do not overlap


class SegmentOverlap(StoreError, LabelError):
    """A write that would leave two current segments of a file overlapping, refused by the database's rule
    (migration 0010): another process edited the file meanwhile. Nothing was written."""


OVERLAP_RULE = "overlapping current segments"  # the trigger's message (SQLite); PostgreSQL names its constraint


def is_overlap(exc: IntegrityError) -> bool:
    """Whether an IntegrityError is the no-overlap rule (the trigger on SQLite, the exclusion on PostgreSQL)."""
    text = str(exc.orig)
    return OVERLAP_RULE in text or "ex_segments_no_overlap" in text


def overlap_error(exc: IntegrityError, file_id: int) -> StoreError:
    if is_overlap(exc):
        return SegmentOverlap(f"the segments of file {file_id} changed meanwhile (another window or process edited "
                              "them): this edit would overlap a current segment, so nothing was written; reload "
                              "the file and try again")
    return StoreError(f"the store refused the change to file {file_id}: {str(exc.orig).splitlines()[0]}")


def _insert(s, file_id: int, specs: Sequence[SegmentSpec]) -> list[int]:
    ids = []
    for spec in specs:
        seg = Segment(file_id=file_id, start=spec.start, end=spec.end, speaker=spec.speaker, split=spec.split,
                      origin=str(spec.origin), text=spec.text)
        s.add(seg)
        s.flush()
        if spec.word_ids:
            s.execute(update(Word).where(Word.id.in_(spec.word_ids)).values(segment_id=seg.id))
        ids.append(seg.id)
    return ids


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


_SEGMENT_COLUMNS = (Segment.id, Segment.file_id, Segment.start, Segment.end, Segment.speaker, Segment.split,
                    Segment.origin, Segment.text, Segment.superseded_at)


def _segment_row(row) -> SegmentRow:
    sid, fid, start, end, speaker, split, origin, text, superseded = row
    return SegmentRow(sid, fid, start, end, speaker, split, origin, text or "", superseded)


class SegmentRepository(Repository):
    """A file's segments: added, given their words, superseded, and edited (split, merged, resized, revived)."""

    def segments(self, file_id: int, *, include_superseded: bool = True) -> list[SegmentRow]:
        """A file's segments by start time. Superseded ones are all labelled (unlabelled ones are removed)."""
        with self._db.session() as s:
            q = select(*_SEGMENT_COLUMNS).where(Segment.file_id == file_id)
            if not include_superseded:
                q = q.where(Segment.superseded_at.is_(None))
            return [_segment_row(r) for r in s.execute(q.order_by(Segment.start, Segment.id))]

    def corpus_segments(self, corpus_id: int) -> list[SegmentRow]:
        with self._db.session() as s:
            q = (select(*_SEGMENT_COLUMNS).join(AudioFile, AudioFile.id == Segment.file_id)
                 .where(AudioFile.corpus_id == corpus_id).order_by(AudioFile.path, Segment.start, Segment.id))
            return [_segment_row(r) for r in s.execute(q)]

    def segment(self, segment_id: int) -> SegmentRow:
        with self._db.session() as s:
            row = s.execute(select(*_SEGMENT_COLUMNS).where(Segment.id == segment_id)).first()
        if row is None:
            raise LabelError(f"No segment with id {segment_id}")
        return _segment_row(row)

    def add_segments(self, file_id: int, specs: Sequence[SegmentSpec]) -> list[int]:
        """New segments of a file, with their words linked; one commit. One that would overlap a current segment
        is refused by the database's rule (`SegmentOverlap`)."""
        try:
            with self._db.session(immediate=True) as s:
                lock_file(s, file_id)
                ids = _insert(s, file_id, specs)
        except IntegrityError as exc:
            raise overlap_error(exc, file_id) from exc
        self._db.emit("segments_changed", file_id=file_id)
        return ids

    def replace_units(self, file_id: int, origin: str, specs: Sequence[SegmentSpec]) -> SupersedeResult:
        """A file's units of `origin` rebuilt (a transcription, a diarization): the old ones make way
        (`retire_segments`: an unlabelled one goes, a labelled one stays superseded with every label) and `specs`
        take their place, in one transaction under the file's write lock. Human work follows the new units as it
        follows an edit: each new unit inherits the annotation-job assignments of the old units it overlaps (a
        job's annotator keeps their work through a re-transcription); a kept labelled one keeps its own too."""
        try:
            with self._db.session(immediate=True) as s:
                lock_file(s, file_id)
                old = s.execute(select(Segment.id, Segment.start, Segment.end).where(
                    Segment.file_id == file_id, Segment.origin == str(origin),
                    Segment.superseded_at.is_(None)).with_for_update()).all()
                spans = {sid: (a, b) for sid, a, b in old}
                assigned = s.execute(select(JobAssignment.segment_id, JobAssignment.job_id, JobAssignment.annotator,
                                            JobAssignment.position)
                                     .where(JobAssignment.segment_id.in_(list(spans)))).all() if spans else []
                dropped, labelled = retire_segments(s, list(spans))
                ids = _insert(s, file_id, specs)
                inherited: dict[tuple[int, int, str], int] = {}
                for sid, spec in zip(ids, specs):
                    for old_id, job, who, pos in assigned:
                        a, b = spans[old_id]
                        if a < spec.end - OVERLAP_SLACK and spec.start < b - OVERLAP_SLACK:
                            key = (job, sid, who)
                            inherited[key] = min(pos, inherited.get(key, pos))
                s.add_all(JobAssignment(job_id=job, segment_id=sid, annotator=who, position=pos)
                          for (job, sid, who), pos in inherited.items())
        except IntegrityError as exc:
            raise overlap_error(exc, file_id) from exc
        self._db.emit("segments_changed", file_id=file_id)
        return SupersedeResult(removed=len(dropped), kept_labelled=len(labelled), labels_kept=sum(labelled.values()),
                               assignments_moved=len(inherited))

    def set_segment_texts(self, file_id: int, texts: dict[int, tuple[str, Sequence[int]]]) -> None:
        """Give kept segments their words: segment id -> (text, word ids)."""
        with self._db.session(immediate=True) as s:
            lock_file(s, file_id)
            for sid, (text, word_ids) in texts.items():
                s.execute(update(Segment).where(Segment.id == sid, Segment.file_id == file_id).values(text=text))
                if word_ids:
                    s.execute(update(Word).where(Word.id.in_(list(word_ids))).values(segment_id=sid))
        self._db.emit("segments_changed", file_id=file_id)

    def supersede_segments(self, file_id: int, origin: str) -> SupersedeResult:
        """Make way for new units of `origin`: unlabelled ones go (with their predictions); labelled ones stay,
        marked superseded, with every label and its history, still shown, exported and trained on."""
        with self._db.session(immediate=True) as s:
            lock_file(s, file_id)
            rows = s.execute(select(Segment.id).where(Segment.file_id == file_id, Segment.origin == str(origin),
                                                      Segment.superseded_at.is_(None))).scalars().all()
            dropped, labelled = retire_segments(s, rows)
        self._db.emit("segments_changed", file_id=file_id)
        return SupersedeResult(removed=len(dropped), kept_labelled=len(labelled), labels_kept=sum(labelled.values()))

    # -- edits ----------------------------------------------------------------------------------------
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
        - A new or revived segment may not overlap a current segment that stays (one tier, as in ELAN). The
          check runs under the file's write lock (edits of one file by several processes take turns), and the
          database holds the same rule (migration 0010): a refusal is a `SegmentOverlap`, never a raw error."""
        try:
            return self._edit_segments(file_id, remove, add, revive)
        except IntegrityError as exc:
            raise overlap_error(exc, file_id) from exc

    def _edit_segments(self, file_id: int, remove: Sequence[int], add: Sequence[SegmentSpec],
                       revive: Sequence[int]) -> SegmentEdit:
        with self._db.session(immediate=True) as s:
            lock_file(s, file_id)
            live = {g.id: g for g in s.scalars(select(Segment).where(Segment.id.in_(list(remove) + list(revive)))
                                               .with_for_update())}  # a label save on them waits (PostgreSQL)
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
        self._db.emit("segments_changed", file_id=file_id)
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
        with self._db.session() as s:
            return list(s.scalars(select(SegmentSource.source_id).where(SegmentSource.segment_id == segment_id)
                                  .order_by(SegmentSource.source_id)))

    def replaced_segments(self, corpus_id: int, labelled: Iterable[int]) -> set[int]:
        """Superseded segments every one of whose successors (the segments split, merged or resized from them)
        is labelled, or replaced in turn: the newer judgements stand for them, so a trainer takes those and not
        both (the span would count twice). A source with an unlabelled successor stays: its label is the only
        judgement of that part. Nothing is hidden from the store, the file view or the exports."""
        labelled = set(labelled)
        successors: dict[int, list[int]] = {}
        with self._db.session() as s:
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


def _check_span(start: float, end: float, duration: float | None) -> None:
    if not 0 <= start < end or end - start < MIN_SEGMENT:
        raise LabelError(f"{start:.2f}-{end:.2f} s is not a segment (at least {MIN_SEGMENT} s, from 0 s on)")
    if duration is not None and end > duration + 1e-3:
        raise LabelError(f"{start:.2f}-{end:.2f} s runs past the end of the file ({duration:.2f} s)")
