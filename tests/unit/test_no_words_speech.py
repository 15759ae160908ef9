"""Speech the VAD finds but the ASR leaves without words becomes a segment too (issue 24, item 7): flagged
"no words" (empty text), kept when the units are rebuilt (after diarization), and named in the report. The whole
path with the real VAD and the real tiny.en model: tests/integration/test_asr.py."""

from __future__ import annotations

from emotrace.core.segmentation import speech_without_words
from emotrace.core.store import Word
from emotrace.core.workflows.importing import import_folder
from emotrace.core.workflows.transcribe import build_units
from tests.conftest import write_audio


def test_speech_without_words_is_merged_and_keeps_only_wordless_stretches():
    class W:
        def __init__(self, start, end):
            self.start, self.end = start, end

    words = [W(1.0, 1.5), W(1.6, 2.0)]
    speech = [(0.8, 2.2), (5.0, 6.0), (5.5, 7.0), (9.0, 9.1)]  # words; two overlapping wordless; a click
    assert speech_without_words(speech, words) == [(5.0, 7.0)]


def test_build_units_makes_wordless_speech_a_segment_and_a_rebuild_keeps_it(store, tmp_path):
    write_audio(tmp_path / "c" / "talk.wav", 20.0)
    import_folder(store, tmp_path / "c", "c")
    f = store.corpora.files(store.corpora.corpus("c").id)[0]
    with store.db.session() as s:
        s.add_all(Word(file_id=f.id, start=i * 0.5, end=i * 0.5 + 0.4, text=f" w{i}", segment_end=i == 7)
                  for i in range(8))  # words over 0-4 s
    result = build_units(store, f.id, speech=[(0.0, 4.0), (10.0, 13.5)])
    assert result.no_words == ((10.0, 13.5),)
    segs = store.segments.segments(f.id)
    assert [(s.start, s.end, s.text) for s in segs][-1] == (10.0, 13.5, "")
    assert segs[0].text.startswith("w0")
    build_units(store, f.id)  # diarization rebuilds the units without the VAD: the wordless segment stays
    assert [(s.start, s.end, s.text) for s in store.segments.segments(f.id) if not s.text] == [(10.0, 13.5, "")]
