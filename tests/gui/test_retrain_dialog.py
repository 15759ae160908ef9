"""The Retrain dialog (issue 25, item 4): one honest progress bar (stage, k/N, time left), training in a warm
worker process that a second retrain finds with its encoders loaded, continuing from the model the first made."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt


@pytest.fixture
def worker_after():
    yield
    from emotrace.training import runner

    if runner._SHARED is not None:  # the app's worker ends with the app; here, with the test
        runner._SHARED.close()
        runner._SHARED = None


def _retrain(qtbot, store, backbone: str, epochs: int):
    from emotrace.gui.retrain import RetrainDialog

    dialog = RetrainDialog(store, "gen", backbone=backbone, device="cpu")
    qtbot.addWidget(dialog)
    dialog.show()
    bar: list[tuple[int, str]] = []
    set_value, set_format = dialog.progress.setValue, dialog.progress.setFormat
    dialog.progress.setValue = lambda v: (bar.append((v, dialog.progress.format())), set_value(v))
    dialog.progress.setFormat = lambda f: (bar.append((dialog.progress.value(), f)), set_format(f))
    dialog.modalities.setCurrentText("audio")
    dialog.epochs.setValue(epochs)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.activate_button.isEnabled() or "failed" in dialog.status.text(), timeout=240000)
    assert dialog.new_version is not None, dialog.status.text()
    qtbot.mouseClick(dialog.activate_button, Qt.MouseButton.LeftButton)
    assert store.models.active_model().id == dialog.new_version
    return dialog, bar


def test_one_progress_bar_and_a_warm_second_retrain(qtbot, store, tmp_path, worker_after):
    from emotrace.core.workflows.importing import import_folder
    from emotrace.training.data import load_examples
    from emotrace.training.runner import shared_worker
    from tests.conftest import labelled_corpus, tiny_hubert

    import_folder(store, labelled_corpus(tmp_path / "gen", speakers=8, per_speaker=4), "gen")
    backbone = str(tiny_hubert(tmp_path / "hubert"))
    first, bar = _retrain(qtbot, store, backbone, epochs=6)
    texts = [t for _, t in bar]
    assert any(t.startswith("loading") for t in texts), texts
    assert any(t.startswith("features ") and " files · " in t and " left" in t for t in texts), texts
    assert "training epoch 6/6" in " ".join(texts) and any(" left" in t for t in texts if t.startswith("training"))
    assert any(t.startswith("checking") for t in texts), texts
    assert "trained and checked: activate it or keep the old one" in texts
    assert texts[-1] == "done: the new model is active" and bar[-1][0] == 1000
    values = [v for v, _ in bar]
    assert values == sorted(values), values  # one bar, never going back
    pid = shared_worker().process.pid
    loading = [e for e in first.run_events if e.get("stage") == "loading"]
    assert loading and loading[0]["warm"]  # warmed up when the dialog opened, before the click

    segment = next(e for e in load_examples(store, "gen") if e.split == "Train")
    store.labels.record_label(segment.segment_id, annotator="me", arousal=6.5, valence=2.0, dominance=5.0)
    second, bar = _retrain(qtbot, store, backbone, epochs=6)
    assert shared_worker().process.pid == pid  # the same warm process
    assert not any(e["type"] == "features" for e in second.run_events)  # every feature from the cache
    assert any(e["type"] == "notice" and e["message"].startswith(f"continuing from the active v{first.new_version}")
               for e in second.run_events)
    texts = [t for _, t in bar]
    assert any(t.startswith("features (from the cache)") for t in texts), texts
    assert store.models.model_version(second.new_version).config["train"]["warm_start"]
