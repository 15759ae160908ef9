"""Issue 16, one NaN sample: a clip with a single NaN or infinite sample fails its import, however deep in a long
file; training leaves out segments whose features are not finite (models trained on such data:
tests/integration/test_non_finite_audio.py)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from emotrace.core.workflows.importing import import_folder
from tests.conftest import tone
from tests.helpers import nan_wav


def test_a_single_nan_or_inf_sample_fails_import(store, tmp_path):
    from emotrace.core.audio.decode import AudioError, validate

    for where in ("nan", "inf"):
        path = nan_wav(tmp_path / f"bad_{where}.wav", where)
        with pytest.raises(AudioError, match="not finite"):
            validate(path)
    report = import_folder(store, tmp_path, "c")
    assert report.added == 2 and len(report.failed) == 2
    assert store.stats()["files_ok"] == 0


def test_a_long_file_with_one_nan_deep_inside_is_caught(tmp_path):
    """The sample sits between two of the old check's strides (every ~4096th sample of a 60 s chunk)."""
    from emotrace.core.audio.decode import AudioError, validate

    x = tone(200.0).astype(np.float32)
    x[16000 * 61 + 5] = np.nan  # second chunk, off every stride
    sf.write(str(tmp_path / "long.wav"), x, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"near 61\.0"):
        validate(tmp_path / "long.wav")


def test_training_leaves_out_segments_with_non_finite_features():
    from emotrace.training.data import Example
    from emotrace.training.trainer import drop_non_finite

    audio = np.ones((4, 2, 6), np.float32)
    audio[2, 1, 3] = np.nan
    text = np.ones((4, 5), np.float32)
    examples = [Example(i, i, f"/x/f{i}.wav", f"fp{i}", 0.0, 1.0, "", "s", "Train", (4.0, 4.0, 4.0))
                for i in range(4)]
    events = []
    a, t, p, kept = drop_non_finite(audio, text, np.ones(4, np.float32), examples, "train", events.append)
    assert [e.segment_id for e in kept] == [0, 1, 3] and np.isfinite(a).all() and len(t) == len(p) == 3
    assert "f2.wav" in events[0]["message"]
