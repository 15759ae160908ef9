"""Catching up an analysed file after a diarization rebuilt its units vs analysing it again (issue 23, item 2).

A generated 5-minute file (BENCH_SECONDS) with a word every 0.5 s and a pause every 12 s, transcribed by hand
(words written to the store), analysed with the store's active (default) model. Then speaker turns every 20 s
rebuild the units (what `diarize` does), and we time `catch_up_segments` (only the new segments' audio is
decoded and encoded) against `analyze_corpus` of the same file (the whole file: every segment and window).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("EMOTRACE_HOME", tempfile.mkdtemp())

SECONDS = float(os.environ.get("BENCH_SECONDS", "300"))
SR = 16000


def main() -> None:
    from emotrace.core.speech.diarization import Turn
    from emotrace.core.store import Store
    from emotrace.core.vocab import TurnSource
    from emotrace.core.workflows.analyze import analyze_corpus, catch_up_segments, load_pipeline
    from emotrace.core.workflows.importing import import_folder
    from emotrace.core.workflows.transcribe import build_units

    tmp = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(0)
    t = np.arange(int(SECONDS * SR)) / SR
    audio = 0.2 * np.sin(2 * np.pi * (150 + 50 * np.sin(t / 3)) * t) + 0.02 * rng.standard_normal(len(t))
    (tmp / "c").mkdir()
    sf.write(tmp / "c" / "talk.wav", audio.astype(np.float32), SR)
    store = Store(f"sqlite:///{tmp / 'store.sqlite'}")
    import_folder(store, tmp / "c", "c")
    f = store.corpora.files(store.corpora.corpus("c").id)[0]
    for block in np.arange(0.0, SECONDS - 12, 12.0):  # 10 s of words, then a 2 s pause
        store.words.append_asr_words(f.id, [SimpleNamespace(start=block + k * 0.5, end=block + k * 0.5 + 0.4,
                                                            text=f" w{k}", probability=0.9) for k in range(20)])
    build_units(store, f.id)
    store.corpora.mark_transcribed(f.id, "bench")
    from emotrace.training.default_model import ensure_default_model

    version = store.models.active_model() or ensure_default_model(store)
    pipeline = load_pipeline(version, "cpu")
    t0 = time.perf_counter()
    analyze_corpus(store, "c", pipeline=pipeline)
    first = time.perf_counter() - t0
    turns = [Turn(a, min(a + 20.0, SECONDS), f"S{int(a // 20) % 2}") for a in np.arange(0.0, SECONDS, 20.0)]
    store.speakers.write_speaker_turns(f.id, turns, TurnSource.DIARIZATION, "bench")
    build_units(store, f.id)
    current = store.segments.segments(f.id, include_superseded=False)
    t0 = time.perf_counter()
    done = catch_up_segments(store, [f.id], pipeline=pipeline)
    catch_up = time.perf_counter() - t0
    stale = store.predictions.stale_files(store.corpora.corpus("c").id, version.id)
    edit = store.segments.split_segment(current[5].id, (current[5].start + current[5].end) / 2)  # an app edit
    t0 = time.perf_counter()
    split = catch_up_segments(store, [f.id], pipeline=pipeline)
    after_split = time.perf_counter() - t0
    t0 = time.perf_counter()
    analyze_corpus(store, "c", pipeline=pipeline)
    again = time.perf_counter() - t0
    print(f"model v{version.id} ({pipeline.config.audio_backbone}), {SECONDS:.0f} s file, {len(current)} current "
          f"segments after the rebuild, {done.segments} new ones predicted ({sum(s.end - s.start for s in current):.0f} s "
          f"of audio); stale after the catch-up: {len(stale)}")
    print(f"first analysis {first:.1f} s; catch-up after the rebuild {catch_up:.1f} s; after a split "
          f"({split.segments} new segments, edit {type(edit).__name__}) {after_split:.2f} s; full re-analysis {again:.1f} s")


if __name__ == "__main__":
    main()
