"""An imported annotation (an ELAN/Praat/CSV segment) stays as it is, and the rest of the file's speech is segmented
too: the demo's labels.csv names 0-6 s of the 30 s two-speaker file, and the other 24 s used to get no segment at
all ("segs 1"), since build_units kept every current segment's bounds once any imported one existed. A real SQLite
store; the units never overlap a kept segment (an ASR unit over an imported one would not be refused by the
database: migration 0010 leaves imported segments out, so build_units itself must hold the rule)."""

from __future__ import annotations

from emotrace.core.store import Word
from emotrace.core.vocab import SegmentOrigin
from emotrace.core.workflows.importing import import_folder
from emotrace.core.workflows.transcribe import build_units
from tests.conftest import write_audio


def _file_with_imported_segment(store, tmp_path, rows: str) -> int:
    folder = tmp_path / "c"
    write_audio(folder / "talk.wav", 30.0)
    (folder / "labels.csv").write_text("file,start,end,arousal,valence,dominance,category,annotator\n" + rows)
    import_folder(store, folder, "c")
    fid = store.corpora.files(store.corpora.corpus("c").id)[0].id
    with store.db.session() as s:  # a word every 0.5 s over 30 s, an ASR segment end every 4 s
        s.add_all(Word(file_id=fid, start=0.5 * i, end=0.5 * i + 0.4, text=f" w{i}", segment_end=i % 8 == 7)
                  for i in range(60))
    return fid


def _overlaps(segs) -> list:
    segs = sorted(segs, key=lambda g: g.start)
    return [(a.start, a.end, b.start, b.end) for a, b in zip(segs, segs[1:]) if b.start < a.end - 1e-6]


def test_the_speech_outside_an_imported_segment_gets_asr_units_and_a_rerun_adds_nothing_twice(store, tmp_path):
    fid = _file_with_imported_segment(store, tmp_path, "talk.wav,0.0,6.0,3.5,4.0,4.0,N,demo\n")
    build_units(store, fid, speech=[(0.0, 30.0)])
    segs = store.segments.segments(fid, include_superseded=False)
    imported = [g for g in segs if g.origin == SegmentOrigin.IMPORTED]
    asr = [g for g in segs if g.origin == SegmentOrigin.ASR]
    assert [(g.start, g.end) for g in imported] == [(0.0, 6.0)]  # as the annotator drew it
    assert imported[0].text.split() == [f"w{i}" for i in range(12)]  # with its words
    assert asr and min(g.start for g in asr) >= 6.0 and max(g.end for g in asr) >= 29.0  # the other 24 s
    words = [w.text.strip() for g in asr for w in store.words.words(fid) if w.segment_id == g.id]
    assert sorted(words) == sorted(f"w{i}" for i in range(12, 60))  # each word once, none of the imported one's
    assert not _overlaps(segs)
    before = [(g.start, g.end, g.origin, g.text) for g in segs]
    build_units(store, fid, speech=[(0.0, 30.0)])  # a rerun (diarization rebuilds the units): nothing twice
    assert [(g.start, g.end, g.origin, g.text) for g in store.segments.segments(fid, include_superseded=False)] == before


def test_words_between_two_kept_segments_get_units_within_the_gap_and_a_straddling_word_stays_kept(store, tmp_path):
    # 5.3-10.0 imported: w10 (5.0-5.4, midpoint 5.2) straddles its start; 20.0-24.0 imported
    fid = _file_with_imported_segment(store, tmp_path, "talk.wav,5.3,10.0,3,4,4,N,demo\ntalk.wav,20.0,24.0,3,4,4,N,demo\n")
    build_units(store, fid, speech=[(0.0, 30.0)])
    segs = store.segments.segments(fid, include_superseded=False)
    asr = [g for g in segs if g.origin == SegmentOrigin.ASR]
    assert not _overlaps(segs)
    for g in asr:  # each unit lies in one gap: before 5.3, between 10 and 20, or after 24
        assert g.end <= 5.3 or (10.0 <= g.start and g.end <= 20.0) or g.start >= 24.0, (g.start, g.end)
    assert any(g.end <= 5.3 for g in asr) and any(10.0 <= g.start and g.end <= 20.0 for g in asr)
    assert any(g.start >= 24.0 for g in asr)
    first = next(g for g in segs if g.origin == SegmentOrigin.IMPORTED)
    assert first.text.split()[0] == "w10"  # the straddling word belongs to the kept segment, and only to it
    assert all("w10" not in g.text.split() for g in asr)


def test_wordless_speech_inside_or_at_the_edge_of_a_unit_never_overlaps_it(store, tmp_path):
    """A 5-minute podcast-like file failed to transcribe ("this edit would overlap a current segment"): the VAD's
    speech in a pause within a unit, or reaching over a unit's last word, became a no-words segment over the unit."""
    write_audio(tmp_path / "p" / "pod.wav", 20.0)
    import_folder(store, tmp_path / "p", "p")
    fid = store.corpora.files(store.corpora.corpus("p").id)[0].id
    times = [(0.0, 0.4), (0.5, 0.9), (2.4, 2.8), (2.9, 3.3)]  # a 1.5 s pause inside one unit (0-3.3 s)
    with store.db.session() as s:
        s.add_all(Word(file_id=fid, start=a, end=b, text=f" w{i}") for i, (a, b) in enumerate(times))
    result = build_units(store, fid, speech=[(1.0, 2.3), (3.15, 6.0)])  # neither holds a word's midpoint
    segs = store.segments.segments(fid, include_superseded=False)
    assert not _overlaps(segs)
    assert [(g.start, g.end, g.text) for g in segs] == [(0.0, 3.3, "w0 w1 w2 w3"), (3.3, 6.0, "")]
    assert result.no_words == ((3.3, 6.0),)
