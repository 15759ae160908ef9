"""Layer relevance: the ridge probe, `emotrace layers` (table, JSON, PNG), and the models panel's layer plot."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from emotrace.core.workflows.importing import import_folder
from emotrace.training.probe import probe_layers, ridge_predict
from tests.conftest import labelled_corpus


def test_ridge_probe_finds_the_layer_that_carries_each_dimension():
    rng = np.random.default_rng(0)
    n, layers, dim = 160, 4, 12
    gold = rng.uniform(1, 7, (n, 3))
    feats = rng.standard_normal((n, layers, dim))
    feats[:, 1, 0] += gold[:, 0]  # arousal lives in layer 1, valence in layer 3, dominance nowhere
    feats[:, 3, 5] += gold[:, 1]
    per_layer, flat = probe_layers(feats[:120], gold[:120], feats[120:], gold[120:])
    assert int(np.argmax([p["arousal"] for p in per_layer])) == 1
    assert int(np.argmax([p["valence"] for p in per_layer])) == 3
    assert per_layer[1]["arousal"] > 0.8 and per_layer[0]["arousal"] < 0.3 and abs(flat["dominance"]) < 0.3
    assert flat["arousal"] > 0.6 and flat["valence"] > 0.6  # the all-layer probe sees both


def test_ridge_probe_on_noise_scores_near_zero_and_on_signal_high():
    from emotrace.core.stats.metrics import ccc

    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((200, 300)), rng.standard_normal((200, 1))
    assert abs(ccc(ridge_predict(x[:150], y[:150], x[150:])[:, 0], y[150:, 0])) < 0.2
    x[:, 7] += 2 * y[:, 0]
    assert ccc(ridge_predict(x[:150], y[:150], x[150:])[:, 0], y[150:, 0]) > 0.35  # one feature of 300


@pytest.fixture
def corpus(store, tmp_path):
    import_folder(store, labelled_corpus(tmp_path / "gen"), "gen")
    return "gen"


def test_layers_command_table_json_and_png(store, corpus, tmp_path):
    png = tmp_path / "layers.png"
    cmd = [sys.executable, "-m", "emotrace.cli", "--db", store.url, "-q", "layers", "--corpus", corpus,
           "--backbone", "whisper:tiny.en", "--json", "--png", str(png)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["backbone"] == "whisper:tiny.en" and report["n_train"] == 30 and report["n_eval"] == 12
    assert len(report["probe_ccc"]) == 5 and set(report["probe_ccc"][0]) == {"arousal", "valence", "dominance"}
    assert max(p["arousal"] for p in report["probe_ccc"]) > 0.5  # arousal is audible in this corpus
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    r = subprocess.run(cmd[:-3], capture_output=True, text=True)
    assert r.returncode == 0 and "layer 0 = embeddings" in r.stdout and "  all " in r.stdout


def test_models_panel_plots_the_selected_versions_layer_weights(qtbot, store, tmp_path):
    pytest.importorskip("PySide6")
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
