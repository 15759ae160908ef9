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
# BENCH_SYNTHETIC=1: skip training and analysis and store 1 Hz window predictions of the same count directly
# (frame times depend on the points drawn, not on how they were made; issue 12's lanes rerun used this).
SYNTHETIC = os.environ.get("BENCH_SYNTHETIC") == "1"
# BENCH_TRACES=1: also two annotators' 10 Hz arousal traces over the whole file (written in 1 s chunks, as trace
# mode commits them: the write cost is reported) and speaker turns every 20-60 s, so frames include both.
TRACES = os.environ.get("BENCH_TRACES") == "1"
# BENCH_ACOUSTIC=1: also the spectrogram, F0 and loudness lanes (issue 26): their cache is built off the GUI thread
# (timed, with the process's peak memory before and after), then every frame draws them too.
ACOUSTIC = os.environ.get("BENCH_ACOUSTIC") in ("1", "synthetic")
# BENCH_ACOUSTIC=synthetic: the spectrogram is computed for real but F0 and loudness are generated (voiced runs
# with gaps, every 10 ms frame) instead of openSMILE's ~20x real-time pass; the frames draw the same points.
SYNTHETIC_TRACKS = os.environ.get("BENCH_ACOUSTIC") == "synthetic"


def synthetic_frame_tracks(chunks):
    """Stand-in for `acoustics.frame_tracks`: the same frames and NaN gaps, no openSMILE."""
    first = 0
    for chunk in chunks:
        n = int(len(chunk) / 160)
        t = (first + np.arange(n)) / 100
        voiced = np.sin(2 * np.pi * t / 1.7) > -0.2
        f0 = np.where(voiced, 36 + 4 * np.sin(2 * np.pi * t / 3.1), np.nan).astype(np.float32)
        loud = (0.5 + 0.4 * np.sin(2 * np.pi * t / 0.9) ** 2 * voiced).astype(np.float32)
        yield first, {"f0_st": f0, "loudness": loud, "hnr_db": np.where(voiced, 8.0, np.nan).astype(np.float32)}
        first += n


def traces_and_turns(store, seconds: float) -> dict:
    from emotrace.core.speech.diarization import Turn
    from emotrace.core.vocab import TurnSource

    file_id = store.corpora.files(store.corpora.corpus("long").id)[0].id
    rng = np.random.default_rng(2)
    chunk_ms = []
    for who in ("ann", "bob"):
        tid = store.traces.start_trace(file_id, annotator=who, dimension="arousal", rate=10)
        value = 4.0
        for start in range(int(seconds)):
            t = start + np.arange(10) / 10
            values = np.clip(value + np.cumsum(rng.normal(0, 0.05, 10)), 1, 7)
            value = float(values[-1])
            c = time.perf_counter()
            store.traces.append_trace(tid, t, values)
            chunk_ms.append(1000 * (time.perf_counter() - c))
    turns, t, k = [], 0.0, 0
    while t < seconds - 1:
        end = min(seconds, t + float(rng.uniform(20, 60)))
        turns.append(Turn(t, end, f"S{k % 2 + 1}"))
        t, k = end + 0.5, k + 1
    store.speakers.write_speaker_turns(file_id, turns, TurnSource.DIARIZATION)
    return {"trace_chunks": len(chunk_ms), "trace_chunk_write_ms_median": round(statistics.median(chunk_ms), 2),
            "trace_chunk_write_ms_p99": round(float(np.percentile(chunk_ms, 99)), 2), "speaker_turns": len(turns)}


def write_long(path: Path, seconds: float) -> None:
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", 16000, 1, subtype="PCM_16") as out:
        for k in range(int(np.ceil(seconds / 60))):
            t = np.arange(60 * 16000) / 16000 + 60 * k
            env = 0.3 + 0.25 * np.sin(2 * np.pi * t / 97) + 0.1 * np.sin(2 * np.pi * t / 7)
            x = env * np.sin(2 * np.pi * (150 + 30 * np.sin(t / 13)) * t) + 0.01 * rng.standard_normal(len(t))
            out.write((0.5 * x).astype(np.float32))


def synthetic_predictions(store, seconds: float, tmp: Path) -> None:
    """As many 4 s / 1 s-hop window predictions as analysis writes, plus 6 s segments with predictions."""
    from emotrace.core.store import ModelVersion, PredictionRow, SegmentSpec

    with store.db.session() as s:
        mv = ModelVersion(name="synthetic", folder=str(tmp / "none"), active=True)
        s.add(mv)
        s.flush()
        mv_id = mv.id
    file_id = store.corpora.files(store.corpora.corpus("long").id)[0].id
    seg_ids = store.segments.add_segments(file_id, [SegmentSpec(6.0 * k, 6.0 * k + 5.5, "asr")
                                                    for k in range(int(seconds // 6))])
    starts = np.arange(0, seconds - 4 + 1e-9, 1.0)
    rng = np.random.default_rng(1)
    walk = 4 + np.cumsum(rng.normal(0, 0.05, (len(starts), 3)), axis=0).clip(-2.5, 2.5)
    rows = [PredictionRow(None, "window", float(a), float(a) + 4, tuple(float(x) for x in v))
            for a, v in zip(starts, walk)]
    rows += [PredictionRow(sid, "segment", 6.0 * k, 6.0 * k + 5.5, (4.0, 4.0, 4.0)) for k, sid in enumerate(seg_ids)]
    store.predictions.replace_predictions(file_id, mv_id, rows)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from emotrace.core.store import Store
    from emotrace.core.workflows.analyze import analyze_corpus
    from emotrace.core.workflows.importing import import_folder
    from emotrace.training.trainer import TrainConfig, train
    from tests.conftest import labelled_corpus

    tmp = Path(tempfile.mkdtemp())
    (tmp / "long").mkdir()
    seconds = HOURS * 3600
    t = time.perf_counter()
    write_long(tmp / "long" / "three_hours.wav", seconds)
    store = Store(f"sqlite:///{tmp / 'gui.sqlite'}")
    import_folder(store, tmp / "long", "long")
    if SYNTHETIC:
        synthetic_predictions(store, seconds, tmp)
    if TRACES:
        print(json.dumps(traces_and_turns(store, seconds)), flush=True)
    else:
        import_folder(store, labelled_corpus(tmp / "gen"), "gen")
        train(store, TrainConfig(corpus="gen", epochs=5, device="cpu"))
    print(json.dumps({"setup_s": round(time.perf_counter() - t, 1), "rss_before_analyze_mb": round(rss_mb())}),
          flush=True)
    if not SYNTHETIC:
        t = time.perf_counter()
        report = analyze_corpus(store, "long", device="cpu")
        analyze_s = time.perf_counter() - t
        print(json.dumps({"analyze_audio_s": seconds, "analyze_wall_s": round(analyze_s, 1),
                          "audio_s_per_s": round(seconds / analyze_s, 1), "windows": report.windows,
                          "peak_rss_mb": round(rss_mb())}), flush=True)

    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from emotrace.gui.main_window import MainWindow
    from emotrace.gui.settings import AppSettings

    QCoreApplication.setOrganizationName("EmoTraceBench")
    QCoreApplication.setApplicationName("EmoTraceBench")
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)  # a run's lane toggles never carry into the next
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp / "qsettings"))
    app = QApplication([])
    w = MainWindow(store, AppSettings(db_url=store.url, annotator="bench"))
    w.resize(1600, 1000)
    w.show()
    app.processEvents()
    long_id = next(f.id for f in store.corpora.files(store.corpora.corpus("long").id))
    viewport = w.file_view.layout_widget.viewport()
    from emotrace.core.audio.envelope import _cache_path

    fingerprint = store.corpora.file(long_id).fingerprint
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
    if ACOUSTIC:
        if SYNTHETIC_TRACKS:
            import emotrace.core.audio.acoustic_tracks as tracks_module

            tracks_module.frame_tracks = synthetic_frame_tracks
        lanes = w.file_view.acoustic
        rss = rss_mb()
        t = time.perf_counter()
        for action in lanes.actions:
            action.setChecked(True)
        while lanes.tracks is None:
            app.processEvents()
            time.sleep(0.05)
        print(json.dumps({"acoustic_build_s": round(time.perf_counter() - t, 1), "rss_before_build_mb": round(rss),
                          "peak_rss_after_build_mb": round(rss_mb()),
                          "mel_levels": [len(m) for m in lanes.tracks.mel]}), flush=True)
        t = time.perf_counter()
        w.open_file(long_id)  # again, from the cache
        viewport.repaint()
        app.processEvents()
        print(json.dumps({"open_with_acoustic_cache_s": round(time.perf_counter() - t, 3)}), flush=True)
    frames: dict[str, list[float]] = {}
    cpu_frames: dict[str, list[float]] = {}  # the GUI thread's CPU time: other load on the machine left out

    def frame(action) -> tuple[float, float]:
        t, c = time.perf_counter(), time.thread_time()
        action()
        viewport.repaint()
        return time.perf_counter() - t, time.thread_time() - c

    for width in (seconds, 3600.0, 600.0, 60.0, 10.0):
        pans = [frame(lambda s=(seconds - width) * k / 20, wd=width: w.file_view.set_view(s, s + wd)) for k in range(20)]
        zooms = [frame(lambda f=0.8 if k % 2 else 1.25: w.file_view.zoom(f)) for k in range(10)]
        frames[f"{int(width)}s"] = [p[0] for p in pans + zooms]
        cpu_frames[f"{int(width)}s"] = [p[1] for p in pans + zooms]
        row = {"view_s": width}
        for name, values in (("pan", pans), ("zoom", zooms)):
            for kind, i in (("ms", 0), ("cpu_ms", 1)):
                row[f"{name}_{kind}_median"] = round(1000 * statistics.median(v[i] for v in values), 1)
                row[f"{name}_{kind}_worst"] = round(1000 * max(v[i] for v in values), 1)
        print(json.dumps(row), flush=True)
    every = [x for v in frames.values() for x in v]
    summary = {"file_s": seconds, "trajectory_points": n_points,
               "open_first_after_import_s": opens["after_import"],
               "open_without_envelope_cache_s": opens["no_cache"], "open_warm_s": opens["warm"],
               "frame_ms_median": round(1000 * statistics.median(every), 1),
               "frame_ms_worst": round(1000 * max(every), 1),
               "frame_cpu_ms_median": round(1000 * statistics.median(x for v in cpu_frames.values() for x in v), 1),
               "frame_cpu_ms_worst": round(1000 * max(x for v in cpu_frames.values() for x in v), 1),
               "load_average_1min": round(os.getloadavg()[0], 2), "peak_rss_mb": round(rss_mb())}
    print(json.dumps(summary), flush=True)
    w.close()


if __name__ == "__main__":
    main()
