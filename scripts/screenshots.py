"""Run the app in a real window (under Xvfb) on the demo corpus and write PNG screenshots.

1. Imports resources/demo, transcribes it (whisper base), trains a model with the offline backbone on a
   labelled corpus (default ../shared/data/ravdess-dev; never committed), analyzes the demo, and shoots the
   main window on a real speech file with its words and trajectories.
2. A scripted correction session on that labelled corpus: corrects labels with the keyboard, retrains from
   the Retrain button, shoots the before/after CCC table, activates, and shoots the redrawn trajectories.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots.py --out docs/screenshots
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def out_folder() -> Path:
    """The `--out` folder of a screenshot script whose only option it is (default docs/screenshots), created."""
    import argparse  # lazy: only the scripts that take no other option parse here

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def demo_store(names: tuple[str, ...]):
    """A fresh SQLite store with the bundled model and the named packaged demo files imported as corpus "demo"
    (copied to a temporary folder, so the repository's resources stay untouched). Returns the Store."""
    import shutil  # lazy: only the screenshot scripts that build a demo store need it

    from emotrace.core.store import Store  # lazy: scripts set EMOTRACE_HOME before the store is imported
    from emotrace.core.workflows.importing import import_folder  # lazy: as above
    from emotrace.training.default_model import ensure_default_model  # lazy: as above

    root = Path(__file__).resolve().parents[1]
    tmp = Path(tempfile.mkdtemp())
    (tmp / "demo").mkdir()
    for name in names:
        shutil.copy(root / "resources" / "demo" / name, tmp / "demo")
    store = Store(f"sqlite:///{tmp / 'shots.sqlite'}")
    ensure_default_model(store)
    import_folder(store, tmp / "demo", "demo")
    return store


def wait(app, predicate, timeout: float = 600.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        app.processEvents()
        time.sleep(0.02)
        if time.monotonic() > end:
            raise TimeoutError("timed out waiting in the scripted session")


def settle(app, seconds: float = 0.4) -> None:
    """Let the event loop run for a while (pending paints, queued signals)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def shoot(app, widget, path: Path):
    """Grab a widget as the screen shows it (a real window under Xvfb), once pending paints are done."""
    settle(app)
    screen = widget.screen()
    pixmap = screen.grabWindow(widget.winId()) if screen is not None else widget.grab()
    if pixmap.isNull():
        pixmap = widget.grab()
    pixmap.save(str(path))
    print(f"wrote {path}", flush=True)
    return pixmap


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    ap.add_argument("--labelled", default=str(ROOT.parent / "shared" / "data" / "ravdess-dev"))
    ap.add_argument("--asr-model", default="base")
    ap.add_argument("--db", help="store to use (default: a new one in a temporary folder)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("EMOTRACE_HOME", tempfile.mkdtemp())
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from emotrace.core.speech.asr import Transcriber
    from emotrace.core.store import Store
    from emotrace.core.workflows.analyze import analyze_corpus
    from emotrace.core.workflows.importing import import_folder
    from emotrace.core.workflows.transcribe import transcribe_corpus
    from emotrace.training.trainer import TrainConfig, train

    store = Store(args.db or f"sqlite:///{tempfile.mkdtemp()}/screens.sqlite")
    import_folder(store, ROOT / "resources" / "demo", "demo")
    transcribe_corpus(store, "demo", Transcriber(args.asr_model))
    import_folder(store, args.labelled, "rav")
    first = train(store, TrainConfig(corpus="rav", device="cpu"))
    print(json.dumps({"first_model": first.model_version_id, "ccc": first.metrics["ccc"]}), flush=True)
    analyze_corpus(store, "demo", device="cpu")

    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from emotrace.gui.main_window import MainWindow
    from emotrace.gui.settings import AppSettings

    QCoreApplication.setOrganizationName("EmoTraceScreens")
    QCoreApplication.setApplicationName("EmoTraceScreens")
    app = QApplication([])
    window = MainWindow(store, AppSettings(db_url=store.url, annotator="screenshot", device="cpu"))
    window.resize(1600, 1000)
    window.show()
    window.activateWindow()  # window shortcuts (the annotation keys) need the active window
    QTest.qWaitForWindowActive(window, 5000)
    window.browser.corpus_box.setCurrentIndex(window.browser.corpus_box.findText("demo"))
    app.processEvents()
    jfk = next(f.id for f in store.corpora.files(store.corpora.corpus("demo").id) if "jfk" in f.path)
    window.browser.select_file(jfk)
    wait(app, lambda: window.data is not None and window.data.file_id == jfk)
    window.file_view.set_view(0, window.data.duration)
    window.seek(4.2)
    shoot(app, window, out / "main_window.png")

    # -- scripted correction session on the labelled corpus ---------------------------------------
    window.browser.corpus_box.setCurrentIndex(window.browser.corpus_box.findText("rav"))
    app.processEvents()
    edits = 0
    for row in range(6):
        window.browser.select_row(row)
        app.processEvents()
        window.file_view.setFocus()
        QTest.keyClick(window, Qt.Key.Key_6)  # arousal (the focused dimension) -> 6
        QTest.keyClick(window, Qt.Key.Key_BracketRight)
        QTest.keyClick(window, Qt.Key.Key_3)  # valence -> 3
        QTest.keyClick(window, Qt.Key.Key_BracketLeft)
        QTest.keyClick(window, Qt.Key.Key_Return)
        edits += 1
    window.browser.select_row(5)  # Enter moved on to the next file: show the last one edited, its history
    app.processEvents()
    shoot(app, window, out / "label_editing.png")
    window.act_retrain.trigger()
    dialog = window.retrain_dialog
    dialog.resize(800, 650)
    dialog.start_button.click()
    wait(app, lambda: dialog.activate_button.isEnabled() or "failed" in dialog.status.text().lower())
    shoot(app, dialog, out / "retrain_before_after.png")
    new_version = dialog.new_version
    dialog.activate_button.click()
    wait(app, lambda: not window.tasks.running())  # the re-analysis with the new version
    window.browser.corpus_box.setCurrentIndex(window.browser.corpus_box.findText("rav"))
    window.browser.select_row(0)
    window.compare_box.setCurrentIndex(window.compare_box.findData(first.model_version_id))
    app.processEvents()
    shoot(app, window, out / "after_retrain.png")
    history = [len(store.labels.label_history(int(sid))) for sid in window.data.seg_ids]
    print(json.dumps({"edits": edits, "new_model": new_version, "active": store.models.active_model().id,
                      "history_rows_first_file": history}), flush=True)
    window.close()


if __name__ == "__main__":
    main()
