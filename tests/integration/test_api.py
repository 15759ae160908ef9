"""The notebook API (`import emotrace`): a store-free `predict` with the bundled model on real audio; importing
`emotrace` stays light (no torch), checked in a fresh interpreter (labels and trajectories as DataFrames:
tests/unit/test_api.py)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import emotrace
from tests.conftest import write_audio


def test_importing_emotrace_imports_no_torch_store_or_qt():
    code = ("import sys, emotrace; heavy = [m for m in ('torch', 'sqlalchemy', 'PySide6', 'pandas') "
            "if m in sys.modules]; print(heavy)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"


def test_predict_a_file_without_a_store(tmp_path):
    wav = write_audio(tmp_path / "talk.wav", 9.0)
    df = emotrace.predict(wav)
    assert list(df.columns) == ["start", "end", "arousal", "valence", "dominance", "uncertainty", "trust"]
    assert (df["trust"] > 1).all()  # a synthetic tone is nothing like the bundled model's RAVDESS speech (issue 26)
    assert len(df) == 6 and df["start"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    values = df[["arousal", "valence", "dominance"]].to_numpy(dtype=float)
    assert np.isfinite(values).all() and ((values >= 1) & (values <= 7)).all()
    signed = emotrace.predict(wav, scale="signed")
    np.testing.assert_allclose(signed["arousal"], (df["arousal"] - 4) / 3, atol=1e-5)
