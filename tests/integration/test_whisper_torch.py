"""The torch Whisper encoder converted from the packaged CTranslate2 model, against CTranslate2 itself."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from emotrace.core.audio.decode import AudioSource
from emotrace.core.ser.encoders import AudioFeaturizer
from emotrace.core.ser.whisper_torch import WhisperLayers, load_whisper_encoder
from emotrace.core.speech.whisper_ct2 import read_ct2_variables
from emotrace.core.speech.whisper_models import resolve_whisper_model


def speech() -> np.ndarray:
    """Real English speech (pytest-audioeval's sample, when installed), else a voiced signal the test writes."""
    spec = importlib.util.find_spec("pytest_audioeval")
    if spec is not None and spec.submodule_search_locations:
        wav = Path(list(spec.submodule_search_locations)[0]) / "samples/audio/en/quick_brown_fox.wav"
        if wav.is_file():
            return AudioSource(wav).decode_all()[: 16000 * 6]
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 4) / 16000
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / 16000
    x = sum(np.sin(k * phase) / k for k in range(1, 12)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2)
    return (0.1 * x + 0.003 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.fixture(scope="module")
def tiny():
    return WhisperLayers(load_whisper_encoder("whisper:tiny.en")).eval()


def test_converted_encoder_matches_ctranslate2_encode(tiny):
    """CTranslate2 (float32 compute on the same float16 weights) and the torch module on the same log-mel."""
    import ctranslate2

    wav = speech()
    wav = wav[: (len(wav) // 320 * 2 - 1) * 160]  # an even number of mel frames, as CTranslate2 wants
    with torch.no_grad():
        mel, _ = tiny.log_mel(torch.from_numpy(wav)[None], torch.tensor([len(wav)]))
        states, frames = tiny(torch.from_numpy(wav)[None], torch.tensor([len(wav)]))
    ct2 = ctranslate2.models.Whisper(resolve_whisper_model("tiny.en"), device="cpu", compute_type="float32")
    ref = np.asarray(ct2.encode(ctranslate2.StorageView.from_array(mel.numpy()), to_cpu=True))[0]
    assert states.shape == (1, 5, ref.shape[0], 384) and int(frames[0]) == ref.shape[0]
    assert np.abs(ref).max() > 3  # a real activation scale, so the tolerance below means something
    np.testing.assert_allclose(states[0, -1].numpy(), ref, atol=5e-4)
    # the intermediate layers are not the last one (every hidden state, not five copies)
    assert all(np.abs(states[0, k].numpy() - ref).mean() > 0.1 for k in range(4))


def test_log_mel_matches_faster_whisper(tiny):
    from faster_whisper.feature_extractor import FeatureExtractor

    wav = speech()
    with torch.no_grad():
        mel, frames = tiny.log_mel(torch.from_numpy(wav)[None], torch.tensor([len(wav)]))
    ref = FeatureExtractor(feature_size=80)(wav)
    assert mel.shape[-1] == ref.shape[-1] == int(frames[0])
    np.testing.assert_allclose(mel[0].numpy(), ref, atol=1e-4)


def test_a_padded_batch_equals_each_chunk_alone(tiny):
    wav = speech()
    short = wav[: 16000 + 123]
    batch = torch.zeros(2, len(wav))
    batch[0], batch[1, : len(short)] = torch.from_numpy(wav), torch.from_numpy(short)
    with torch.no_grad():
        both, frames = tiny(batch, torch.tensor([len(wav), len(short)]))
        alone, alone_frames = tiny(torch.from_numpy(short)[None], torch.tensor([len(short)]))
    n = int(alone_frames[0])
    assert int(frames[1]) == n < both.shape[2]
    np.testing.assert_allclose(both[1, :, :n].numpy(), alone[0].numpy(), atol=2e-4)


def test_conversion_is_cached_once_as_safetensors(tmp_path, monkeypatch):
    from emotrace.core.paths import cache_dir

    load_whisper_encoder("whisper:tiny.en")
    folders = list((cache_dir() / "whisper-torch").glob("*"))
    assert len(folders) == 1 and (folders[0] / "model.safetensors").is_file()
    stamp = (folders[0] / "model.safetensors").stat().st_mtime_ns
    load_whisper_encoder("whisper:tiny.en")
    assert (folders[0] / "model.safetensors").stat().st_mtime_ns == stamp  # read, not converted again
    variables = read_ct2_variables(Path(resolve_whisper_model("tiny.en")) / "model.bin")
    assert variables["encoder/layer_0/self_attention/linear_0/weight"].shape == (3 * 384, 384)
    assert variables["encoder/position_encodings/encodings"].dtype == np.float16


def test_featurizer_keeps_chosen_layers():
    every = AudioFeaturizer("whisper:tiny.en")
    last = AudioFeaturizer("whisper:tiny.en", layers=[-1])
    chunk = speech()[: 16000 * 2]
    a, b = every.encode_batch([chunk])[0], last.encode_batch([chunk])[0]
    assert a.shape[0] == 5 and b.shape[0] == 1 and every.cache_key != last.cache_key
    np.testing.assert_allclose(a[-1], b[0], atol=1e-5)


def test_own_encoder_module_equals_transformers_whisper_encoder(tiny, tmp_path):
    """The plain-torch encoder (no transformers import on the analysis path) gives transformers' numbers on the
    same weights, a padded batch included; what it saves, transformers loads back to the same numbers."""
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    from emotrace.core.ser.whisper_torch import WhisperEncoderModule, mel_filters

    assert isinstance(tiny.encoder, WhisperEncoderModule)
    tiny.encoder.save_pretrained(tmp_path / "enc")
    theirs = WhisperLayers(WhisperEncoder.from_pretrained(tmp_path / "enc", use_safetensors=True)).eval()
    assert WhisperConfig.from_pretrained(tmp_path / "enc").encoder_layers == 4
    wav = speech()
    batch = torch.zeros(2, len(wav))
    batch[0], batch[1, :16000] = torch.from_numpy(wav), torch.from_numpy(wav[:16000])
    lengths = torch.tensor([len(wav), 16000])
    with torch.no_grad():
        ours, n_ours = tiny(batch, lengths)
        ref, n_ref = theirs(batch, lengths)
    assert torch.equal(n_ours, n_ref)
    np.testing.assert_allclose(ours[0].numpy(), ref[0].numpy(), atol=2e-4)
    np.testing.assert_allclose(ours[1, :, : int(n_ours[1])].numpy(), ref[1, :, : int(n_ref[1])].numpy(), atol=2e-4)
    from transformers.audio_utils import mel_filter_bank

    np.testing.assert_allclose(mel_filters(80), mel_filter_bank(
        num_frequency_bins=201, num_mel_filters=80, min_frequency=0.0, max_frequency=8000, sampling_rate=16000,
        norm="slaney", mel_scale="slaney").T, atol=1e-6)


def test_the_featurizer_imports_no_transformers():
    """Loading the bundled backbone and encoding (once converted) imports neither transformers nor its
    Whisper module: that import cost 2-7 s of every analysis on 2 cores."""
    import subprocess
    import sys

    AudioFeaturizer("whisper:tiny.en")  # converts once if this cache has no copy yet
    code = ("import sys, numpy as np\nfrom emotrace.core.ser.encoders import AudioFeaturizer\n"
            "f = AudioFeaturizer('whisper:tiny.en')\nf.encode_batch([np.zeros(16000, np.float32)])\n"
            "print(sorted(m for m in sys.modules if m.startswith('transformers')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
