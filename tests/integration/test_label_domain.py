"""The label domain through the CLI with real tiny.en: `transcribe --redo` keeps every label and says so."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import soundfile as sf

from emotrace.core.formats.label_tables import export_segments
from emotrace.core.store import Store
from emotrace.training.data import load_examples
from tests.conftest import SPEECH_SAMPLES as SAMPLES
from tests.helpers import csv_rows


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emotrace.cli", *args], capture_output=True, text=True)


def test_transcribe_redo_keeps_every_label_and_says_so(tmp_path):
    root = tmp_path / "talk"
    root.mkdir()
    pause = np.zeros(int(16000 * 2.5), np.float32)
    parts = []
    for name in ("quick_brown_fox.wav", "counting.wav", "hello_world.wav"):
        x, sr = sf.read(SAMPLES / name, dtype="float32")
        assert sr == 16000
        parts += [x if x.ndim == 1 else x.mean(1), pause]
    sf.write(root / "talk.wav", np.concatenate(parts), 16000)
    db = str(tmp_path / "s.sqlite")
    assert _cli("--db", db, "-q", "import", str(root), "--corpus", "r").returncode == 0
    r = _cli("--db", db, "-q", "transcribe", "--corpus", "r", "--model", "tiny.en", "--beam-size", "1")
    assert r.returncode == 0, r.stderr
    store = Store(db)
    file_id = store.corpora.files(store.corpora.corpus("r").id)[0].id
    segments = store.segments.segments(file_id)
    assert len(segments) >= 2
    for k, seg in enumerate(segments):
        store.labels.record_label(seg.id, annotator="ann", arousal=2 + k, valence=3, dominance=4)
    store.labels.record_label(segments[0].id, annotator="ann", arousal=6, valence=6, dominance=6)  # a correction
    before = {seg.id: [(h.id, h.values, h.origin) for h in store.labels.label_history(seg.id)] for seg in segments}
    current_before = store.labels.segment_labels(file_id=file_id)

    r = _cli("--db", db, "-q", "transcribe", "--corpus", "r", "--model", "tiny.en", "--beam-size", "1", "--redo")
    assert r.returncode == 0, r.stderr
    assert f"KEPT {root / 'talk.wav'}: {len(segments)} labelled segments" in r.stdout
    after = {seg.id: [(h.id, h.values, h.origin) for h in store.labels.label_history(seg.id)] for seg in segments}
    assert after == before  # every row, history included
    assert store.labels.segment_labels(file_id=file_id) == current_before
    now = store.segments.segments(file_id)
    old = [s for s in now if s.id in before]
    assert len(old) == len(segments) and all(s.superseded_at is not None for s in old)
    assert any(s.superseded_at is None and s.origin == "asr" for s in now)  # the new units beside them
    assert {e.segment_id for e in load_examples(store, "r")} == set(before)  # still trainable
    out = tmp_path / "x.csv"
    export_segments(store, "r", out)
    assert sum(1 for row in csv_rows(out) if row["superseded"] == "yes" and row["arousal"]) == len(segments)
    # a second redo adds units again but still removes nothing labelled
    assert _cli("--db", db, "-q", "transcribe", "--corpus", "r", "--model", "tiny.en", "--beam-size", "1",
                "--redo").returncode == 0
    assert {seg.id: [(h.id, h.values, h.origin) for h in store.labels.label_history(seg.id)] for seg in segments} == before
