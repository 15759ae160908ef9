"""What every corpus job shares: a report of per-file failures, and its row in the store's jobs table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from emotrace.core.progress import Cancelled
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


@contextmanager
def tracked_job(store: Store, kind: str, params: dict) -> Iterator[int]:
    """A jobs-table row that ends as failed or cancelled if the body raises; the body marks it done."""
    job = store.jobs.start_job(kind, params)
    try:
        yield job
    except Cancelled as exc:
        store.jobs.update_job(job, status="cancelled", error=str(exc))
        raise
    except BaseException as exc:
        store.jobs.update_job(job, status="failed", error=str(exc) or type(exc).__name__)
        raise
