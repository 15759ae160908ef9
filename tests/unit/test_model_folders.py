"""Issue 16, broken model folders refused where they are read: registering one, and a malformed config.json
named in the error (through training, the CLI and the app: tests/integration, tests/gui)."""

from __future__ import annotations

import pytest

from tests.helpers import poison


def test_register_refuses_a_broken_folder(store, tmp_path):
    from emotrace.core.ser.config import EmoTraceConfig, ModelFolderError
    from emotrace.core.ser.modeling import EmoTraceModel
    from emotrace.training.registry import register

    folder = tmp_path / "m"
    EmoTraceModel(EmoTraceConfig(audio_layers=2, audio_dim=8, text_dim=6, hidden_size=4)).save_pretrained(folder)
    poison(folder, "shape")
    with pytest.raises(ModelFolderError, match="shape"):
        register(store, name="m", folder=folder, parent_id=None, metrics={}, config={}, data_counts={}, activate=True)
    assert store.models.model_versions() == []


def test_a_malformed_config_names_the_file(tmp_path):
    from emotrace.core.ser.config import EmoTraceConfig

    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match=str(tmp_path / "config.json")):
        EmoTraceConfig.from_pretrained(tmp_path)
