"""The work queue on PostgreSQL: concurrent claims, and four real worker processes surviving a SIGKILLed one
(the same claims on SQLite: tests/unit/test_queue.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from emotrace.core.store import Store, Word
from emotrace.core.workflows.importing import import_folder
from tests.helpers import check_concurrent_claims, speech_files
from tests.postgres.conftest import throwaway_pg_database


@pytest.fixture
def pg_url():
    with throwaway_pg_database("emotrace_q") as url:
        yield url


def test_four_workers_on_postgres_survive_a_killed_worker(pg_url, tmp_path):
    store = Store(pg_url)
    speech_files(tmp_path / "speech", 6, repeats=18)  # about a minute each: a kill lands inside a file
    import_folder(store, tmp_path / "speech", "s")
    ids = [f.id for f in store.corpora.files(store.corpora.corpus("s").id)]
    batch = store.jobs.start_job("transcribe-queue", {})
    store.queue.enqueue(batch, "transcribe", ids, {"model": "tiny.en", "beam_size": 1})
    cmd = [sys.executable, "-m", "emotrace.cli", "--db", pg_url, "-q", "worker", "--kinds", "transcribe", "--batch",
           str(batch), "--device", "cpu", "--lease", "4"]
    workers = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    victim = workers[0]
    deadline = time.monotonic() + 120
    killed_file = None
    while time.monotonic() < deadline and killed_file is None:  # kill the first worker once it has written words
        with store.db.session() as s:
            from emotrace.core.store.models import WorkItem

            mine = s.execute(select(WorkItem.file_id).where(WorkItem.worker.like(f"%:{victim.pid}"),
                                                            WorkItem.status == "claimed")).scalar()
            if mine is not None and s.scalar(select(func.count(Word.id)).where(Word.file_id == mine)):
                killed_file = mine
        time.sleep(0.05)
    assert killed_file is not None, "the first worker never got to write words"
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    with store.db.session() as s:  # what the dead worker still held (it may have finished one file and taken another)
        from emotrace.core.store.models import WorkItem

        lost = s.execute(select(WorkItem.file_id).where(WorkItem.worker.like(f"%:{victim.pid}"),
                                                        WorkItem.status == "claimed")).scalars().all()
    assert len(lost) == 1, "the killed worker held no file"
    killed_file = lost[0]
    for w in workers[1:]:
        out, err = w.communicate(timeout=300)
        assert w.returncode == 0, err
    counts = store.queue.queue_counts(batch)
    assert (counts["done"], counts["failed"], counts["queued"], counts["claimed"]) == (6, 0, 0, 0)
    with store.db.session() as s:
        from emotrace.core.store.models import WorkItem

        attempts = dict(s.execute(select(WorkItem.file_id, WorkItem.attempts).where(WorkItem.batch == batch)).all())
    assert attempts[killed_file] == 2 and all(v == 1 for k, v in attempts.items() if k != killed_file)
    for fid in ids:  # every file transcribed once to completion: words present, none twice
        words = [(round(w.start, 2), w.text) for w in store.words.words(fid)]
        assert len(words) >= 10 and len(words) == len(set(words)), fid
        assert store.corpora.file(fid).transcribed_at is not None and store.segments.segments(fid)


def test_concurrent_claims_never_hand_out_one_item_twice_on_postgres(pg_url, tmp_path):
    check_concurrent_claims(pg_url, tmp_path)
