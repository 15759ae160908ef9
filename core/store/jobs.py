"""Job rows: what each import, transcription, analysis or training run did, and whether its process still lives."""

from __future__ import annotations

import os
import socket
from typing import Any

from sqlalchemy import func, select

from emotrace.core.store.database import Repository
from emotrace.core.store.models import Job


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else
        return True
    return True


class JobRepository(Repository):
    """Running, finished and interrupted jobs."""

    def start_job(self, kind: str, params: dict | None = None) -> int:
        """A running job row; its process id and host let a later process tell a killed job from a live one."""
        owner = {"pid": os.getpid(), "host": socket.gethostname()}
        with self._db.session() as s:
            job = Job(kind=kind, params={**(params or {}), "_owner": owner}, status="running")
            s.add(job)
            s.flush()
            return job.id

    def mark_interrupted_jobs(self) -> int:
        """Jobs left `running` by a process that is gone (SIGKILL, power loss, a lock failure while it exited) become
        `interrupted`. Only rows whose owner ran on this host can be checked; rows of other hosts (a shared
        PostgreSQL store) are left alone. Rows from before owners were recorded count as gone."""
        host = socket.gethostname()
        with self._db.session() as s:
            n = 0
            for job in s.scalars(select(Job).where(Job.status == "running")):
                owner = (job.params or {}).get("_owner") or {}
                if owner and (owner.get("host") != host or _process_alive(int(owner.get("pid", 0)))):
                    continue
                job.status = "interrupted"
                job.error = (f"the process (pid {owner['pid']}) ended before the job finished" if owner
                             else "the process ended before the job finished")
                n += 1
        return n

    def activity(self) -> tuple:
        """A cheap mark that changes whenever any process starts, advances or ends a job (an import, a
        transcription, an analysis run by the CLI while the app is open): the app polls it to refresh."""
        with self._db.session() as s:
            return tuple(s.execute(select(func.count(Job.id), func.max(Job.updated_at))).one())

    def update_job(self, job_id: int, **fields: Any) -> None:
        with self._db.session() as s:
            job = s.get(Job, job_id)
            for key, value in fields.items():
                setattr(job, key, value)
