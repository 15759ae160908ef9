"""Issue 16, the activation gate: its decision when the parent cannot be compared, and the training and
analysis options it relies on refused by the API (real training runs and the CLI:
tests/integration/test_activation_gate.py)."""

from __future__ import annotations

import pytest


def test_the_api_refuses_them_too(store):
    from emotrace.core.errors import UserFacingError
    from emotrace.core.workflows.analyze import analyze_corpus
    from emotrace.training.trainer import TrainConfig

    for bad in ({"epochs": 0}, {"batch_size": 1}, {"grad_accum": 0}, {"activate": "maybe"}):
        with pytest.raises(UserFacingError):
            TrainConfig(corpus="x", **bad)
    with pytest.raises(UserFacingError, match="hop"):
        analyze_corpus(store, "x", hop=0.0001)
    assert TrainConfig(corpus="x", activate=False).activate == "never"


def test_gate_when_the_parent_cannot_be_compared():
    from emotrace.training.gate import decide

    ccc = {"arousal": 0.5, "valence": 0.1, "dominance": 0.3}
    v = decide("auto", ccc, 12, 3, None, "it reads other features (x + y)")
    assert v.activate and not v.comparable and "could not be compared (it reads other features" in v.reason
    v = decide("auto", ccc, 12, None, None)
    assert v.activate and "no active model" in v.reason
    v = decide("auto", {"arousal": float("nan"), "valence": 0.1, "dominance": 0.3}, 12, 3,
               {"arousal": 0.2, "valence": 0.2, "dominance": 0.2})
    assert not v.activate and "not a number" in v.reason
    v = decide("auto", ccc, 12, 3, {**ccc, "arousal": 0.4})
    assert v.activate and ">" in v.reason


# -- issue 23, item 3: broken models are refused at activation, by the one gate the CLI, the app and training use --
def _cast_int8(folder):
    import torch
    from safetensors.torch import load_file, save_file

    state = load_file(str(folder / "model.safetensors"))
    save_file({k: v.to(torch.int8) for k, v in state.items()}, str(folder / "model.safetensors"))


def _scale_1e30(folder):
    from safetensors.torch import load_file, save_file

    state = load_file(str(folder / "model.safetensors"))
    save_file({k: v * 1e30 for k, v in state.items()}, str(folder / "model.safetensors"))


def _zero_std(folder):
    """Float weights, all finite, that divide by zero: every output NaN."""
    from safetensors.torch import load_file, save_file

    state = load_file(str(folder / "model.safetensors"))
    save_file({k: v * 0 if k == "audio_std" else v for k, v in state.items()}, str(folder / "model.safetensors"))


def _config(**changes):
    def edit(folder):
        import json

        config = json.loads((folder / "config.json").read_text())
        config.update(changes)
        (folder / "config.json").write_text(json.dumps(config))
    return edit


def _unfit_backbone(folder):
    """Weights that match their config, a config that does not match its backbone (48-dim layers; it gives 32)."""
    from emotrace.core.ser.config import EmoTraceConfig
    from emotrace.core.ser.modeling import EmoTraceModel

    config = EmoTraceConfig.from_pretrained(folder)
    config.audio_dim = 48
    EmoTraceModel(config).save_pretrained(folder)


def _zeroed_heads(folder):
    """The heads' last layers all zero: every span gets 4, 4, 4 whatever it hears."""
    from safetensors.torch import load_file, save_file

    state = load_file(str(folder / "model.safetensors"))
    save_file({k: v * 0 if k.startswith("heads.") and k.split(".")[2] == "3" else v for k, v in state.items()},
              str(folder / "model.safetensors"))


@pytest.mark.parametrize("damage, words", [
    (_cast_int8, "int8"), (_scale_1e30, "reference clip"), (_zero_std, "NaN"), (_unfit_backbone, "backbone"),
    (_config(dropout=float("nan")), "dropout"), (_config(hidden_size=0), "hidden_size"),
    (_config(window_seconds=-1), "window_seconds"), (_zeroed_heads, "constant"),
])
def test_a_broken_model_is_refused_at_activation_in_one_line(store, tmp_path, tiny_model, damage, words):
    import shutil

    from emotrace.core.ser.config import ModelFolderError
    from emotrace.training.registry import activate

    good = store.models.register_model(name="good", folder=tiny_model, parent_id=None, metrics={}, config={},
                                       data_counts={}, activate=False)
    assert activate(store, good.id, device="cpu").active  # a healthy model passes the same gate
    folder = tmp_path / "broken"
    shutil.copytree(tiny_model, folder)
    damage(folder)
    bad = store.models.register_model(name="bad", folder=folder, parent_id=None, metrics={}, config={},
                                      data_counts={}, activate=False)
    with pytest.raises(ModelFolderError) as err:
        activate(store, bad.id, device="cpu")
    assert words in str(err.value) and "\n" not in str(err.value) and str(folder) in str(err.value)
    assert store.models.active_model().id == good.id


def test_a_tie_is_not_an_improvement():
    from emotrace.training.gate import decide

    zero = {"arousal": 0.0, "valence": 0.0, "dominance": 0.0}  # a retrain on constant labels against the bundled model
    v = decide("auto", zero, 12, 1, dict(zero))
    assert not v.activate and not v.recommended and "not better" in v.reason and "0.000 = " in v.reason
    better = {"arousal": 0.0, "valence": 0.0, "dominance": 0.01}
    assert decide("auto", better, 12, 1, zero).activate


def test_analyze_reports_non_finite_model_output_as_a_failed_file(store, tmp_path, tiny_model):
    """An older store may hold an active model that never passed the gate: its NaN outputs are a FAILED line
    naming the file, never predictions stored as `no_audio` under "0 failed"."""
    import shutil

    from emotrace.core.workflows.analyze import analyze_corpus
    from emotrace.core.workflows.importing import import_folder
    from tests.conftest import write_audio

    write_audio(tmp_path / "c" / "a.wav", 3.0)
    import_folder(store, tmp_path / "c", "c")
    folder = tmp_path / "broken"
    shutil.copytree(tiny_model, folder)
    _zero_std(folder)
    mv = store.models.register_model(name="bad", folder=folder, parent_id=None, metrics={}, config={},
                                     data_counts={}, activate=True)
    report = analyze_corpus(store, "c", device="cpu")
    assert [p for p, _why in report.failed] == [str(tmp_path / "c" / "a.wav")] and report.done == 0
    assert "not finite" in report.failed[0][1] and f"v{mv.id}" in report.failed[0][1]
    assert "FAILED" in report.summary()
    file_id = store.corpora.files(store.corpora.corpus("c").id)[0].id
    assert store.predictions.predicted_files(store.corpora.corpus("c").id, mv.id) == set()
    assert file_id not in store.predictions.predicted_files(store.corpora.corpus("c").id, mv.id)
