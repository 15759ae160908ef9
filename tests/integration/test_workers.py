"""Worker processes over a shared SQLite store, started by `transcribe --workers`, with real transcription."""

from __future__ import annotations

import subprocess
import sys

from emotrace.core.store import Store
from tests.helpers import speech_files


def test_cli_workers_on_sqlite(tmp_path):
    db = str(tmp_path / "w.sqlite")
    speech_files(tmp_path / "speech", 3)
    run = lambda *a: subprocess.run([sys.executable, "-m", "emotrace.cli", "--db", db, "-q", *a], capture_output=True,  # noqa: E731
                                    text=True, timeout=600)
    assert run("import", str(tmp_path / "speech"), "--corpus", "s").returncode == 0
    r = run("transcribe", "--corpus", "s", "--model", "tiny.en", "--beam-size", "1", "--workers", "2")
    assert r.returncode == 0 and "3 files done, 0 failed, 0 left, by 2 workers" in r.stdout, r.stdout + r.stderr
    store = Store(db)
    assert all(f.transcribed_at is not None for f in store.corpora.files(store.corpora.corpus("s").id))
    r = run("transcribe", "--corpus", "s", "--queue")
    assert "queued 0 files" in r.stdout  # nothing new to transcribe
