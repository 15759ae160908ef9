"""Layer relevance: the ridge probe on known data (`emotrace layers`: tests/integration; the models panel's layer
plot: tests/gui)."""

from __future__ import annotations

import numpy as np

from emotrace.training.probe import probe_layers, ridge_predict


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
