"""Issue 12's screenshots: a real window (under Xvfb) on a 20-minute podcast-like file.

The audio is built by ../shared/scripts/make_podcast.py when that folder exists (real speech and RAVDESS
clips; never copied into the repository), else by a generated tone-and-noise file. Segments follow the layout
(one per clip). The trajectories are synthetic (a smooth random walk stored as one model's 1 Hz window
predictions): training and analysing a model is what scripts/screenshots.py shows; here the subject is the
view of a long file. Writes long_file_zoomed_out.png, long_file_detail.png, colour_blind_check.png (the detail
shot as a deuteranope sees it, Machado et al. 2009), segment_split.png (a labelled segment split with X: the
old one faint and dashed, its label offered to each half) and shortcut_sheet.png.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots_day.py --out docs/screenshots
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.screenshots import settle, shoot  # noqa: E402

DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]])


def simulate_deuteranopia(src: Path, dst: Path) -> None:
    from PySide6.QtGui import QImage

    img = QImage(str(src)).convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(h, bpl)[:, : w * 3].reshape(h, w, 3) / 255.0
    lin = np.where(arr <= 0.04045, arr / 12.92, ((arr + 0.055) / 1.055) ** 2.4)
    sim = np.clip(lin @ DEUTERANOPIA.T, 0, 1)
    out = np.where(sim <= 0.0031308, sim * 12.92, 1.055 * sim ** (1 / 2.4) - 0.055)
    data = np.ascontiguousarray((out * 255).round().astype(np.uint8))
    QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy().save(str(dst))
    print(f"wrote {dst}", flush=True)


def build_store(tmp: Path, minutes: float):
    from emotrace.core.store import ModelVersion, PredictionRow, SegmentSpec, Store, Word
    from emotrace.core.workflows.importing import import_folder

    folder = tmp / "podcast"
    folder.mkdir()
    audio = folder / "podcast_20min.flac"
    layout: list[tuple[float, float]] = []
    maker = ROOT.parent / "shared" / "scripts" / "make_podcast.py"
    if maker.exists():
        subprocess.run([sys.executable, str(maker), str(audio), "--minutes", str(minutes)], check=True)
        for line in audio.with_suffix(".layout.tsv").read_text().splitlines():
            parts = line.split("\t")
            if len(parts) == 3 and parts[2] != "gap" and parts[0][0].isdigit():
                layout.append((float(parts[0]), float(parts[1])))
        layout_file = audio.with_suffix(".layout.tsv")
        layout_file.unlink()
    else:
        from tests.helpers import write_podcast_like

        audio = write_podcast_like(folder / "podcast_20min.wav", minutes)
        layout = [(6.0 * k, 6.0 * k + 5.5) for k in range(int(minutes * 10))]
    store = Store(f"sqlite:///{tmp / 'day.sqlite'}")
    import_folder(store, folder, "podcast")
    file_id = store.corpora.files(store.corpora.corpus("podcast").id)[0].id
    duration = store.corpora.file(file_id).duration
    seg_ids = store.segments.add_segments(file_id, [SegmentSpec(a, b, "asr", f"clip {k + 1}")
                                                    for k, (a, b) in enumerate(layout)])
    with store.db.session() as s:
        mv = ModelVersion(name="synthetic", folder=str(tmp / "none"), active=True)
        s.add(mv)
        s.flush()
        mv_id = mv.id
        s.add_all(Word(file_id=file_id, start=a + 0.3 * i, end=a + 0.3 * i + 0.25, text=f" clip{k + 1}w{i}")
                  for k, (a, b) in enumerate(layout) for i in range(int((b - a) / 0.3)))
    rng = np.random.default_rng(3)
    starts = np.arange(0, duration - 4, 1.0)
    walk = np.zeros((len(starts), 3))  # AR(1) around neutral: wanders, never sticks to an end of the scale
    for i in range(1, len(starts)):
        walk[i] = 0.995 * walk[i - 1] + rng.normal(0, 0.07, 3)
    walk = np.clip(4 + walk, 1.3, 6.7)
    rows = [PredictionRow(None, "window", float(a), float(a) + 4, tuple(float(x) for x in v))
            for a, v in zip(starts, walk)]
    for sid, (a, b) in zip(seg_ids, layout):
        i = min(int(a), len(walk) - 1)
        rows.append(PredictionRow(sid, "segment", a, b, tuple(float(x) for x in walk[i])))
    store.predictions.replace_predictions(file_id, mv_id, rows)
    for k, sid in enumerate(seg_ids[:40]):
        i = min(int(layout[k][0]), len(walk) - 1)
        store.labels.record_label(sid, annotator="maria", arousal=float(np.clip(round(walk[i, 0] + 0.8), 1, 7)),
                                  valence=float(np.clip(round(walk[i, 1] - 0.6), 1, 7)), dominance=4.0)
    return store, file_id


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    ap.add_argument("--minutes", type=float, default=20)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("EMOTRACE_HOME", tempfile.mkdtemp())
    tmp = Path(tempfile.mkdtemp())
    store, file_id = build_store(tmp, args.minutes)

    from PySide6.QtCore import QCoreApplication
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from emotrace.gui.main_window import MainWindow
    from emotrace.gui.settings import AppSettings

    QCoreApplication.setOrganizationName("EmoTraceScreensDay")
    QCoreApplication.setApplicationName("EmoTraceScreensDay")
    app = QApplication([])
    window = MainWindow(store, AppSettings(db_url=store.url, annotator="maria", device="cpu"))
    window.resize(1600, 1000)
    window.show()
    window.activateWindow()
    QTest.qWaitForWindowActive(window, 5000)
    window.browser.select_file(file_id)
    settle(app, 1.0)
    window.view_state.set_view(0, window.data.duration)
    window.seek(window.data.duration * 0.4)
    window.view_state.set_view(0, window.data.duration)
    window.file_view.hover_label.setText(window.file_view.values_at(window.data.duration * 0.4))
    shoot(app, window, out / "long_file_zoomed_out.png")
    window.select_segment(12)
    start, end = (float(x) for x in window.data.seg_bounds[12])
    window.player.seek(start)
    window.view_state.set_view(start - 8, end + 20)
    window.file_view.show_time_selection((start + 0.5, start + 2.0))
    window.editor.spins[0].setValue(6.0)
    window.file_view.hover_label.setText(window.file_view.values_at(start + 1.0))
    detail = out / "long_file_detail.png"
    shoot(app, window, detail)
    simulate_deuteranopia(detail, out / "colour_blind_check.png")
    window.file_view.show_time_selection(None)
    window.select_segment(12)
    window.seek(start + 0.45 * (end - start))
    window.file_view.setFocus()
    QTest.keyClick(window, "x")  # split the labelled segment at the playhead: kept faint, its label offered
    settle(app, 0.5)
    window.file_view.hover_label.setText(window.file_view.values_at(start + 0.2))
    shoot(app, window, out / "segment_split.png")
    window.show_shortcuts()
    shoot(app, window.shortcut_sheet, out / "shortcut_sheet.png")
    window.close()


if __name__ == "__main__":
    main()
