"""The SER model on real components: tiny random HF encoders saved to disk (the shipped Whisper and MiniLM:
tests/integration/test_ser_model.py)."""

import numpy as np
import pytest
import torch

from emotrace.core.audio.decode import AudioSource
from emotrace.core.errors import ModelNotAvailable
from emotrace.core.ser.config import EmoTraceConfig
from emotrace.core.ser.encoders import AudioFeaturizer, SpeechLayers, load_audio_encoder
from emotrace.core.ser.modeling import EmoTraceModel
from emotrace.core.ser.pooling import FileRequest, SpanPooler, iter_pooled
from tests.conftest import tiny_hubert, write_audio
from tests.helpers import CountingEncoder


def test_save_and_load_roundtrip_is_exact(tmp_path):
    config = EmoTraceConfig(audio_layers=3, audio_dim=8, text_dim=6, hidden_size=16)
    model = EmoTraceModel(config).eval()
    with torch.no_grad():
        model.layer_logits.copy_(torch.tensor([[2.0, 0, 0], [0, 0, 2.0], [0, 1.0, 0]]))
    model.save_pretrained(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.safetensors"]
    loaded = EmoTraceModel.from_pretrained(tmp_path / "m")
    audio, text = torch.randn(5, 3, 16), torch.randn(5, 6)
    out = loaded(audio, text)
    torch.testing.assert_close(out, model(audio, text))
    assert out.min() >= 1 and out.max() <= 7
    weights = loaded.layer_weights()
    assert weights.shape == (3, 3) and weights[0].argmax() == 0 and weights[1].argmax() == 2


def test_pickle_weights_are_refused(tmp_path):
    folder = tmp_path / "pickled"
    EmoTraceConfig().save_pretrained(folder)
    torch.save({"x": torch.zeros(1)}, folder / "pytorch_model.bin")
    with pytest.raises(ValueError, match="safetensors only"):
        EmoTraceModel.from_pretrained(folder)


def test_modalities_switch_and_missing_text():
    config = EmoTraceConfig(audio_layers=2, audio_dim=4, text_dim=3, hidden_size=8, modalities="audio")
    model = EmoTraceModel(config).eval()
    audio = torch.randn(4, 2, 8)
    # an audio-only model ignores whatever text it is given
    torch.testing.assert_close(model(audio, torch.randn(4, 3)), model(audio, torch.zeros(4, 3)))
    both = EmoTraceModel(EmoTraceConfig(audio_layers=2, audio_dim=4, text_dim=3, hidden_size=8)).eval()
    text = torch.randn(4, 3)
    absent = both(audio, text, text_present=torch.zeros(4))
    torch.testing.assert_close(absent, both(audio, torch.randn(4, 3), text_present=torch.zeros(4)))
    with pytest.raises(ValueError):
        EmoTraceConfig(modalities="video")


def test_tiny_hubert_from_folder_gives_every_layer(tmp_path):
    folder = tiny_hubert(tmp_path / "distilhubert-tiny", layers=2)
    encoder = load_audio_encoder(str(folder))
    assert isinstance(encoder, AudioFeaturizer) and isinstance(encoder.module, SpeechLayers)
    assert (encoder.num_layers, encoder.dim) == (3, 32)
    frames = encoder.encode_batch([np.random.randn(16000).astype(np.float32), np.random.randn(8000).astype(np.float32)])
    assert frames[0].shape == (3, 49, 32) and frames[1].shape == (3, 24, 32)


def test_named_model_that_is_not_available_says_how_to_get_it(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotAvailable, match="No pip package ships DistilHuBERT") as err:
        load_audio_encoder("ntu-spml/distilhubert")
    assert "whisper:tiny.en" in str(err.value)


def test_chunked_pooling_equals_pooling_the_whole_file():
    rng = np.random.default_rng(0)
    frames = rng.standard_normal((2, 500, 4))  # 10 s at 50 Hz, 2 layers
    spans = np.array([[0.0, 4.0], [1.0, 5.0], [3.7, 7.9], [6.0, 10.0], [0.0, 10.0]])
    pooler = SpanPooler(spans, 50.0)
    for k in range(0, 500, 150):  # chunks of 3 s
        pooler.add(frames[:, k: k + 150], k / 50)
    pooler.close()
    got = dict(pooler.finished())
    for i, (s, e) in enumerate(spans):
        part = frames[:, round(s * 50): round(e * 50)]
        np.testing.assert_allclose(got[i], np.concatenate([part.mean(1), part.std(1)], -1), atol=1e-6)


def test_overlapping_windows_encode_each_second_once(tmp_path):
    path = write_audio(tmp_path / "long.wav", 25.0)
    enc = CountingEncoder(load_audio_encoder(str(tiny_hubert(tmp_path / "h"))))
    spans = np.array([[s, s + 4.0] for s in np.arange(0, 21.5, 1.0)])
    pooled = {}
    for _key, part in iter_pooled(enc, [FileRequest("f", str(path), spans)]):
        pooled.update(part)
    assert len(pooled) == len(spans)
    assert enc.seconds == pytest.approx(25.0, abs=0.01)  # not 22 windows x 4 s = 88 s


def chunk_by_chunk(enc, path, spans) -> list:
    """The reference pooling: every chunk of the file encoded alone, in order, then close()."""
    whole = SpanPooler(spans, enc.frame_rate)
    for k, chunk in enumerate(AudioSource(str(path)).iter_chunks(enc.chunk_seconds)):
        whole.add(enc.inner.encode_batch([chunk])[0], k * enc.chunk_seconds)
    whole.close()
    return whole.finished()


def test_a_file_is_encoded_only_as_far_as_its_last_span(tmp_path):
    """Labels in the first seconds of a long file: the rest is never decoded nor encoded (a retrain on a podcast
    whose first minutes are labelled encodes those minutes), and the pooled spans are the same as before."""
    path = write_audio(tmp_path / "long.wav", 60.0)
    enc = CountingEncoder(load_audio_encoder(str(tiny_hubert(tmp_path / "h"))))
    spans = np.array([[0.5, 3.0], [12.0, 14.5], [3.0, 9.0]])
    early = dict(part for _key, piece in iter_pooled(enc, [FileRequest("f", str(path), spans)]) for part in piece)
    assert enc.seconds == pytest.approx(20.0, abs=0.01)  # two 10 s chunks, not six
    for i, x in chunk_by_chunk(enc, path, spans):
        np.testing.assert_allclose(early[i], x, rtol=1e-5, atol=1e-6)


def test_a_pre_issue_11_whisper_model_reads_the_last_layer():
    """Versions saved when the offline backbone returned CTranslate2's last layer only keep working."""
    old = EmoTraceConfig.from_dict({"audio_backbone": "whisper:tiny.en", "audio_layers": 1, "audio_dim": 384})
    assert old.audio_layer_ids == [-1]
    new = EmoTraceConfig.from_dict({"audio_backbone": "whisper:tiny.en", "audio_layers": 5, "audio_dim": 384})
    assert new.audio_layer_ids is None


def test_one_long_file_fills_the_encoder_batch(tmp_path):
    """A single long file is encoded several chunks at a time (one chunk per file per batch encoded a podcast at
    batch 1, 1.6x slower), and the pooled spans are those of chunk-by-chunk encoding."""
    path = write_audio(tmp_path / "long.wav", 60.0)
    enc = CountingEncoder(load_audio_encoder(str(tiny_hubert(tmp_path / "h"))))
    spans = np.array([[s, s + 4.0] for s in np.arange(0, 56.5, 1.0)])
    pooled = dict(part for _key, piece in iter_pooled(enc, [FileRequest("f", str(path), spans)], batch_size=4)
                  for part in piece)
    assert max(enc.batches) == 4 and enc.seconds == pytest.approx(60.0, abs=0.01)
    for i, x in chunk_by_chunk(enc, path, spans):
        np.testing.assert_allclose(pooled[i], x, rtol=1e-4, atol=1e-5)


def test_mc_dropout_passes_in_one_call_match_separate_passes():
    """`repeats`: the heads' passes in one batched call (the layer mix computed once). With dropout off each pass
    is the plain prediction; with it on the passes differ, as separate passes did."""
    import torch

    from emotrace.core.ser.config import EmoTraceConfig
    from emotrace.core.ser.modeling import EmoTraceModel

    torch.manual_seed(0)
    model = EmoTraceModel(EmoTraceConfig(audio_backbone="x", modalities="audio", audio_layers=3, audio_dim=8,
                                         text_dim=1, hidden_size=16, dropout=0.5)).eval()
    a = torch.randn(6, 3, 16)
    with torch.inference_mode():
        plain = model(a)
        np.testing.assert_allclose(model(a, repeats=4).view(4, 6, 3).numpy(), plain.expand(4, 6, 3).numpy(), atol=1e-6)
        for m in model.modules():
            if isinstance(m, torch.nn.Dropout):
                m.train()
        runs = model(a, repeats=4).view(4, 6, 3)
    assert runs.std(0).min() > 0
