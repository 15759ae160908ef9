"""The file view on a generated 3-hour file, measured in the app's own process (offscreen Qt, raster painting).

- analyze: `analyze_corpus` on the 3-hour file with a model on the offline Whisper backbone: wall time and peak
  memory (it must stay bounded: frames are pooled chunk by chunk).
- open: time to open the file view (data query + envelope + first paint): the first open after import (import
  cached the envelope from its own decode), with the envelope cache deleted (built by a full decode), warm.
- frames: time per pan and per zoom step (range change + synchronous repaint), median and worst, at zoom levels
  from the whole file to 10 s.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("EMOTRACE_HOME", tempfile.mkdtemp())

HOURS = float(os.environ.get("BENCH_HOURS", "3"))


def write_long(path: Path, seconds: float) -> None:
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", 16000, 1, subtype="PCM_16") as out:
        for k in range(int(np.ceil(seconds / 60))):
            t = np.arange(60 * 16000) / 16000 + 60 * k
            env = 0.3 + 0.25 * np.sin(2 * np.pi * t / 97) + 0.1 * np.sin(2 * np.pi * t / 7)
            x = env * np.sin(2 * np.pi * (150 + 30 * np.sin(t / 13)) * t) + 0.01 * rng.standard_normal(len(t))
            out.write((0.5 * x).astype(np.float32))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from core.analysis import analyze_corpus
    from core.importer import import_folder
    from core.store import Store
    from tests.conftest import labelled_corpus
    from training.trainer import TrainConfig, train

    tmp = Path(tempfile.mkdtemp())
    (tmp / "long").mkdir()
    seconds = HOURS * 3600
    t = time.perf_counter()
    write_long(tmp / "long" / "three_hours.wav", seconds)
    store = Store(f"sqlite:///{tmp / 'gui.sqlite'}")
    import_folder(store, tmp / "long", "long")
    import_folder(store, labelled_corpus(tmp / "gen"), "gen")
    train(store, TrainConfig(corpus="gen", epochs=5, device="cpu"))
    print(json.dumps({"setup_s": round(time.perf_counter() - t, 1), "rss_before_analyze_mb": round(rss_mb())}),
          flush=True)
    t = time.perf_counter()
    report = analyze_corpus(store, "long", device="cpu")
    analyze_s = time.perf_counter() - t
    print(json.dumps({"analyze_audio_s": seconds, "analyze_wall_s": round(analyze_s, 1),
                      "audio_s_per_s": round(seconds / analyze_s, 1), "windows": report.windows,
                      "peak_rss_mb": round(rss_mb())}), flush=True)

    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    QCoreApplication.setOrganizationName("EmoTraceBench")
    QCoreApplication.setApplicationName("EmoTraceBench")
    app = QApplication([])
    w = MainWindow(store, AppSettings(db_url=store.url, annotator="bench"))
    w.resize(1600, 1000)
    w.show()
    app.processEvents()
    long_id = next(f.id for f in store.files(store.corpus("long").id))
    viewport = w.file_view.layout_widget.viewport()
    from core.envelope import _cache_path

    fingerprint = store.file(long_id).fingerprint
    opens = {}
    for name in ("after_import", "no_cache", "warm"):
        if name == "no_cache":
            _cache_path(fingerprint).unlink()  # as if the envelope had never been built
        t = time.perf_counter()
        w.open_file(long_id)
        viewport.repaint()
        app.processEvents()
        opens[name] = round(time.perf_counter() - t, 3)
    n_points = len(w.data.trajectories[w.shown_models[0]][0])
    frames: dict[str, list[float]] = {}
    for width in (seconds, 3600.0, 600.0, 60.0, 10.0):
        pans, zooms = [], []
        for k in range(20):
            start = (seconds - width) * k / 20
            t = time.perf_counter()
            w.file_view.set_view(start, start + width)
            viewport.repaint()
            pans.append(time.perf_counter() - t)
        for k in range(10):
            t = time.perf_counter()
            w.file_view.zoom(0.8 if k % 2 else 1.25)
            viewport.repaint()
            zooms.append(time.perf_counter() - t)
        frames[f"{int(width)}s"] = pans + zooms
        print(json.dumps({"view_s": width, "pan_ms_median": round(1000 * statistics.median(pans), 1),
                          "pan_ms_worst": round(1000 * max(pans), 1),
                          "zoom_ms_median": round(1000 * statistics.median(zooms), 1),
                          "zoom_ms_worst": round(1000 * max(zooms), 1)}), flush=True)
    every = [x for v in frames.values() for x in v]
    summary = {"file_s": seconds, "trajectory_points": n_points,
               "open_first_after_import_s": opens["after_import"],
               "open_without_envelope_cache_s": opens["no_cache"], "open_warm_s": opens["warm"],
               "frame_ms_median": round(1000 * statistics.median(every), 1),
               "frame_ms_worst": round(1000 * max(every), 1), "peak_rss_mb": round(rss_mb())}
    print(json.dumps(summary), flush=True)
    w.close()


if __name__ == "__main__":
    main()
