"""Segment and word edits on a long file: store latency and what the user waits for in the app.

A generated file (BENCH_HOURS, default 3) with a segment every 6 s (5.5 s long), a word every 0.5 s and every
third segment labelled, in a fresh SQLite store. Measured:
- store: split, merge, resize and their undo (`edit_segments(**edit.inverse())`), word corrections; median
  and worst over 40 each;
- app (offscreen Qt, window 1600 x 1000): X (split at the playhead), M (merge), I (resize), Ctrl+Z, F2's store
  write plus redraw, from the key to the redrawn view (`processEvents` done);
- training examples: `load_examples` on the corpus before and after 200 edits (the replaced-segment rule).
"""

from __future__ import annotations

import json
import os
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
SR = 16000


def ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples):.1f} ms, worst {max(samples):.1f} ms"


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return 1000 * (time.perf_counter() - t), out


def build(root: Path):
    from emotrace.core.store import SegmentSpec, Store, Word
    from emotrace.core.workflows.importing import import_folder

    seconds = HOURS * 3600
    audio = root / "audio"
    audio.mkdir()
    with sf.SoundFile(audio / "long.wav", "w", SR, 1, subtype="PCM_16") as out:
        rng = np.random.default_rng(0)
        for _ in range(int(seconds // 60)):
            out.write((0.1 * rng.standard_normal(60 * SR)).astype(np.float32))
    store = Store(str(root / "store.db"))
    import_folder(store, audio, "long")
    fid = store.corpora.files(store.corpora.corpus("long").id)[0].id
    with store.db.session() as s:
        s.add_all(Word(file_id=fid, start=0.5 * i, end=0.5 * i + 0.4, text=f" w{i}") for i in range(int(seconds * 2)))
    ids = store.segments.add_segments(fid, [SegmentSpec(6.0 * k, 6.0 * k + 5.5, "asr") for k in range(int(seconds // 6))])
    store.segments.set_segment_texts(fid, {})
    for sid in ids[::3]:
        store.labels.record_label(sid, annotator="ann", arousal=5.0, valence=3.0, dominance=4.0)
    return store, fid, ids


def store_figures(store, fid, ids) -> dict:
    out = {}
    for name, make in (
        ("split", lambda a, b: store.segments.split_segment(a.id, a.start + 2.0)),
        ("merge", lambda a, b: store.segments.merge_segments([a.id, b.id])),
        ("resize", lambda a, b: store.segments.resize_segment(a.id, a.start + 0.3, a.end)),
    ):
        do, undo = [], []
        for k in range(40):
            live = store.segments.segments(fid, include_superseded=False)  # undo brings unlabelled ones back as new rows
            i = ({"split": 0, "merge": 1, "resize": 2}[name] * len(live) // 3 + 2 * k) % (len(live) - 1)
            t, edit = timed(lambda a=live[i], b=live[i + 1], make=make: make(a, b))
            do.append(t)
            t, _ = timed(lambda edit=edit: store.segments.edit_segments(**edit.inverse()))
            undo.append(t)
        out[name] = ms(do)
        out[f"undo {name}"] = ms(undo)
    words = store.words.words(fid)
    edits = [timed(lambda w=w: store.words.edit_word(w.id, editor="ann", text="fixed"))[0] for w in words[::50][:40]]
    out["word correction"] = ms(edits)
    return out


def app_figures(store, fid) -> dict:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from emotrace.gui.main_window import MainWindow
    from emotrace.gui.settings import AppSettings

    app = QApplication.instance() or QApplication([])
    w = MainWindow(store, AppSettings(db_url=store.url, annotator="ann"))
    w.resize(1600, 1000)
    w.show()
    t, _ = timed(lambda: w.open_file(fid))
    out = {"open the file": f"{t:.0f} ms"}
    t0 = min(3000.0, HOURS * 3600 / 2)
    w.view_state.set_view(t0, t0 + 60.0)
    app.processEvents()
    w.file_view.setFocus()
    keys = {"X (split)": Qt.Key.Key_X, "M (merge)": Qt.Key.Key_M, "I (start to playhead)": Qt.Key.Key_I,
            "Ctrl+Z (undo the edit)": None}
    for name, key in keys.items():
        samples = []
        for k in range(15):
            w.seek(t0 + 6.0 * k + 2.0)
            app.processEvents()

            def press(key=key):
                if key is None:
                    w.act_undo.trigger()
                else:
                    QTest.keyClick(w, key)
                app.processEvents()

            if key is None:
                QTest.keyClick(w, Qt.Key.Key_X)
                app.processEvents()
            samples.append(timed(press)[0])
        out[name] = ms(samples)
    samples = []
    for k in range(10):  # F2's write and redraw (the dialog itself is the user's time)
        i = int(w.data.word_at(t0 + 3.0 * k + 0.2))
        word = (f"fix{k}", float(w.data.word_starts[i]), float(w.data.word_ends[i]))
        samples.append(timed(lambda i=i, word=word: (w.segment_editing.write_word(int(w.data.word_ids[i]), word,
                                                                                   "Word corrected"),
                                                    app.processEvents()))[0])
    out["F2 (word correction, write and redraw)"] = ms(samples)
    w.close()
    return out


def main() -> None:
    root = Path(tempfile.mkdtemp())
    t, (store, fid, ids) = timed(lambda: build(root))
    print(f"built {HOURS} h, {len(ids)} segments in {t / 1000:.1f} s", file=sys.stderr)
    from emotrace.training.data import load_examples

    before, n_before = timed(lambda: len(load_examples(store, "long")))
    figures = {"hours": HOURS, "segments": len(ids), "load_examples before edits": f"{before:.0f} ms ({n_before})"}
    figures.update(store_figures(store, fid, ids))
    labelled = ids[::3][len(ids) // 6:]  # the second half of the file: the store figures above used the first
    for sid in labelled[:200]:  # edits that stay: splits of labelled segments, both halves labelled anew
        left, right = store.segments.split_segment(sid, store.segments.segment(sid).start + 2.0).added
        for sid in (left, right):
            store.labels.record_label(sid, annotator="ann", arousal=4.0, valence=4.0, dominance=4.0)
    after, n_after = timed(lambda: len(load_examples(store, "long")))
    figures["load_examples after 200 kept splits"] = f"{after:.0f} ms ({n_after})"
    figures.update(app_figures(store, fid))
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
