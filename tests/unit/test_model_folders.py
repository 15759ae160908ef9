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


def test_a_full_disk_while_saving_is_one_line_and_leaves_no_weights(tmp_path):
    """Issue 23, item 7: safetensors' own SafetensorError (disk full) was an internal error. The OS refuses the
    write for real here: a file-size limit on this process (EFBIG, as ENOSPC on a full disk: tested by hand
    with a 64 KB tmpfs, see the report) while the weights are written."""
    import resource
    import signal

    from emotrace.core.ser.config import EmoTraceConfig, ModelFolderError
    from emotrace.core.ser.modeling import EmoTraceModel

    model = EmoTraceModel(EmoTraceConfig(audio_layers=2, audio_dim=64, text_dim=6, hidden_size=64))
    folder = tmp_path / "m"
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing us
    resource.setrlimit(resource.RLIMIT_FSIZE, (8192, hard))
    try:
        with pytest.raises(ModelFolderError) as err:
            model.save_pretrained(folder)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)
    assert str(folder) in str(err.value) and "\n" not in str(err.value) and "too large" in str(err.value)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json"]  # no half-written weights, no .partial


def test_a_pickled_encoder_folder_is_refused_before_anything_is_loaded(tmp_path):
    """Issue 23, item 7: `train --backbone DIR` on a folder holding a pickle loaded it (a plain state dict) or
    printed 12 lines suggesting `weights_only=False`. Now one line naming the file, and the pickle is never
    opened (this one would leave a marker if it were unpickled)."""
    import pickle

    from emotrace.core.errors import UserFacingError
    from emotrace.core.ser.encoders import SpeechLayers, TextEncoder
    from tests.conftest import tiny_hubert

    folder = tiny_hubert(tmp_path / "enc")
    for p in folder.glob("*.safetensors"):
        p.unlink()
    marker = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self):
            return (marker.touch, ())

    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Payload()))
    for load in (SpeechLayers, TextEncoder):
        with pytest.raises(UserFacingError) as err:
            load(str(folder))
        assert str(folder / "pytorch_model.bin") in str(err.value) and "safetensors only" in str(err.value)
        assert "\n" not in str(err.value)
    assert not marker.exists()
