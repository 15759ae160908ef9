"""SIGKILL loses nothing committed: the app (offscreen, in its own process) killed after saving labels or while
tracing, a CLI import killed mid-job and run again, and the jobs of a killed process marked interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

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
    current = fresh.segment_labels(file_id=file_id, annotator="killed")
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
    t, _v = store.current_trace(file_id, "killed", "arousal")
    assert len(t) and t[-1] >= position - 1.0 - 0.15  # at most the chunk in flight (1 s) is lost
