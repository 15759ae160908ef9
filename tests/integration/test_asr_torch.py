"""Whisper on PyTorch (the GPU path without CTranslate2's CUDA 12): the packaged tiny.en converted from its
CTranslate2 model.bin gives faster-whisper's words, with times inside the audio, through the same store path."""

from __future__ import annotations

import jiwer
import pytest

from emotrace.core.audio.decode import AudioSource
from emotrace.core.workflows.importing import import_folder
from tests.conftest import SPEECH_SAMPLES as SAMPLES  # noqa: E402


@pytest.fixture(scope="module")
def engines():
    from emotrace.core.speech.asr import Transcriber
    from emotrace.core.speech.asr_torch import TorchTranscriber

    # sequential faster-whisper: the reference the conversion is checked against word by word
    return (TorchTranscriber("tiny.en", device="cpu", beam_size=1),
            Transcriber("tiny.en", device="cpu", beam_size=1, batch_size=0))


def _words(engine, audio):
    return [w for seg in engine.transcribe(audio, offset=0.0) for w in seg.words]


@pytest.mark.parametrize("name", ["quick_brown_fox.wav", "counting.wav", "hello_world.wav"])
def test_torch_backend_matches_faster_whisper(engines, name):
    torch_engine, ct2 = engines
    audio = AudioSource(SAMPLES / name).decode_all()
    ours, theirs = _words(torch_engine, audio), _words(ct2, audio)
    text = lambda ws: " ".join(w.text.strip().lower().strip(".,!?") for w in ws)  # noqa: E731
    assert jiwer.wer(text(theirs), text(ours)) <= 0.15, (text(ours), text(theirs))
    duration = len(audio) / 16000
    assert all(0 <= w.start <= w.end <= duration + 0.05 for w in ours)
    if len(ours) == len(theirs):  # word times agree with CTranslate2's alignment within 0.2 s
        assert max(abs(a.start - b.start) for a, b in zip(ours, theirs)) < 0.2


def test_torch_backend_through_the_store(store, tmp_path, engines):
    from emotrace.core.workflows.transcribe import transcribe_corpus

    torch_engine, _ct2 = engines
    root = tmp_path / "s"
    root.mkdir()
    (root / "fox.wav").write_bytes((SAMPLES / "quick_brown_fox.wav").read_bytes())
    import_folder(store, root, "s")
    report = transcribe_corpus(store, "s", torch_engine)
    assert report.done == 1
    f = store.corpora.files(store.corpora.corpus("s").id)[0]
    assert "fox" in " ".join(w.text for w in store.words.words(f.id)).lower()
    assert store.corpora.file(f.id).asr_model == "transformers-whisper:tiny.en" and store.segments.segments(f.id)


def test_backend_choice_and_converted_cache(tmp_path):
    from emotrace.core.speech.asr import Transcriber
    from emotrace.core.speech.asr_torch import open_transcriber

    assert isinstance(open_transcriber("tiny.en", device="cpu", backend="ctranslate2", beam_size=1), Transcriber)
    assert isinstance(open_transcriber("tiny.en", device="cpu", backend="auto", beam_size=1), Transcriber)  # no GPU
    with pytest.raises(ValueError, match="asr-backend"):
        open_transcriber("tiny.en", backend="onnx")
