"""Screenshots of the acoustic lanes and the trust shading (issue 26) in a real window (under Xvfb).

The demo corpus is imported and analyzed by the bundled model (with its trust statistics); the app opens JFK's
inaugural with the spectrogram, F0 and loudness lanes on. Writes acoustic_lanes.png (the whole clip) and
acoustic_lanes_detail.png (3 s of it).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots_acoustics.py --out docs/screenshots
    (or DISPLAY=:93 with an Xvfb already running there)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("EMOTRACE_HOME", tempfile.mkdtemp())

from scripts.screenshots import demo_store, out_folder, settle, shoot, wait  # noqa: E402


def main() -> None:
    out = out_folder()
    from emotrace.core.workflows.analyze import analyze_corpus

    store = demo_store(("jfk_inaugural.flac", "two_speakers_30s.flac"))
    print(analyze_corpus(store, "demo", device="cpu").summary(), flush=True)
    f = next(x for x in store.corpora.files(store.corpora.corpus("demo").id) if x.path.endswith("jfk_inaugural.flac"))

    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication

    from emotrace.gui.main_window import MainWindow
    from emotrace.gui.settings import AppSettings

    QCoreApplication.setOrganizationName("EmoTraceShots")
    QCoreApplication.setApplicationName("EmoTraceShotsAcoustics")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(Path(tempfile.mkdtemp()) / "qsettings"))
    app = QApplication([])
    w = MainWindow(store, AppSettings(db_url=store.url, annotator="ann"))
    w.resize(1600, 1000)
    w.show()
    w.open_file(f.id)
    lanes = w.file_view.acoustic
    for action in lanes.actions:
        action.setChecked(True)
    wait(app, lambda: lanes.tracks is not None, 300)
    w.view_state.set_view(0.0, f.duration)
    w.seek(4.2)
    settle(app, 1.0)
    shoot(app, w, out / "acoustic_lanes.png")
    w.view_state.set_view(3.0, 6.0)
    settle(app, 0.5)
    shoot(app, w.file_view, out / "acoustic_lanes_detail.png")
    w.close()


if __name__ == "__main__":
    main()
