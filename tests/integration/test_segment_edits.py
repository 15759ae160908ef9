"""Segment edits and `transcribe --redo` with real tiny.en: a hand-corrected word survives re-transcription."""

from __future__ import annotations

from tests.helpers import live


def test_retranscription_keeps_hand_corrected_words(store, tmp_path):
    """`transcribe --redo` with real tiny.en: the corrected word survives, its ASR twin is not added again."""

    from emotrace.core.speech.asr import Transcriber
    from emotrace.core.workflows.importing import import_folder
    from emotrace.core.workflows.transcribe import transcribe_corpus
    from tests.conftest import SPEECH_SAMPLES

    wav = SPEECH_SAMPLES / "quick_brown_fox.wav"
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / wav.name).write_bytes(wav.read_bytes())
    import_folder(store, tmp_path / "s", "s")
    tiny = Transcriber("tiny.en", device="cpu", beam_size=1)
    transcribe_corpus(store, "s", tiny)
    fid = store.corpora.files(store.corpora.corpus("s").id)[0].id
    fox = next(w for w in store.words.words(fid) if "fox" in w.text.lower())
    store.words.edit_word(fox.id, editor="ann", text="FOX")
    n = len(store.words.words(fid))
    transcribe_corpus(store, "s", tiny, redo=True)
    words = store.words.words(fid)
    assert fox.id in {w.id for w in words} and len(words) == n
    assert [w.text.strip() for w in words].count("FOX") == 1
    assert [w.text.strip() for w in words].count("fox") == 0  # its ASR twin was not stored again
    assert "FOX" in live(store, fid)[0].text
