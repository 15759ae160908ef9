"""RTTM speaker turns: segments take their speakers, and ASR utterances are cut where the speaker changes."""

from __future__ import annotations

import pytest

from emotrace.core.formats.interchange import AnnotationFileError
from emotrace.core.segmentation import TimedWord, utterances
from tests.conftest import write_audio


def test_utterances_never_span_two_speakers():
    words = [TimedWord(i * 0.5, i * 0.5 + 0.4, f" w{i}", speaker="A" if i < 5 else "B") for i in range(12)]
    units = utterances(words)
    assert all(len({w.speaker for w in unit}) == 1 for unit in units)
    assert [w.speaker for w in units[0]] == ["A"] * 5  # short, but not merged into B's
    assert len(utterances([TimedWord(w.start, w.end, w.text) for w in words])) < len(units)  # without turns: merged


@pytest.fixture
def talk(store, tmp_path):
    from emotrace.core.workflows.importing import import_folder

    write_audio(tmp_path / "c" / "talk.wav", 20.0)
    import_folder(store, tmp_path / "c", "c")
    return store, store.corpora.files(store.corpora.corpus("c").id)[0].id


def test_rttm_import_names_segments_and_cuts_asr_units(talk, tmp_path):
    from emotrace.core.formats.batch import import_annotation_file
    from emotrace.core.formats.rttm import export_rttm, read_rttm
    from emotrace.core.store import Word
    from emotrace.core.workflows.transcribe import build_units

    store, file_id = talk
    with store.db.session() as s:
        s.add_all(Word(file_id=file_id, start=i * 0.6, end=i * 0.6 + 0.5, text=f" w{i}") for i in range(30))
    rttm = tmp_path / "talk.rttm"
    rttm.write_text("SPKR-INFO talk 1 <NA> <NA> <NA> unknown alice <NA> <NA>\n"
                    "SPEAKER talk 1 0.000 7.000 <NA> <NA> alice <NA> <NA>\n"
                    "SPEAKER talk 1 7.000 11.000 <NA> <NA> bob <NA> <NA>\n")
    import_annotation_file(store, "c", rttm)
    assert [t.speaker for t in store.speakers.speaker_turns(file_id)] == ["alice", "bob"]
    build_units(store, file_id)
    segs = store.segments.segments(file_id)
    assert {s.speaker for s in segs} == {"alice", "bob"}
    # no unit spans the change at 7 s (the word at 6.6-7.1 s is mostly alice's)
    assert all(s.end <= 7.1 + 1e-6 if s.speaker == "alice" else s.start >= 7.2 - 1e-6 for s in segs)
    out = tmp_path / "out.rttm"
    assert export_rttm(store, "c", out) == 2
    assert read_rttm(out) == read_rttm(rttm)


def test_malformed_rttm_names_the_line_and_writes_nothing(talk, tmp_path):
    from emotrace.core.formats.rttm import import_rttm

    store, file_id = talk
    bad = tmp_path / "bad.rttm"
    bad.write_text("SPEAKER talk 1 0.0 2.0 <NA> <NA> alice <NA> <NA>\nSPEAKER talk 1 zero 2.0 <NA> <NA> bob <NA> <NA>\n")
    with pytest.raises(AnnotationFileError, match=r"bad.rttm:2: onset 'zero'"):
        import_rttm(store, "c", bad)
    other = tmp_path / "other.rttm"
    other.write_text("SPEAKER talk 1 0.0 2.0 <NA> <NA> alice <NA> <NA>\nSPEAKER nowhere 1 0 1 <NA> <NA> x <NA> <NA>\n")
    with pytest.raises(AnnotationFileError, match="'nowhere' matches no audio file"):
        import_rttm(store, "c", other)
    assert store.speakers.speaker_turns(file_id) == []
