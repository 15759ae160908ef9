"""Retrain at the speed of the hardware (issue 25, item 4): the features analysis pooled are the training features,
the activation gate's reference features are cached, and a warm process re-reads nothing from disk."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def analysed(store, tmp_path, tiny_model):
    """Six labelled segments in two files analysed by the tiny model (active): the state after `emotrace analyze`.
    The files are equally long: the tiny HuBERT (group norm, no attention mask) hears a batch's padding."""
    from emotrace.core.workflows.analyze import analyze_corpus
    from emotrace.core.workflows.importing import import_folder
    from tests.conftest import write_audio

    rows = ["file,start,end,arousal,valence,dominance"]
    for k, freq in enumerate((180.0, 260.0)):
        write_audio(tmp_path / "gen" / f"t{k}.wav", 6.0, freq=freq)
        rows += [f"t{k}.wav,{s},{s + 2},{2 + s / 2},{3 + k},4" for s in (0, 2, 4)]
    (tmp_path / "gen" / "labels.csv").write_text("\n".join(rows) + "\n")
    import_folder(store, tmp_path / "gen", "gen")
    store.models.register_model(name="tiny", folder=tiny_model, parent_id=None, metrics={}, config={},
                                data_counts={}, activate=True)
    assert analyze_corpus(store, "gen", device="cpu").done == 2
    return store


def _featurizer(tiny_model):
    from emotrace.core.ser.config import EmoTraceConfig
    from emotrace.core.ser.encoders import load_audio_encoder

    return load_audio_encoder(EmoTraceConfig.from_pretrained(tiny_model).audio_backbone, "cpu")


def test_training_reads_the_features_analysis_pooled(analysed, tiny_model, tmp_path, monkeypatch):
    from emotrace.core.ser.feature_cache import FeatureCache
    from emotrace.training.data import load_examples
    from emotrace.training.features import audio_features

    examples = load_examples(analysed, "gen")
    enc = _featurizer(tiny_model)
    fresh = audio_features(enc, examples, cache=FeatureCache(enc.cache_key, root=tmp_path / "fresh"))

    def refuse(chunks):
        raise AssertionError("the encoder ran although analysis had pooled every labelled segment")

    monkeypatch.setattr(enc, "encode_batch", refuse)
    cached = audio_features(enc, examples)  # the user's cache, as analysis left it
    assert cached.shape == fresh.shape == (6, enc.num_layers, 2 * enc.dim)
    np.testing.assert_allclose(cached, fresh, rtol=1e-4, atol=1e-5)  # the same featurizer, the same statistics


def test_the_activation_gate_loads_no_encoder_once_it_has_the_reference_features(store, tiny_model, tmp_path,
                                                                                  monkeypatch):
    """The gate ran the reference clip through freshly loaded encoders for every activation (about 12 s on CPU,
    counted in every retrain); its features are cached like any others, so the next check runs only the heads,
    and still refuses a broken model."""
    import shutil

    from emotrace.core.ser import pipeline
    from emotrace.core.ser.config import ModelFolderError
    from emotrace.training import gate
    from emotrace.training.registry import activate
    from tests.unit.test_activation_gate import _scale_1e30

    first = store.models.register_model(name="a", folder=tiny_model, parent_id=None, metrics={}, config={},
                                        data_counts={}, activate=False)
    assert activate(store, first.id, device="cpu").active  # encodes the reference clip once

    def no_encoders(*args, **kwargs):
        raise AssertionError("the gate loaded the encoders again")

    monkeypatch.setattr(pipeline, "load_audio_encoder", no_encoders)
    monkeypatch.setattr(pipeline, "TextEncoder", no_encoders)
    monkeypatch.setattr(gate, "_REFERENCE_FP", None, raising=False)  # a new process: nothing in memory but the disk
    second = tmp_path / "second"
    shutil.copytree(tiny_model, second)
    v2 = store.models.register_model(name="b", folder=second, parent_id=None, metrics={}, config={},
                                     data_counts={}, activate=False)
    assert activate(store, v2.id, device="cpu").active
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    _scale_1e30(broken)
    bad = store.models.register_model(name="c", folder=broken, parent_id=None, metrics={}, config={},
                                      data_counts={}, activate=False)
    with pytest.raises(ModelFolderError, match="reference clip"):
        activate(store, bad.id, device="cpu")
    assert store.models.active_model().id == v2.id


def _ridge_as_it_was(x_train, y_train, x_test, alphas):
    """The probe's kernel ridge before issue 25 (per target, per penalty, its own hat diagonal)."""
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    xt, xs = (x_train - mean) / std, (x_test - mean) / std
    y_mean = y_train.mean(0)
    y = y_train - y_mean
    evals, evecs = np.linalg.eigh(xt @ xt.T / xt.shape[1])
    evals = np.clip(evals, 0.0, None)
    proj = evecs.T @ y
    out = np.zeros((len(xs), y.shape[1]))
    for j in range(y.shape[1]):
        best, best_alpha = np.inf, alphas[0]
        for a in alphas / len(y):
            shrink = evals / (evals + a)
            loo = (y[:, j] - evecs @ (shrink * proj[:, j])) / np.clip(1 - (evecs ** 2) @ shrink, 1e-6, None)
            if float(np.mean(loo ** 2)) < best:
                best, best_alpha = float(np.mean(loo ** 2)), a
        out[:, j] = (xs @ xt.T / xt.shape[1]) @ (evecs @ (proj[:, j] / (evals + best_alpha))) + y_mean[j]
    return out


def test_the_layer_probe_decomposes_the_same_features_once(monkeypatch):
    """A retrain after corrections probes the same features with other labels: the n x n eigendecomposition
    (7.6 s of a 22 s warm retrain on ravdess-dev) is kept, and the probe's answers are what they were."""
    from emotrace.training import probe

    rng = np.random.default_rng(0)
    x, x_dev = rng.normal(size=(120, 40)), rng.normal(size=(30, 40))
    y = x[:, :3] @ rng.normal(size=(3, 3)) + rng.normal(size=(120, 3))
    first = probe.ridge_predict(x, y, x_dev)
    np.testing.assert_allclose(first, _ridge_as_it_was(x, y, x_dev, probe.ALPHAS), rtol=1e-8, atol=1e-8)
    calls = []
    real = np.linalg.eigh
    monkeypatch.setattr(np.linalg, "eigh", lambda m: calls.append(1) or real(m))
    y[:20] += 0.5  # twenty corrected labels
    again = probe.ridge_predict(x, y, x_dev)
    assert calls == []
    np.testing.assert_allclose(again, _ridge_as_it_was(x, y, x_dev, probe.ALPHAS), rtol=1e-8, atol=1e-8)
