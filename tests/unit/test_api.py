"""The notebook API on a store: labels and trajectories as pandas DataFrames (importing `emotrace` stays light
and `predict` runs the bundled model: tests/integration/test_api.py)."""

from __future__ import annotations

import pytest

import emotrace
from tests.conftest import write_audio


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
