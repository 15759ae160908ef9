"""What every corpus job shares: a report of per-file failures, and its row in the store's jobs table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from emotrace.core.progress import Cancelled, ProgressFn, no_progress
from emotrace.core.store import Store


@dataclass
class JobReport:
    files: int = 0
    done: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    notice: str = ""

    def headline(self) -> str:
        return f"{self.done}/{self.files} files done, {len(self.failed)} failed"

    def summary(self) -> str:
        lines = ([f"note: {self.notice}"] if self.notice else []) + [self.headline()]
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
