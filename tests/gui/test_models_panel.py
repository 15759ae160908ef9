"""The Models panel: its layer-weight plot, and a broken model folder refused on activation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.helpers import poison


def test_models_panel_plots_the_selected_versions_layer_weights(qtbot, store, tmp_path):
    from emotrace.core.ser.config import EmoTraceConfig
    from emotrace.core.ser.modeling import EmoTraceModel
    from emotrace.gui.models_panel import ModelsPanel
    from emotrace.training.registry import register

    for name in ("m", "p"):  # real (small) model folders: registering checks them
        EmoTraceModel(EmoTraceConfig(audio_layers=3, audio_dim=8, text_dim=8, hidden_size=8)).save_pretrained(
            tmp_path / name)
    weights = [[0.1, 0.6, 0.3], [0.5, 0.2, 0.3], [0.2, 0.2, 0.6]]
    probe = [{"arousal": 0.5, "valence": 0.2, "dominance": 0.3}] * 3
    register(store, name="m", folder=tmp_path / "m", parent_id=None, activate=True, config={}, data_counts={},
             metrics={"ccc": {"arousal": 0.8}, "layer_weights": weights, "layer_probe_ccc": probe})
    register(store, name="plain", folder=tmp_path / "p", parent_id=None, activate=False, config={}, data_counts={},
             metrics={"ccc": {"arousal": 0.7}})
    panel = ModelsPanel(store)
    qtbot.addWidget(panel)
    plot = panel.layer_plot
    assert len(plot.bars) == 3  # the active version's weights, one bar series per dimension
    np.testing.assert_allclose(plot.bars[1].opts["height"], weights[1])
    assert [list(line.yData) for line in plot.lines] == [[0.5] * 3, [0.2] * 3, [0.3] * 3]  # probe CCC lines
    panel.table.selectRow(0)  # newest first: "plain", which stored no weights
    assert plot.bars == [] and plot.lines == [] and "no layer weights" in plot.getPlotItem().titleLabel.text


def test_the_models_panel_refuses_a_broken_folder(qtbot, trained, monkeypatch, qt_settings):
    from PySide6.QtWidgets import QMessageBox

    from emotrace.gui.models_panel import ModelsPanel
    from emotrace.training.trainer import TrainConfig, train

    store, corpus, first = trained
    second = train(store, TrainConfig(corpus=corpus, epochs=2, batch_size=16, device="cpu", activate="never"))
    poison(Path(store.models.model_version(second.model_version_id).folder), "truncate")
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    panel = ModelsPanel(store)
    qtbot.addWidget(panel)
    panel.table.selectRow(panel.ids.index(second.model_version_id))
    panel.activate_selected()
    assert shown and "truncated" in shown[0] and store.models.active_model().id == first


def test_roll_back_asks_first_and_no_changes_nothing(qtbot, store, tmp_path):
    """Issue 24, item 8: Roll back switched the active model on one click, without a word."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from emotrace.core.ser.config import EmoTraceConfig
    from emotrace.core.ser.modeling import EmoTraceModel
    from emotrace.gui.models_panel import ModelsPanel
    from emotrace.training.registry import register
    from tests.conftest import tiny_ser_model

    # roll back activates the parent through the activation gate: it must be a model that runs (a real, untrained one)
    tiny_ser_model(tmp_path / "parent")
    EmoTraceModel(EmoTraceConfig(audio_layers=3, audio_dim=8, text_dim=8, hidden_size=8)).save_pretrained(
        tmp_path / "child")
    parent = register(store, name="parent", folder=tmp_path / "parent", parent_id=None, activate=True, config={},
                      data_counts={}, metrics={})
    child = register(store, name="child", folder=tmp_path / "child", parent_id=parent.id, activate=True, config={},
                     data_counts={}, metrics={})
    panel = ModelsPanel(store)
    qtbot.addWidget(panel)
    asked = []

    def answer(button):
        def click():
            box = QApplication.activeModalWidget()
            assert isinstance(box, QMessageBox)
            asked.append(box.text())
            box.button(button).click()
        QTimer.singleShot(100, click)

    answer(QMessageBox.StandardButton.No)
    qtbot.mouseClick(panel.back_button, Qt.MouseButton.LeftButton)
    assert asked and f"v{parent.id} parent" in asked[0] and store.models.active_model().id == child.id
    answer(QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(panel.activated):
        qtbot.mouseClick(panel.back_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 2 and store.models.active_model().id == parent.id
