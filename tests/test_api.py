"""The notebook API (`import emotrace`): a store-free `predict` with the bundled model on real audio, and labels
and trajectories of a store as pandas DataFrames. Importing `emotrace` stays light (no torch)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import emotrace
from tests.conftest import write_audio


def test_importing_emotrace_imports_no_torch_store_or_qt():
    code = ("import sys, emotrace; heavy = [m for m in ('torch', 'sqlalchemy', 'PySide6', 'pandas') "
            "if m in sys.modules]; print(heavy)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"


def test_predict_a_file_without_a_store(tmp_path):
    wav = write_audio(tmp_path / "talk.wav", 9.0)
    df = emotrace.predict(wav)
    assert list(df.columns) == ["start", "end", "arousal", "valence", "dominance", "uncertainty"]
    assert len(df) == 6 and df["start"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    values = df[["arousal", "valence", "dominance"]].to_numpy(dtype=float)
    assert np.isfinite(values).all() and ((values >= 1) & (values <= 7)).all()
    signed = emotrace.predict(wav, scale="signed")
    np.testing.assert_allclose(signed["arousal"], (df["arousal"] - 4) / 3, atol=1e-5)


def test_labels_and_trajectories_as_dataframes(tmp_path, monkeypatch):
    from emotrace.core.store import LabelSpec, PredictionRow
    from emotrace.core.workflows.importing import import_folder

    monkeypatch.delenv("EMOTRACE_NO_DEFAULT_MODEL")
    write_audio(tmp_path / "c" / "talk.wav", 5.0)
    store = emotrace.open_store(str(tmp_path / "store.sqlite"))
    assert store.models.active_model() is not None  # the bundled model, as in the app and the CLI
    import_folder(store, tmp_path / "c", "c")
    f = store.corpora.files(store.corpora.corpus("c").id)[0]
    store.labels.import_labels([LabelSpec(f.id, 1.0, 3.0, "alice, the 2nd", (5.0, 3.5, None), "H", None, None)])
    labels = emotrace.labels(store, "c")
    assert labels[["annotator", "rater_kind", "origin", "arousal", "valence", "category"]].values.tolist() == [
        ["alice, the 2nd", "human", "imported", 5.0, 3.5, "H"]]
    assert labels["dominance"].isna().all()
    assert emotrace.labels(store, "c", scale="unit")["arousal"][0] == pytest.approx(4 / 6, abs=1e-6)
    store.predictions.replace_predictions(f.id, store.models.active_model().id,
                                          [PredictionRow(None, "window", 0.0, 4.0, (4.0, 5.0, 6.0))])
    traj = emotrace.trajectories(store, "c")
    assert traj[["file", "start", "end", "arousal", "valence", "dominance"]].values.tolist() == [
        ["talk.wav", 0.0, 4.0, 4.0, 5.0, 6.0]]
    store.close()
