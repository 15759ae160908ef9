"""The SER model's shipped encoders, loaded for real: Whisper tiny.en (converted to torch) and all-MiniLM-L6-v2."""

import numpy as np
import pytest

from emotrace.core.ser.config import EmoTraceConfig
from emotrace.core.ser.encoders import AudioFeaturizer, TextEncoder, load_audio_encoder
from emotrace.core.ser.modeling import EmoTraceModel, parameter_report
from tests.conftest import tiny_hubert


def test_whisper_encoder_and_minilm_offline():
    whisper = AudioFeaturizer("whisper:tiny.en")
    out = whisper.encode_batch([np.random.randn(16000 * 3).astype(np.float32) * 0.1])
    assert out[0].shape == (5, 151, 384)  # embeddings + 4 layers; 301 mel frames -> 151 encoder frames
    text = TextEncoder("minilm")
    vecs = text.encode(["I am so happy today", "", "I am so happy today", "This is terrible news"])
    assert vecs.shape == (4, 384) and not vecs[1].any()
    np.testing.assert_allclose(vecs[0], vecs[2])
    sim = vecs[0] @ vecs[3] / np.linalg.norm(vecs[0]) / np.linalg.norm(vecs[3])
    assert sim < 0.9


def test_parameter_report_counts_encoders(tmp_path):
    enc = load_audio_encoder(str(tiny_hubert(tmp_path / "h")))
    text = TextEncoder("minilm")
    model = EmoTraceModel(EmoTraceConfig(audio_layers=enc.num_layers, audio_dim=enc.dim, text_dim=text.dim))
    report = parameter_report(model, enc.module, text.model)
    assert 22_000_000 < report["text_encoder"] < 23_500_000  # all-MiniLM-L6-v2
    assert report["trainable"] == report["total"]
    assert report["trainable_share_of_hubert_large"] == pytest.approx(report["trainable"] / 315.4e6, abs=1e-4)
