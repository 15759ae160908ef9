"""Who is speaking: speaker turns in the store (revisions, corrections, undo), RTTM in and out, and everything
downstream following speakers (utterances, analysis windows, speaker-disjoint splits); diarization with the
packaged GE2E encoder on real speech: tests/integration/test_diarization.py. No test needs the shared data folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emotrace.core.formats.rttm import export_rttm, read_rttm
from emotrace.core.segmentation import TimedWord, utterances
from emotrace.core.speech.diarization import Turn, speaker_key
from emotrace.core.store import TurnError, TurnRow
from emotrace.core.vocab import TurnSource
from emotrace.core.workflows.analyze import split_at_changes, trajectory_spans
from emotrace.core.workflows.diarize import import_rttm
from emotrace.core.workflows.importing import import_folder
from tests.conftest import write_audio
from tests.helpers import REPO as ROOT


def test_utterances_are_cut_where_the_speaker_changes():
    words = [TimedWord(k * 0.4, k * 0.4 + 0.35, f" w{k}", speaker="S1" if k < 10 else "S2") for k in range(20)]
    units = utterances(words)
    assert [{w.speaker for w in u} for u in units] == [{"S1"}, {"S2"}]


def test_windows_never_span_a_change():
    spans = np.array([[0.0, 4.0], [1.0, 5.0], [2.0, 6.0], [3.0, 7.0]])
    out = split_at_changes(spans, np.array([4.5]))
    assert all(not (a < 4.5 < b) for a, b in out)
    assert [0.0, 4.0] in out.tolist() and [1.0, 4.5] in out.tolist() and [4.5, 7.0] in out.tolist()
    assert all(b - a >= 0.5 for a, b in out)


def test_turns_in_the_store_follow_through_segments_windows_and_splits(store, tmp_path):
    root = tmp_path / "c"
    write_audio(root / "ep1.wav", 20.0)
    write_audio(root / "ep2.wav", 20.0, freq=300)
    (root / "labels.csv").write_text("file,start,end,arousal,valence,dominance\n")
    import_folder(store, root, "c")
    files = {Path(f.path).stem: f for f in store.corpora.files(store.corpora.corpus("c").id)}
    f = files["ep1"]
    store.speakers.write_speaker_turns(f.id, [Turn(0.5, 9.0, "S1"), Turn(9.5, 19.5, "S2")], TurnSource.DIARIZATION)
    spans = trajectory_spans(store, f, 4.0, 1.0)
    assert all(not (a < 9.25 < b) for a, b in spans) and len(spans) > 10
    # utterances from words: cut at the change, and each takes its speaker
    from emotrace.core.store import Word
    from emotrace.core.workflows.transcribe import build_units

    with store.db.session() as s:
        s.add_all(Word(file_id=f.id, start=k * 0.5 + 0.6, end=k * 0.5 + 1.0, text=f" w{k}") for k in range(36))
    build_units(store, f.id)
    segs = store.segments.segments(f.id)
    assert {s.speaker for s in segs} == {"S1", "S2"}
    assert all(s.speaker == ("S1" if s.end <= 9.0 + 1e-6 else "S2") for s in segs)
    assert any(abs(s.end - 9.0) < 1e-6 for s in segs) and any(abs(s.start - 9.1) < 1e-6 for s in segs)
    # a diarizer's S1 is a different person in each file; a name a person gave holds across files
    assert speaker_key("S1", f.fingerprint) != speaker_key("S1", files["ep2"].fingerprint)
    assert speaker_key("host", f.fingerprint) == speaker_key("host", files["ep2"].fingerprint) == "host"


def test_corrections_are_revisions_and_undo_walks_back(store, tmp_path):
    write_audio(tmp_path / "c" / "a.wav", 10.0)
    import_folder(store, tmp_path / "c", "c")
    fid = store.corpora.files(store.corpora.corpus("c").id)[0].id
    first = [Turn(0.0, 3.0, "S1"), Turn(3.0, 6.0, "S2"), Turn(6.0, 9.0, "S1")]
    store.speakers.write_speaker_turns(fid, first, TurnSource.DIARIZATION)
    store.speakers.reassign_turn(fid, 1, "S1")
    assert {t.speaker for t in store.speakers.speaker_turns(fid)} == {"S1"}
    store.speakers.split_turn(fid, 0, 1.5, "S3")
    store.speakers.rename_speaker(fid, "S1", "host")
    assert [t.speaker for t in store.speakers.speaker_turns(fid)] == ["host", "S3", "host", "host"]
    store.speakers.undo_speaker_edit(fid)  # the rename
    assert [t.speaker for t in store.speakers.speaker_turns(fid)] == ["S1", "S3", "S1", "S1"]
    store.speakers.undo_speaker_edit(fid)  # the split
    store.speakers.undo_speaker_edit(fid)  # the reassignment
    assert [(t.start, t.end, t.speaker) for t in store.speakers.speaker_turns(fid)] == [(0, 3, "S1"), (3, 6, "S2"),
                                                                                        (6, 9, "S1")]
    with pytest.raises(TurnError, match="nothing to undo"):
        store.speakers.undo_speaker_edit(fid)
    assert len(store.speakers.speaker_revisions(fid)) == 7  # every step is kept
    with pytest.raises(TurnError, match="outside the file"):
        store.speakers.write_speaker_turns(fid, [TurnRow(5.0, 12.0, "S1")], TurnSource.MANUAL)


def test_rttm_round_trip_and_pyannote_reads_it(store, tmp_path):
    write_audio(tmp_path / "c" / "two_speakers.wav", 30.0)
    import_folder(store, tmp_path / "c", "c")
    rttm = ROOT / "resources" / "demo" / "two_speakers_30s.rttm"
    text = rttm.read_text().replace("sample", "two_speakers")
    src = tmp_path / "in.rttm"
    src.write_text(text)
    report = import_rttm(store, "c", src)
    assert report.done == 1 and not report.failed
    out = tmp_path / "out.rttm"
    assert export_rttm(store, "c", out) == len(text.strip().splitlines())
    assert read_rttm(out) == read_rttm(src)
    from pyannote.database.util import load_rttm

    theirs = load_rttm(out)["two_speakers"]
    assert sorted(theirs.labels()) == ["speaker90", "speaker91"]
    ours = read_rttm(src)["two_speakers"]
    assert len(list(theirs.itertracks())) == len(ours) == 10
    assert abs(sum(seg.duration for seg, _ in theirs.itertracks()) - sum(t.end - t.start for t in ours)) < 0.01
