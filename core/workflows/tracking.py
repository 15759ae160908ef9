"""What every corpus job shares: a report of per-file failures, its row in the store's jobs table, and the claim
on each file it works on (the work queue's lease, the same one `emotrace worker` holds)."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from emotrace.core.progress import CancelFn, Cancelled, ProgressFn, no_progress
from emotrace.core.store import Store


@dataclass
class JobReport:
    files: int = 0
    done: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    notice: str = ""
    busy: list[str] = field(default_factory=list)  # files another process held a claim on: left to it

    def headline(self) -> str:
        return f"{self.done}/{self.files} files done, {len(self.failed)} failed"

    def summary(self) -> str:
        lines = ([f"note: {self.notice}"] if self.notice else []) + [self.headline()]
        lines += [f"  BUSY {p}: another process is working on it (its claim is live); left to it" for p in self.busy]
        return "\n".join(lines + [f"  FAILED {p}: {why}" for p, why in self.failed])


def finish_job(store: Store, job: int, summary: str, progress: ProgressFn = no_progress, total: int = 0) -> None:
    """How a corpus job ends when its body ran through: the bar full ("done") and the jobs-table row done, with
    the report's summary as its message."""
    progress(total, total, "done")
    store.jobs.update_job(job, status="done", progress=1.0, message=summary)


@contextmanager
def tracked_job(store: Store, kind: str, params: dict) -> Iterator[int]:
    """A jobs-table row that ends as failed or cancelled if the body raises; the body ends it with `finish_job`."""
    job = store.jobs.start_job(kind, params)
    try:
        yield job
    except Cancelled as exc:
        store.jobs.update_job(job, status="cancelled", error=str(exc))
        raise
    except BaseException as exc:
        store.jobs.update_job(job, status="failed", error=str(exc) or type(exc).__name__)
        raise


class LeaseHeartbeat(threading.Thread):
    """Extends a work item's lease every third of it, on its own connection; sets `lost` when the item is gone
    (another process took it over after the lease ran out): the holder must stop without writing more."""

    def __init__(self, url: str, item: int, worker: str, lease: float) -> None:
        super().__init__(daemon=True)
        self.url, self.item, self.worker, self.lease = url, item, worker, lease
        self.stop = threading.Event()
        self.lost = False

    def run(self) -> None:
        store = Store(self.url, migrate=False)
        try:
            while not self.stop.wait(self.lease / 3):
                if not store.queue.heartbeat(self.item, self.worker, self.lease):
                    self.lost = True
                    return
        finally:
            store.close()


def process_name() -> str:
    """Who holds a claim: host and process id, as `emotrace worker` names itself."""
    return f"{socket.gethostname()}:{os.getpid()}"


def gone_here(worker: str) -> bool:
    """Whether a claim's holder was a process on this machine that no longer runs (killed, crashed): its lease
    need not be waited out. A holder on another machine cannot be checked; its lease runs out."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class FileClaim:
    item: int
    worker: str
    beat: LeaseHeartbeat

    def cancel(self, outer: CancelFn | None) -> CancelFn:
        """The job's cancel hook, plus: the lease was lost."""
        return lambda: self.beat.lost or bool(outer and outer())


@contextmanager
def claim_file(store: Store, kind: str, file_id: int, *, job: int = 0, lease: float = 60.0) -> Iterator[FileClaim | None]:
    """Hold the work queue's lease on one file while a plain command works on it; yields None when another
    process (a second `emotrace transcribe`, a worker, the app) holds it, and the caller skips the file. The
    item ends done, or failed with the error."""
    worker = process_name()
    item = store.queue.claim_file(kind, file_id, worker, lease, batch=job, holder_gone=gone_here)
    if item is None:
        yield None
        return
    beat = LeaseHeartbeat(store.url, item, worker, lease)
    beat.start()
    error = None
    try:
        yield FileClaim(item, worker, beat)
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        beat.stop.set()
        store.queue.finish(item, worker, error)
