"""The trust indicator end to end (issue 26, item 3): training stores it with the model version, analysis
writes it per window and counts the windows outside, the trajectory export carries it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from emotrace.core.formats.trajectories import trajectory_rows
from emotrace.core.ser.trust import TRUST_FILE
from emotrace.core.workflows.analyze import analyze_corpus
from emotrace.core.workflows.importing import import_folder
from tests.conftest import labelled_corpus


def test_training_stores_trust_and_analysis_marks_unfamiliar_audio_outside(trained, tmp_path):
    store, _corpus, mv = trained
    version = store.models.model_version(mv)
    assert (Path(version.folder) / TRUST_FILE).is_file()
    assert version.metrics["trust"]["coverage"] == 0.95 and version.metrics["trust"]["held_out"] >= 2
    assert not list(Path(version.folder).glob("*.pkl")) and not list(Path(version.folder).glob("*.pt"))

    root = labelled_corpus(tmp_path / "new", speakers=1, per_speaker=3, seed=7)  # like the training audio
    rng = np.random.default_rng(0)
    sf.write(root / "noise.wav", (0.5 * rng.standard_normal(16000 * 8)).astype(np.float32), 16000)  # unlike it
    import_folder(store, root, "new")
    report = analyze_corpus(store, "new", device="cpu")
    by_file = {}
    for row in trajectory_rows(store, "new", mv):
        by_file.setdefault(row[0], []).append(row[-1])
    noise = np.array(by_file.pop("noise.wav"), dtype=float)
    familiar = np.array([t for rows in by_file.values() for t in rows], dtype=float)
    assert np.isfinite(noise).all() and np.isfinite(familiar).all()
    assert (noise > 1.0).all()  # white noise: outside what the model learned from
    assert np.median(familiar) < noise.min()
    assert report.outside == int((noise > 1).sum() + (familiar > 1).sum())
    assert f"{report.outside} windows outside the training domain" in report.summary()
    assert json.dumps(version.metrics["trust"])  # plain JSON with the version, beside the safetensors file
