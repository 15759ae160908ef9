"""A work queue in the store itself: one row per file and job kind, claimed with a lease.

Why not procrastinate or pgqueuer: both are PostgreSQL-only and asyncio-first, while EmoTrace's default store is
SQLite and its jobs are synchronous CPU/GPU work that commits as it goes; and the queue must live in the same
database, under the same Alembic migrations, as the work it guards. So: `SELECT ... FOR UPDATE SKIP LOCKED` on
PostgreSQL (concurrent workers claim different rows without waiting on each other); on SQLite the single writer
lock already serialises claims (one machine; several worker processes take turns at the lock).

A claim holds a lease that the worker's heartbeat extends. A worker killed mid-file stops extending it; once it
expires, any worker may claim the file again, and the jobs resume where the dead worker's last commit left off
(transcription per ASR segment, analysis per file at once), so nothing is done twice to completion. A worker
whose lease was taken over learns it at its next heartbeat or at completion, and stops without writing more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from emotrace.core.store.database import Repository
from emotrace.core.store.models import WorkItem

QUEUED, CLAIMED, DONE, FAILED = "queued", "claimed", "done", "failed"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Claim:
    id: int
    batch: int
    kind: str
    file_id: int
    params: dict
    attempts: int


class WorkQueue(Repository):
    """Work items per file and job kind, claimed by workers under a lease."""

    def enqueue(self, batch: int, kind: str, file_ids: Sequence[int], params: dict | None = None) -> int:
        """Queue one item per file (a file already queued or claimed for this kind is not queued twice)."""
        with self._db.session() as s:
            busy = set(s.scalars(select(WorkItem.file_id).where(WorkItem.kind == kind,
                                                                WorkItem.status.in_((QUEUED, CLAIMED)))))
            new = [WorkItem(batch=batch, kind=kind, file_id=f, params=params or {}, status=QUEUED, attempts=0)
                   for f in file_ids if f not in busy]
            s.add_all(new)
        return len(new)

    def claim(self, worker: str, kinds: Sequence[str], lease_seconds: float = 60.0, max_attempts: int = 3,
              batch: int | None = None) -> Claim | None:
        """The oldest item that is queued or whose lease ran out; None when there is nothing to do."""
        now = _now()
        t = WorkItem.__table__
        q = (select(t.c.id, t.c.batch, t.c.kind, t.c.file_id, t.c.params, t.c.attempts).where(
            t.c.kind.in_(list(kinds)),
            or_(t.c.status == QUEUED, and_(t.c.status == CLAIMED, t.c.lease_until < now)),
            *([t.c.batch == batch] if batch is not None else []))
            .order_by(t.c.id).limit(1).with_for_update(skip_locked=True))
        with self._db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":  # take the write lock first: two readers must not pick one row
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                while (row := conn.execute(q).first()) is not None:
                    if row.attempts < max_attempts:
                        conn.execute(update(t).where(t.c.id == row.id).values(
                            status=CLAIMED, worker=worker, lease_until=now + timedelta(seconds=lease_seconds),
                            attempts=row.attempts + 1))
                        conn.commit()
                        return Claim(row.id, row.batch, row.kind, row.file_id, dict(row.params or {}),
                                     row.attempts + 1)
                    # claimed and lost too often: a file that kills its workers is set aside with a reason
                    conn.execute(update(t).where(t.c.id == row.id).values(
                        status=FAILED, finished_at=now,
                        error=f"given up after {row.attempts} attempts (the workers holding it stopped)"))
                conn.commit()
                return None
            except BaseException:
                conn.rollback()
                raise

    def claim_file(self, kind: str, file_id: int, worker: str, lease_seconds: float = 60.0,
                   batch: int = 0, holder_gone: Callable[[str], bool] | None = None) -> int | None:
        """Claim one file for a plain command (`emotrace transcribe`, `diarize`, the app's jobs) through the same
        lease the workers hold: the file's queued item becomes ours, or one whose lease ran out, or a new claimed
        item. None when another process holds a live lease on it (the caller skips the file and says so). At
        most one queued or claimed item per file and kind is a database rule (migration 0010), so two processes
        racing for one file cannot both win, on PostgreSQL as on SQLite. `holder_gone(worker)` says whether a
        live lease's holder is known to be dead (a killed process on this machine): its claim is taken over at
        once rather than after the lease, so a rerun after a kill goes on where it stopped."""
        now = _now()
        t = WorkItem.__table__
        lease = now + timedelta(seconds=lease_seconds)
        q = (select(t.c.id, t.c.status, t.c.lease_until, t.c.attempts, t.c.worker)
             .where(t.c.kind == kind, t.c.file_id == file_id, t.c.status.in_((QUEUED, CLAIMED))).with_for_update())
        with self._db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                row = conn.execute(q).first()
                if row is None:
                    item = conn.execute(insert(t).values(
                        batch=batch, kind=kind, file_id=file_id, params={}, status=CLAIMED, worker=worker,
                        lease_until=lease, attempts=1, created_at=now)).inserted_primary_key[0]
                else:
                    until = row.lease_until if row.lease_until is None or row.lease_until.tzinfo else \
                        row.lease_until.replace(tzinfo=UTC)  # SQLite gives naive UTC back
                    if row.status == CLAIMED and until is not None and until >= now and not (
                            holder_gone is not None and holder_gone(row.worker or "")):
                        conn.rollback()
                        return None
                    conn.execute(update(t).where(t.c.id == row.id).values(
                        status=CLAIMED, worker=worker, lease_until=lease, attempts=row.attempts + 1))
                    item = row.id
                conn.commit()
                return item
            except IntegrityError:  # PostgreSQL: another process inserted the file's item first
                conn.rollback()
                return None
            except BaseException:
                conn.rollback()
                raise

    def heartbeat(self, item_id: int, worker: str, lease_seconds: float = 60.0) -> bool:
        """Extend the lease; False when the item is no longer this worker's (it must stop)."""
        with self._db.session() as s:
            done = s.execute(update(WorkItem).where(WorkItem.id == item_id, WorkItem.worker == worker,
                                                    WorkItem.status == CLAIMED)
                             .values(lease_until=_now() + timedelta(seconds=lease_seconds)))
            return done.rowcount == 1

    def finish(self, item_id: int, worker: str, error: str | None = None) -> bool:
        """Mark done (or failed with the reason) if the item is still this worker's."""
        with self._db.session() as s:
            done = s.execute(update(WorkItem).where(WorkItem.id == item_id, WorkItem.worker == worker,
                                                    WorkItem.status == CLAIMED)
                             .values(status=FAILED if error else DONE, error=error, finished_at=_now()))
            return done.rowcount == 1

    def queue_counts(self, batch: int | None = None) -> dict[str, int]:
        """Items per state (and live workers), for progress across machines."""
        with self._db.session() as s:
            q = select(WorkItem.status, func.count()).group_by(WorkItem.status)
            if batch is not None:
                q = q.where(WorkItem.batch == batch)
            counts = {status: n for status, n in s.execute(q)}
            w = select(func.count(func.distinct(WorkItem.worker))).where(WorkItem.status == CLAIMED,
                                                                         WorkItem.lease_until >= _now())
            if batch is not None:
                w = w.where(WorkItem.batch == batch)
            counts["workers"] = s.scalar(w) or 0
        return {k: counts.get(k, 0) for k in (QUEUED, CLAIMED, DONE, FAILED, "workers")}

    def queue_failures(self, batch: int) -> list[tuple[int, str]]:
        with self._db.session() as s:
            return [(r[0], r[1] or "") for r in s.execute(select(WorkItem.file_id, WorkItem.error)
                                                          .where(WorkItem.batch == batch, WorkItem.status == FAILED))]
