"""SIGKILL loses nothing committed: the app (offscreen, in its own process) killed after saving labels or while
tracing, a CLI import killed mid-job and run again, and the jobs of a killed process marked interrupted."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emotrace.core.store import Store
from tests.helpers import REPO as ROOT
from tests.helpers import cli

KILL_SCRIPT = textwrap.dedent("""
    import os, sys, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QCoreApplication, QTimer
    from PySide6.QtWidgets import QApplication
    QCoreApplication.setOrganizationName("EmoTraceKill"); QCoreApplication.setApplicationName("EmoTraceKill")
    app = QApplication([])
    from emotrace.core.store import Store
    from emotrace.gui.main_window import MainWindow
    from emotrace.gui.settings import AppSettings
    store = Store(sys.argv[1])
    w = MainWindow(store, AppSettings(db_url=sys.argv[1], annotator="killed"))
    w.show()
    w.browser.select_row(0)
    def edit():
        for i, value in enumerate([2.0, 3.5, 6.5]):
            w.select_segment(i)
            w.editor.spins[0].setValue(value)
            w.editor.save()
        print("SAVED", flush=True)
    QTimer.singleShot(100, edit)
    app.exec()
""")


def test_killing_the_app_loses_no_saved_edit(populated, tmp_path):
    store, file_id, _m = populated
    script = tmp_path / "kill_me.py"
    script.write_text(KILL_SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen([sys.executable, str(script), store.url], stdout=subprocess.PIPE, text=True, env=env)
    for line in proc.stdout:
        if "SAVED" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    from emotrace.core.store import Store

    fresh = Store(store.url)
    current = fresh.labels.segment_labels(file_id=file_id, annotator="killed")
    assert sorted(label.values[0] for label in current.values()) == [2.0, 3.5, 6.5]


KILL_TRACE = textwrap.dedent("""
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QCoreApplication, QTimer
    from PySide6.QtWidgets import QApplication
    QCoreApplication.setOrganizationName("EmoTraceKillTrace"); QCoreApplication.setApplicationName("EmoTraceKillTrace")
    app = QApplication([])
    from emotrace.core.store import Store
    from emotrace.gui.main_window import MainWindow
    from emotrace.gui.settings import AppSettings
    store = Store(sys.argv[1])
    w = MainWindow(store, AppSettings(db_url=sys.argv[1], annotator="killed"))
    w.show()
    w.browser.select_row(0)
    def go():
        w.tracing.start()
        w.tracing.set_value(5.0)
    def report():
        print("POS", w.player.position(), flush=True)
    QTimer.singleShot(200, go)
    t = QTimer(); t.timeout.connect(report); t.start(100)
    app.exec()
""")


def test_killing_the_app_while_tracing_loses_at_most_a_second(populated, tmp_path):
    store, file_id, _mv = populated
    script = tmp_path / "kill_trace.py"
    script.write_text(KILL_TRACE)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen([sys.executable, str(script), store.url], stdout=subprocess.PIPE, text=True, env=env)
    position = 0.0
    for line in proc.stdout:
        if line.startswith("POS"):
            position = float(line.split()[1])
            if position >= 3.5:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    t, _v = store.traces.current_trace(file_id, "killed", "arousal")
    assert len(t) and t[-1] >= position - 1.0 - 0.15  # at most the chunk in flight (1 s) is lost


def test_jobs_of_a_killed_process_are_marked_interrupted(store):
    code = ("import os, signal; from emotrace.core.store import Store; s = Store(os.environ['DB']); "
            "s.jobs.start_job('import', {});"
            "os.kill(os.getpid(), signal.SIGKILL)")
    r = subprocess.run([sys.executable, "-c", code], env={**os.environ, "DB": store.url}, cwd=ROOT)
    assert r.returncode == -signal.SIGKILL
    alive = store.jobs.start_job("analyze", {})  # this process is alive: its job is left alone
    fresh = Store(store.url)
    from emotrace.core.store.models import Job

    with fresh.db.session() as s:
        statuses = {j.kind: (j.status, j.error) for j in s.query(Job)}
    assert statuses["import"][0] == "interrupted" and "ended before the job finished" in statuses["import"][1]
    assert statuses["analyze"][0] == "running"
    store.jobs.update_job(alive, status="done")


def _running_jobs(db: Path) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        if not con.execute("SELECT name FROM sqlite_master WHERE name = 'jobs'").fetchone():
            return 0
        return con.execute("SELECT count(*) FROM jobs WHERE status = 'running'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.6])
def test_sigkill_during_import_then_rerun(tmp_path, delay):
    """Killed `delay` s into its job (120 files at 44.1 kHz, committed every 50): the rerun completes the corpus,
    keeps what was committed, duplicates nothing, and the killed job is marked interrupted."""
    root = tmp_path / "c"
    rng = np.random.default_rng(0)
    for i in range(120):
        path = root / f"s{i % 3}" / f"u{i:03d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), (0.1 * rng.standard_normal(44100)).astype(np.float32), 44100)
    db = tmp_path / "s.sqlite"
    cmd = [sys.executable, "-m", "emotrace.cli", "--db", str(db), "-q", "import", str(root), "--corpus", "c"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and not _running_jobs(db):
        time.sleep(0.02)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    con = sqlite3.connect(db)
    committed = {r[0] for r in con.execute("SELECT fingerprint FROM audio_files")}
    con.close()
    r = cli("--db", str(db), "-q", "import", str(root), "--corpus", "c")
    assert r.returncode == 0, r.stderr
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    fingerprints = [r[0] for r in con.execute("SELECT fingerprint FROM audio_files")]
    assert len(fingerprints) == len(set(fingerprints)) == 120 and committed <= set(fingerprints)
    statuses = sorted(r[0] for r in con.execute("SELECT status FROM jobs"))
    con.close()
    assert statuses in (["done", "interrupted"], ["done", "done"])  # killed inside the job, or just after it
