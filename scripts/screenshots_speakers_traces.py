"""Screenshots of speakers and traces in a real window (under Xvfb), on the demo's two-speaker clip.

The store is built here: the demo corpus imported, diarized by `emotrace.core.workflows.diarize.diarize_corpus` (the real
GE2E encoder), analyzed by the bundled default model, and given two annotators' arousal traces. The traces are
written by this script (smooth curves near the model's line with a lag, as a person tracing would) through the
same store API that trace mode uses; they are not a person's tracing. Writes speakers_and_traces.png and
trace_agreement.png.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots_speakers_traces.py --out docs/screenshots
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("EMOTRACE_HOME", tempfile.mkdtemp())

from scripts.screenshots import demo_store, out_folder, settle, shoot  # noqa: E402


def main() -> None:
    out = out_folder()
    from emotrace.core.workflows.analyze import analyze_corpus
    from emotrace.core.workflows.diarize import diarize_corpus

    store = demo_store(("two_speakers_30s.flac",))
    print(diarize_corpus(store, "demo").summary(), flush=True)
    print(analyze_corpus(store, "demo", device="cpu").summary(), flush=True)
    f = store.corpora.files(store.corpora.corpus("demo").id)[0]
    mv = store.models.active_model().id
    t, values = store.predictions.trajectory(f.id, mv)
    grid = np.arange(0, f.duration, 0.1)
    model_arousal = np.interp(grid, t, np.nan_to_num(values[:, 0], nan=4.0))
    for who, lag, offset in (("ann", 1.5, 0.4), ("bob", 2.5, -0.3)):
        trace = store.traces.start_trace(f.id, annotator=who, dimension="arousal", rate=10)
        wobble = 0.25 * np.sin(grid / 2.3 + len(who))
        v = np.clip(np.interp(grid - lag, grid, model_arousal) + offset + wobble, 1, 7)
        store.traces.append_trace(trace, grid, v)

    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from emotrace.gui.main_window import MainWindow
    from emotrace.gui.settings import AppSettings

    QCoreApplication.setOrganizationName("EmoTraceShots")
    QCoreApplication.setApplicationName("EmoTraceShotsSpeakers")
    app = QApplication([])
    w = MainWindow(store, AppSettings(db_url=store.url, annotator="ann"))
    w.resize(1600, 1000)
    w.show()
    w.browser.select_row(0)
    settle(app, 1.0)
    w.view_state.set_view(0.0, f.duration)
    w.seek(12.0)
    settle(app, 0.5)
    shoot(app, w, out / "speakers_and_traces.png")
    w.tracing.show_agreement()
    settle(app, 0.5)
    shoot(app, w.tracing.agreement_dialog, out / "trace_agreement.png")
    w.close()


if __name__ == "__main__":
    main()
