"""Annotation jobs: which segments, to whom, with what overlap, and what a blind annotator may see.

Blind mode exists so agreement and model comparisons are not biased by anchoring: an annotator who sees the
model's prediction or a colleague's label before judging tends to move toward it. So, while blind, an annotator
sees neither until they have saved their own label of that segment; after that, everything (their judgement is
on record, and seeing the others can no longer bias it). Blind is a setting of the job (for everyone in it) or
of the annotator (in every segment they label: `Store.raters.set_blind`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from emotrace.core.errors import UserFacingError
from emotrace.core.store import Store
from emotrace.core.store.assignments import AnnotationJobRow, Assignment
from emotrace.core.vocab import JOB_SELECTIONS
from emotrace.core.workflows.review import review_queue


class JobError(UserFacingError, ValueError):
    """A job that cannot be made as asked (no segments, no annotators, an overlap larger than the team)."""


@dataclass(frozen=True)
class Visibility:
    """What the annotator may see of a segment now."""

    prediction: bool
    others: bool
    reason: str = ""


@dataclass(frozen=True)
class Progress:
    annotator: str
    assigned: int
    done: int

    @property
    def fraction(self) -> float:
        return self.done / self.assigned if self.assigned else 1.0


def select_segments(store: Store, corpus: str, how: str, *, n: int | None = None, split: str | None = None,
                    seed: int = 0, model_version_id: int | None = None) -> list[int]:
    """Segment ids for a job: a seeded random `sample` of n, every segment of a `split` (n of them if given), or
    the `review` queue's top n (the active model's, unless another is named)."""
    corpus_row = store.corpora.corpus(corpus)
    segments = [s for s in store.segments.corpus_segments(corpus_row.id) if s.superseded_at is None]
    if how == "sample":
        ids = [s.id for s in segments]
        return sorted(random.Random(seed).sample(ids, min(n or len(ids), len(ids))))
    if how == "split":
        if not split:
            raise JobError("a split selection needs --split")
        file_split = {f.id: f.split for f in store.corpora.files(corpus_row.id)}
        ids = [s.id for s in segments if (s.split or file_split.get(s.file_id)) == split]
        return ids[:n] if n else ids
    if how == "review":
        if model_version_id is None:
            active = store.models.active_model()
            if active is None:
                raise JobError("the review queue needs a model's predictions: train and analyze first")
            model_version_id = active.id
        return [item.segment_id for item in review_queue(store, corpus_row.id, model_version_id, limit=n or 100)]
    raise JobError(f"unknown selection {how!r}; use one of {', '.join(JOB_SELECTIONS)}")


def assign(segment_ids: list[int], annotators: list[str], overlap: int) -> list[Assignment]:
    """Each segment to `overlap` different annotators, rotating so the load and the pairs are balanced: segment
    i goes to annotators i, i+1, ... (mod the team). Each annotator's positions follow the segment order."""
    annotators = list(dict.fromkeys(a.strip() for a in annotators if a.strip()))
    if not annotators:
        raise JobError("a job needs at least one annotator")
    if not 1 <= overlap <= len(annotators):
        raise JobError(f"overlap {overlap} must be between 1 and the number of annotators ({len(annotators)})")
    out, positions = [], dict.fromkeys(annotators, 0)
    for i, sid in enumerate(segment_ids):
        for j in range(overlap):
            who = annotators[(i + j) % len(annotators)]
            out.append(Assignment(sid, who, positions[who]))
            positions[who] += 1
    return out


def create_job(store: Store, corpus: str, name: str, annotators: list[str], *, how: str = "sample",
               n: int | None = None, split: str | None = None, overlap: int = 1, blind: bool = True,
               seed: int = 0) -> AnnotationJobRow:
    segment_ids = select_segments(store, corpus, how, n=n, split=split, seed=seed)
    if not segment_ids:
        raise JobError(f"the {how} selection found no segments")
    assignments = assign(segment_ids, annotators, overlap)
    selection = {"how": how, "n": n, "split": split, "seed": seed, "segments": len(segment_ids)}
    return store.assignments.create_annotation_job(store.corpora.corpus(corpus).id, name, assignments, blind=blind,
                                                   overlap=overlap, selection=selection)


def _done(store: Store, annotator: str, segment_ids: list[int]) -> set[int]:
    """Segments where the annotator has a standing label of their own (an accepted prediction counts as done)."""
    if not segment_ids:
        return set()
    return {c.segment_id for c in store.labels.current_labels(segment_ids=segment_ids, annotator=annotator)}


def job_progress(store: Store, job: AnnotationJobRow) -> list[Progress]:
    by_annotator: dict[str, list[int]] = {}
    for a in store.assignments.job_assignments(job.id):
        by_annotator.setdefault(a.annotator, []).append(a.segment_id)
    return [Progress(who, len(sids), len(_done(store, who, sids))) for who, sids in sorted(by_annotator.items())]


def next_segment(store: Store, job: AnnotationJobRow, annotator: str) -> int | None:
    """The annotator's first assigned segment they have not labelled yet; None when they are through."""
    mine = [a.segment_id for a in store.assignments.job_assignments(job.id, annotator)]
    done = _done(store, annotator, mine)
    return next((sid for sid in mine if sid not in done), None)


def _labelled_by(store: Store, viewer: str, **where) -> set[int]:
    """Segments the viewer judged themselves: a standing label that is not an accepted prediction (accepting the
    model is no judgement of one's own, so it reveals nothing)."""
    return {c.segment_id for c in store.labels.current_labels(annotator=viewer, include_accepted=False, **where)}


@dataclass(frozen=True)
class Sight:
    """What one viewer may see of a file or a corpus: THE blind rule, which every view and export asks.

    A segment is blind to the viewer when the viewer labels blind (their own setting: every segment) or a blind
    job hands it to them, and they have not saved a label of their own there yet. In a blind segment they see
    neither the model's values nor anyone else's label or history; their own labels always show. Elsewhere
    they see everything, except that a viewer who labels blind everywhere sees the model only inside segments
    they labelled (between segments there is nothing of theirs to reveal it). `viewer=None`: nothing is blind.
    """

    viewer: str | None = None
    everywhere: bool = False  # the viewer's own setting: blind in every segment
    hidden: frozenset[int] = frozenset()  # blind to the viewer and not labelled by them yet
    labelled: frozenset[int] = frozenset()  # judged by the viewer (reveals the segment)

    @property
    def blind(self) -> bool:
        """Whether anything at all is hidden from this viewer here."""
        return self.everywhere or bool(self.hidden)

    def segment(self, segment_id: int) -> Visibility:
        if segment_id in self.hidden:
            return Visibility(False, False, "blind: save your own label to see the model and the others")
        if self.everywhere or segment_id in self.labelled:
            return Visibility(True, True, "revealed after your label was saved")
        return Visibility(True, True)

    def shows(self, segment_id: int) -> bool:
        """Whether the model's values and others' labels of this segment may be shown."""
        return segment_id not in self.hidden

    def shows_label(self, segment_id: int, annotator: str) -> bool:
        return annotator == self.viewer or segment_id not in self.hidden

    def model_mask(self, times: np.ndarray, bounds: np.ndarray, segment_ids: Sequence[int]) -> np.ndarray:
        """Which of the model's window times may be drawn, given the segments' (start, end) bounds: none inside
        a blind segment; for a viewer blind everywhere, only inside segments they labelled."""
        times = np.asarray(times, dtype=float)
        bounds = np.asarray(bounds, dtype=float).reshape(-1, 2)
        if self.everywhere:
            keep = np.zeros(len(times), dtype=bool)
            for (start, end), sid in zip(bounds, segment_ids):
                if int(sid) in self.labelled and int(sid) not in self.hidden:
                    keep |= (times >= start) & (times < end)
            return keep
        keep = np.ones(len(times), dtype=bool)
        for (start, end), sid in zip(bounds, segment_ids):
            if int(sid) in self.hidden:
                keep &= ~((times >= start) & (times < end))
        return keep


def _sight(store: Store, viewer: str | None, segment_ids: set[int], blind_assigned: set[int], labelled: set[int],
           everywhere: bool) -> Sight:
    blind = segment_ids if everywhere else (blind_assigned & segment_ids)
    return Sight(viewer, everywhere, frozenset(blind - labelled), frozenset(labelled))


def file_sight(store: Store, viewer: str | None, file_id: int) -> Sight:
    """What `viewer` may see of one file (the file view, the Annotators dock, hover values)."""
    if not viewer:
        return Sight()
    everywhere = store.raters.is_blind(viewer)
    assigned = set() if everywhere else store.assignments.blind_assigned(file_id, viewer)
    if not everywhere and not assigned:
        return Sight(viewer)
    segments = {s.id for s in store.segments.segments(file_id)}
    return _sight(store, viewer, segments, assigned, _labelled_by(store, viewer, file_id=file_id), everywhere)


def corpus_sight(store: Store, viewer: str | None, corpus_id: int) -> Sight:
    """What `viewer` may see of a whole corpus (the review queue, exports from the app)."""
    if not viewer:
        return Sight()
    everywhere = store.raters.is_blind(viewer)
    assigned: set[int] = set()
    if not everywhere:
        for job in store.assignments.annotation_jobs(corpus_id):
            if job.blind:
                assigned |= {a.segment_id for a in store.assignments.job_assignments(job.id, viewer)}
        if not assigned:
            return Sight(viewer)
    segments = {s.id for s in store.segments.corpus_segments(corpus_id)}
    return _sight(store, viewer, segments, assigned, _labelled_by(store, viewer, corpus_id=corpus_id), everywhere)


def visibility(store: Store, segment_id: int, annotator: str, *, job: AnnotationJobRow | None = None) -> Visibility:
    """One segment's answer of the blind rule (`Sight`): blind by the annotator's own setting or by a job that
    hands them the segment (`job`, or any job), and not yet labelled by them: neither prediction nor others."""
    if not annotator:
        return Visibility(True, True)
    jobs = [job] if job is not None else store.assignments.jobs_of_segment(segment_id, annotator)
    everywhere = store.raters.is_blind(annotator)
    assigned = {segment_id} if any(j.blind for j in jobs) else set()
    if not everywhere and not assigned:
        return Visibility(True, True)
    labelled = _labelled_by(store, annotator, segment_ids=[segment_id])
    return _sight(store, annotator, {segment_id}, assigned, labelled, everywhere).segment(segment_id)
