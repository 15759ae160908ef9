"""A screenshot of progress inside a file (issue 25, item 5) in a real window (under Xvfb): the Jobs dock during
a real analysis of a 40-minute file by the bundled model, with the file's percent, rate (x real time) and time
left. The file is the packaged demo audio (JFK's inaugural and the two-speaker clip) repeated. Writes
progress_jobs.png (the window) once the job is between 20% and 80% of the file with a rate known.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots_progress.py --out docs/screenshots
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("EMOTRACE_HOME", tempfile.mkdtemp())

from scripts.screenshots import demo_store, out_folder, settle, shoot, wait  # noqa: E402


def long_demo(folder: Path, minutes: float = 6.0) -> Path:
    """The demo's two clips (11 s and 30 s of speech) one after the other until `minutes` are filled."""
    import numpy as np  # lazy: only this script writes audio
    import soundfile as sf  # lazy: as above

    clips = []
    for name in ("jfk_inaugural.flac", "two_speakers_30s.flac"):
        audio, sr = sf.read(ROOT / "resources" / "demo" / name, dtype="float32", always_2d=True)
        assert sr == 16000, sr
        clips.append(audio.mean(axis=1))
    out, n = [], 0
    while n < minutes * 60 * 16000:
        for clip in clips:
            out.append(clip)
            n += len(clip)
    path = folder / "long_demo.flac"
    sf.write(path, np.concatenate(out)[: int(minutes * 60 * 16000)], 16000)
    return path


def main() -> None:
    out = out_folder()
    from emotrace.core.workflows.importing import import_folder

    store = demo_store(("jfk_inaugural.flac",))
    folder = Path(tempfile.mkdtemp()) / "long"
    folder.mkdir()
    long_demo(folder, minutes=40.0)  # long enough that the streamed trajectory shows before the job ends
    import_folder(store, folder, "long")
    f = store.corpora.files(store.corpora.corpus("long").id)[0]

    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication

    from emotrace.gui.main_window import MainWindow
    from emotrace.gui.settings import AppSettings
    from emotrace.gui.tasks import TaskRow

    QCoreApplication.setOrganizationName("EmoTraceShots")
    QCoreApplication.setApplicationName("EmoTraceShotsProgress")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(Path(tempfile.mkdtemp()) / "qsettings"))
    app = QApplication([])
    w = MainWindow(store, AppSettings(db_url=store.url, annotator="ann", device="cpu"))
    w.resize(1600, 1000)
    w.show()
    w.browser.reload_corpora(select="long")
    settle(app, 1.0)
    w.open_file(f.id)
    w.docks["Jobs"].raise_()
    w.analyze()
    row = w.tasks.findChild(TaskRow)

    def mid_file() -> bool:
        """Between 20% and 80% of the file, its rate known, and the trajectory analysed so far drawn."""
        m = re.search(r" (\d+)% \(", row.label.text())
        drawn = w.data is not None and any(len(t) for t, _values in w.data.trajectories.values())
        return m is not None and 20 <= int(m.group(1)) <= 80 and "left" in row.label.text() and drawn

    wait(app, mid_file, 900)
    settle(app, 0.5)
    print(row.label.text(), flush=True)
    shoot(app, w, out / "progress_jobs.png")
    w.tasks.cancel_all()
    w.close()


if __name__ == "__main__":
    main()
