"""Annotation jobs and their assignments. Which segments to pick and who gets which is
decided in emotrace.core.workflows.annotation_jobs; this module only keeps the record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from emotrace.core.store.database import Repository, StoreError
from emotrace.core.store.models import AnnotationJob, JobAssignment, Segment


@dataclass(frozen=True)
class AnnotationJobRow:
    id: int
    corpus_id: int
    name: str
    blind: bool
    overlap: int
    selection: dict
    created_at: datetime


@dataclass(frozen=True)
class Assignment:
    segment_id: int
    annotator: str
    position: int


def _job_row(job: AnnotationJob) -> AnnotationJobRow:
    return AnnotationJobRow(job.id, job.corpus_id, job.name, job.blind, job.overlap, job.selection or {}, job.created_at)


class AssignmentRepository(Repository):
    """Annotation jobs: which segments each annotator is given, and whether blind."""

    def create_annotation_job(self, corpus_id: int, name: str, assignments: Sequence[Assignment], *, blind: bool,
                              overlap: int, selection: dict) -> AnnotationJobRow:
        """The job and all its assignments in one commit: a job is never half-assigned."""
        with self._db.session() as s:
            if s.scalar(select(AnnotationJob.id).where(AnnotationJob.corpus_id == corpus_id,
                                                       AnnotationJob.name == name)) is not None:
                raise StoreError(f"an annotation job named {name!r} already exists in this corpus")
            job = AnnotationJob(corpus_id=corpus_id, name=name, blind=blind, overlap=overlap, selection=selection)
            s.add(job)
            s.flush()
            s.add_all(JobAssignment(job_id=job.id, segment_id=a.segment_id, annotator=a.annotator,
                                    position=a.position) for a in assignments)
            row = _job_row(job)
        self._db.emit("annotation_jobs_changed", corpus_id=corpus_id)
        return row

    def annotation_jobs(self, corpus_id: int | None = None) -> list[AnnotationJobRow]:
        with self._db.session() as s:
            q = select(AnnotationJob).order_by(AnnotationJob.id)
            if corpus_id is not None:
                q = q.where(AnnotationJob.corpus_id == corpus_id)
            return [_job_row(j) for j in s.scalars(q)]

    def annotation_job(self, corpus_id: int, name: str) -> AnnotationJobRow:
        for job in self.annotation_jobs(corpus_id):
            if job.name == name:
                return job
        known = ", ".join(j.name for j in self.annotation_jobs(corpus_id)) or "none"
        raise StoreError(f"No annotation job {name!r} in this corpus (known: {known})")

    def job_assignments(self, job_id: int, annotator: str | None = None) -> list[Assignment]:
        with self._db.session() as s:
            q = (select(JobAssignment.segment_id, JobAssignment.annotator, JobAssignment.position)
                 .where(JobAssignment.job_id == job_id).order_by(JobAssignment.annotator, JobAssignment.position))
            if annotator is not None:
                q = q.where(JobAssignment.annotator == annotator)
            return [Assignment(*r) for r in s.execute(q)]

    def file_assignment_count(self, file_id: int) -> int:
        """How many job assignments point at the file's segments (human work: an import of new audio at its path
        keeps them with the earlier content rather than deleting them)."""
        with self._db.session() as s:
            return s.scalar(select(func.count(JobAssignment.id)).join(Segment, Segment.id == JobAssignment.segment_id)
                            .where(Segment.file_id == file_id)) or 0

    def blind_assigned(self, file_id: int, annotator: str) -> set[int]:
        """The file's segments a blind job hands to this annotator (what their file view hides until they label)."""
        with self._db.session() as s:
            q = (select(JobAssignment.segment_id).distinct()
                 .join(AnnotationJob, AnnotationJob.id == JobAssignment.job_id)
                 .join(Segment, Segment.id == JobAssignment.segment_id)
                 .where(Segment.file_id == file_id, JobAssignment.annotator == annotator, AnnotationJob.blind))
            return set(s.scalars(q))

    def jobs_of_segment(self, segment_id: int, annotator: str) -> list[AnnotationJobRow]:
        """The jobs that hand this segment to this annotator (their blindness applies to it)."""
        with self._db.session() as s:
            q = (select(AnnotationJob).join(JobAssignment, JobAssignment.job_id == AnnotationJob.id)
                 .where(JobAssignment.segment_id == segment_id, JobAssignment.annotator == annotator))
            return [_job_row(j) for j in s.scalars(q)]
