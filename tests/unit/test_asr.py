"""ASR without a model: the error for a model that is not installed, utterances cut from timed words, word times
repaired (transcription with the real tiny.en: tests/integration/test_asr.py)."""

import pytest

from emotrace.core.errors import ModelNotAvailable
from emotrace.core.segmentation import TimedWord, utterances


def test_missing_model_is_a_clear_error(tmp_path, monkeypatch):
    from emotrace.core.speech.whisper_models import resolve_whisper_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotAvailable, match="offline-models"):
        resolve_whisper_model("large-v3")
    (tmp_path / "notamodel").mkdir()
    with pytest.raises(ModelNotAvailable, match="not a CTranslate2"):
        resolve_whisper_model(str(tmp_path / "notamodel"))


def test_utterances_stay_in_range():
    words, t = [], 0.0
    for i in range(60):
        words.append(TimedWord(t, t + 0.3, f" w{i}"))
        t += 0.35 if i % 12 else 0.9  # a pause every 12 words
    units = utterances(words)
    assert sum(len(u) for u in units) == 60
    lengths = [u[-1].end - u[0].start for u in units]
    assert all(length <= 11.0 for length in lengths)
    assert all(length >= 2.75 for length in lengths[:-1])


def test_zero_duration_words_get_a_duration_up_to_the_next_word():
    from emotrace.core.speech.asr import AsrWord, repair_word_times

    words = [AsrWord(1.0, 1.0, " a", 0.9), AsrWord(1.04, 1.3, " b", 0.9), AsrWord(2.0, 2.0, " c", 0.9),
             AsrWord(2.5, 2.5, " d", 0.9)]
    fixed = repair_word_times(words, segment_end=2.55)
    assert [(w.start, round(w.end, 3)) for w in fixed] == [(1.0, 1.04), (1.04, 1.3), (2.0, 2.1), (2.5, 2.55)]
    assert all(w.end > w.start for w in fixed)
