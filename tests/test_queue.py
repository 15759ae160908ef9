"""Workers over a shared store: the queue's claims, leases and recovery, on SQLite and on the PostgreSQL server
the test command starts, with real transcription by real worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import func, select

from emotrace.core.audio.decode import AudioSource
from emotrace.core.store import Store, Word
from emotrace.core.workflows.importing import import_folder
from tests.conftest import throwaway_pg_database, write_audio

PG_URL = os.environ.get("EMOTRACE_TEST_PG_URL")
from tests.conftest import SPEECH_SAMPLES as SAMPLES  # noqa: E402


@pytest.fixture
def pg_url():
    with throwaway_pg_database("emotrace_q") as url:
        yield url


def _corpus(store: Store, root: Path, n: int) -> list[int]:
    for k in range(n):
        write_audio(root / f"f{k}.wav", 2.0, freq=200 + 10 * k)
    import_folder(store, root, "q")
    return [f.id for f in store.corpora.files(store.corpora.corpus("q").id)]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_claims_never_hand_out_one_item_twice(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'q.sqlite'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    store = Store(url)
    ids = _corpus(store, tmp_path / "c", 24)
    batch = store.jobs.start_job("test-queue", {})
    assert store.queue.enqueue(batch, "transcribe", ids) == 24
    assert store.queue.enqueue(batch, "transcribe", ids) == 0  # already queued: not twice
    claimed: list[int] = []
    lock = threading.Lock()

    def claimer(name: str) -> None:
        own = Store(url, migrate=False)
        while (c := own.queue.claim(name, ["transcribe"], lease_seconds=30)) is not None:
            with lock:
                claimed.append(c.file_id)
            assert own.queue.finish(c.id, name)
        own.close()

    threads = [threading.Thread(target=claimer, args=(f"w{k}",)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(claimed) == sorted(ids)  # each exactly once
    assert store.queue.queue_counts(batch) == {"queued": 0, "claimed": 0, "done": 24, "failed": 0, "workers": 0}


def test_an_expired_lease_is_claimed_again_and_the_old_holder_cannot_finish(store, tmp_path):
    ids = _corpus(store, tmp_path / "c", 1)
    batch = store.jobs.start_job("test-queue", {})
    store.queue.enqueue(batch, "transcribe", ids)
    first = store.queue.claim("dead", ["transcribe"], lease_seconds=0.2)
    assert store.queue.claim("alive", ["transcribe"], lease_seconds=30) is None  # leased
    time.sleep(0.3)
    second = store.queue.claim("alive", ["transcribe"], lease_seconds=30)
    assert second.file_id == first.file_id and second.attempts == 2
    assert not store.queue.heartbeat(first.id, "dead") and not store.queue.finish(first.id, "dead")
    assert store.queue.finish(second.id, "alive")
    store.queue.enqueue(batch, "transcribe", ids)  # done items can be queued again (a redo)
    for k in range(3):
        store.queue.claim(f"crash{k}", ["transcribe"], lease_seconds=0.01)
        time.sleep(0.02)
    assert store.queue.claim("next", ["transcribe"]) is None  # given up after 3 attempts, with the reason
    assert "given up after 3 attempts" in store.queue.queue_failures(batch)[0][1]


def _speech_files(root: Path, n: int, repeats: int = 6) -> None:
    """n different files of real speech (the samples in several orders, with pauses; about 3.5 s per repeat)."""
    clips = [AudioSource(SAMPLES / name).decode_all() for name in ("quick_brown_fox.wav", "counting.wav",
                                                                  "hello_world.wav")]
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        parts = []
        for j in rng.permutation(repeats) % 3:
            parts += [clips[j], np.zeros(int(16000 * rng.uniform(0.6, 1.4)), np.float32)]
        sf.write(root / f"talk{k}.wav", np.concatenate(parts), 16000)


def test_four_workers_on_postgres_survive_a_killed_worker(pg_url, tmp_path):
    store = Store(pg_url)
    _speech_files(tmp_path / "speech", 6, repeats=18)  # about a minute each: a kill lands inside a file
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


def test_cli_workers_on_sqlite(tmp_path):
    db = str(tmp_path / "w.sqlite")
    _speech_files(tmp_path / "speech", 3)
    run = lambda *a: subprocess.run([sys.executable, "-m", "emotrace.cli", "--db", db, "-q", *a], capture_output=True,  # noqa: E731
                                    text=True, timeout=600)
    assert run("import", str(tmp_path / "speech"), "--corpus", "s").returncode == 0
    r = run("transcribe", "--corpus", "s", "--model", "tiny.en", "--beam-size", "1", "--workers", "2")
    assert r.returncode == 0 and "3 files done, 0 failed, 0 left, by 2 workers" in r.stdout, r.stdout + r.stderr
    store = Store(db)
    assert all(f.transcribed_at is not None for f in store.corpora.files(store.corpora.corpus("s").id))
    r = run("transcribe", "--corpus", "s", "--queue")
    assert "queued 0 files" in r.stdout  # nothing new to transcribe
