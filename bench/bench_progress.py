"""Progress inside a file (issue 25, item 5): what the progress calls and the streamed trajectories cost.

1. A real analysis (the bundled model, CPU) of a 6-minute file made of the demo audio: how many progress
   messages per second of audio it sends, and what one message costs in the CLI's bars (terminal and log mode)
   and in the FileClock arithmetic the Jobs dock shares.
2. The open file's refresh while analysis streams (offscreen Qt): reading a 20-minute file's trajectory and
   trust at the bundled model's hop, redrawing its curves, and the 3 s poll's `window_mark`.

    QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1 python bench/bench_progress.py
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("EMOTRACE_HOME", tempfile.mkdtemp())
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    from emotrace.cli.bars import FileBars
    from emotrace.core.progress import FileClock
    from emotrace.core.store import PredictionRow
    from emotrace.core.workflows.analyze import analyze_corpus
    from emotrace.core.workflows.importing import import_folder
    from scripts.screenshots import demo_store
    from scripts.screenshots_progress import long_demo

    store = demo_store(("jfk_inaugural.flac",))
    folder = Path(tempfile.mkdtemp()) / "long"
    folder.mkdir()
    long_demo(folder, minutes=6.0)
    import_folder(store, folder, "long")
    seen: list[tuple[int, int, str]] = []
    t0 = time.perf_counter()
    report = analyze_corpus(store, "long", device="cpu", progress=lambda d, t, m: seen.append((d, t, m)))
    wall = time.perf_counter() - t0
    print(report.summary())
    positions = [m for _d, _t, m in seen if "%" in m]
    print(f"analysis: {len(seen)} messages ({len(positions)} with a position) for 360 s of audio in {wall:.1f} s: "
          f"{len(seen) / 360:.3f} messages per second of audio")

    messages = seen * 200
    for tty in (True, False):
        def replay(tty=tty):
            bars = FileBars("analyze", stream=io.StringIO(), tty=tty)
            for d, t, m in messages:
                bars(d, t, m)
            bars.close()
        per = best(replay) / len(messages)
        print(f"FileBars ({'terminal' if tty else 'log'}): {per * 1e6:.1f} us per message")
    clock = FileClock()
    per = best(lambda: [clock.update(m) for _d, _t, m in messages]) / len(messages)
    print(f"FileClock.update: {per * 1e6:.1f} us per message")

    # 2. a 20-minute file's trajectory at the bundled model's hop, redrawn in the main window
    from PySide6.QtWidgets import QApplication

    from emotrace.gui.main_window import MainWindow
    from emotrace.gui.settings import AppSettings
    from scripts.screenshots import settle

    app = QApplication([])
    f = store.corpora.files(store.corpora.corpus("long").id)[0]
    mv = store.models.active_model().id
    hop = 1.0
    rows = [PredictionRow(None, "window", a, a + 4.0, tuple(4 + np.sin([a / 7, a / 11, a / 13])), trust=0.5)
            for a in np.arange(0, 1200 - 4, hop)]
    store.predictions.replace_predictions(f.id, mv, rows)
    print(f"20-minute file: {len(rows)} windows (hop {hop} s)")
    read = best(lambda: (store.predictions.trajectory(f.id, mv), store.predictions.window_trust(f.id, mv)))
    print(f"read trajectory + trust (worker thread): {read * 1e3:.1f} ms")
    mark = best(lambda: store.predictions.window_mark(f.id, mv), 20)
    print(f"window_mark (the 3 s poll): {mark * 1e3:.2f} ms")
    w = MainWindow(store, AppSettings(db_url=store.url, annotator="bench", device="cpu"))
    w.resize(1600, 1000)
    w.show()
    w.open_file(f.id)
    settle(app, 1.0)

    def redraw():
        w.file_view.set_trajectories(list(w.shown_models))
        app.processEvents()
    print(f"set_trajectories + paint (GUI thread): {best(redraw) * 1e3:.1f} ms")
    full = best(lambda: (w.reload_file(), app.processEvents()), 3)
    print(f"for comparison, reload_file (what each piece cost before): {full * 1e3:.1f} ms")
    w.close()


if __name__ == "__main__":
    main()
