"""The rules that keep several processes from corrupting a store (issue 23, items 1 and 2), each in one process:
no two current segments of a file overlap (a database rule), a file is claimed by one process at a time (the
work queue's lease), rebuilt units keep the human work on the old ones, and predictions gone stale are shown.
Several processes at once: tests/integration/test_concurrency.py and tests/postgres/test_concurrency.py."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from emotrace.core.store import PredictionRow, SegmentSpec, StoreError
from emotrace.core.store.assignments import Assignment
from emotrace.core.vocab import PredictionKind, SegmentOrigin
from emotrace.core.workflows.transcribe import build_units
from tests.helpers import file_with_words, live


def _insert(store, fid: int, start: float, end: float, origin: str = "asr", superseded: bool = False) -> None:
    with store.engine.begin() as conn:
        conn.execute(text('INSERT INTO segments (file_id, start, "end", origin, superseded_at) '
                          "VALUES (:f, :a, :b, :o, :s)"),
                     {"f": fid, "a": start, "b": end, "o": origin, "s": "2026-01-01 00:00:00" if superseded else None})


def test_the_database_refuses_overlapping_current_segments(store, tmp_path):
    fid = file_with_words(store, tmp_path)  # current ASR segments at 0-8 s and 10-18 s
    with pytest.raises(IntegrityError, match="overlapping current segments"):
        _insert(store, fid, 7.0, 9.0)  # written behind the repositories' back: the database itself refuses
    _insert(store, fid, 8.0, 10.0, "manual")  # touching is not overlapping
    with pytest.raises(IntegrityError, match="overlapping current segments"), store.engine.begin() as conn:
        conn.execute(text('UPDATE segments SET "end" = 11 WHERE start = 8.0'))
    _insert(store, fid, 1.0, 3.0, "imported")  # a labels file's bounds are kept as given
    _insert(store, fid, 1.0, 3.0, superseded=True)  # history is not current
    with pytest.raises(StoreError, match="overlap a current segment") as err:
        store.segments.add_segments(fid, [SegmentSpec(17.0, 19.0, SegmentOrigin.MANUAL)])
    assert "\n" not in str(err.value) and "IntegrityError" not in str(err.value)
    assert [(g.start, g.end) for g in live(store, fid) if g.origin != "imported"] == [(0, 8), (8, 10), (10, 18)]


def test_a_revived_segment_may_not_overlap_through_the_database_either(store, tmp_path):
    fid = file_with_words(store, tmp_path)
    seg = live(store, fid)[0]
    store.labels.record_label(seg.id, annotator="ann", arousal=3, valence=3, dominance=3)
    edit = store.segments.resize_segment(seg.id, 0.0, 6.0)  # the labelled one is kept, superseded
    with pytest.raises(IntegrityError, match="overlapping current segments"), store.engine.begin() as conn:
        conn.execute(text("UPDATE segments SET superseded_at = NULL WHERE id = :i"), {"i": seg.id})
    store.segments.edit_segments(**edit.inverse())  # the undo removes the new one first: allowed
    assert store.segments.segment(seg.id).superseded_at is None


def test_one_process_claims_a_file_at_a_time(store, tmp_path):
    fid = file_with_words(store, tmp_path)
    mine = store.queue.claim_file("transcribe", fid, "host:1", lease_seconds=60)
    assert mine is not None
    assert store.queue.claim_file("transcribe", fid, "host:2") is None  # held: the second process skips it
    assert store.queue.claim_file("diarize", fid, "host:2") is not None  # another kind of work is another claim
    assert store.queue.finish(mine, "host:1")
    again = store.queue.claim_file("transcribe", fid, "host:2", lease_seconds=0.0)  # done: it may be claimed anew
    assert again is not None and again != mine
    taken = store.queue.claim_file("transcribe", fid, "host:3")  # a lease that ran out is taken over
    assert taken == again and not store.queue.heartbeat(again, "host:2")  # the old holder learns it must stop
    batch = store.jobs.start_job("queue", {})
    assert store.queue.enqueue(batch, "transcribe", [fid]) == 0  # claimed: a worker's batch does not queue it twice
    with store.engine.begin() as conn, pytest.raises(IntegrityError):
        conn.execute(text("INSERT INTO work_items (batch, kind, file_id, status, attempts, created_at) "
                          "VALUES (0, 'transcribe', :f, 'queued', 0, '2026-01-01')"), {"f": fid})


def test_rebuilt_units_keep_the_job_assignments_of_the_old_ones(store, tmp_path):
    """`transcribe --redo` and `diarize` rebuild a file's units: an annotator's assignments follow them (13 -> 0
    before), as an edit's do."""
    fid = file_with_words(store, tmp_path)
    old = live(store, fid)
    corpus = store.corpora.corpus("c").id
    job = store.assignments.create_annotation_job(corpus, "j", [Assignment(old[0].id, "ann", 0),
                                                              Assignment(old[1].id, "bob", 1)],
                                                  blind=True, overlap=1, selection={})
    store.speakers.write_speaker_turns(fid, [type("T", (), {"start": 0.0, "end": 9.0, "speaker": "A"})(),
                                             type("T", (), {"start": 9.0, "end": 20.0, "speaker": "B"})()],
                                       "diarization")
    result = build_units(store, fid)
    new = {g.id: g for g in live(store, fid)}
    assert not set(new) & {g.id for g in old}  # the units were rebuilt
    kept = store.assignments.job_assignments(job.id)
    assert {a.annotator for a in kept} == {"ann", "bob"} and all(a.segment_id in new for a in kept)
    assert all(new[a.segment_id].start < 8.0 for a in kept if a.annotator == "ann")
    assert all(new[a.segment_id].end > 10.0 for a in kept if a.annotator == "bob")
    assert result.assignments_moved == len(kept)


def test_a_file_whose_segments_changed_after_analysis_is_shown_stale(store, tmp_path):
    """Predictions of segments an edit or a rebuild replaced are gone; the file is not taken for analysed."""
    from emotrace.core.workflows.analyze import unanalysed

    fid = file_with_words(store, tmp_path)
    corpus = store.corpora.corpus("c").id
    mv = store.models.register_model(name="m", folder=tmp_path, parent_id=None, metrics={}, config={},
                                     data_counts={}, activate=True)
    store.predictions.replace_predictions(fid, mv.id, [PredictionRow(g.id, PredictionKind.SEGMENT, g.start, g.end,
                                                                     (4.0, 4.0, 4.0)) for g in live(store, fid)])
    assert store.predictions.stale_files(corpus, mv.id) == set() and store.stats(corpus)["stale_files"] == 0
    assert unanalysed(store, mv.id) == []
    store.segments.split_segment(live(store, fid)[0].id, 4.0)
    assert store.predictions.stale_files(corpus, mv.id) == {fid}
    assert store.stats(corpus)["stale_files"] == 1
    assert unanalysed(store, mv.id) == [("c", [fid])]  # what `models activate --analyze` catches up


def test_the_claim_of_a_killed_process_on_this_machine_is_taken_over_at_once(store, tmp_path):
    """A rerun after SIGKILL must not wait out (or skip for) the dead process's lease; a live holder keeps it."""
    import os
    import socket

    from emotrace.core.workflows.tracking import claim_file

    fid = file_with_words(store, tmp_path)
    dead = store.queue.claim_file("transcribe", fid, f"{socket.gethostname()}:4999999")  # above any pid_max
    with claim_file(store, "transcribe", fid) as claim:
        assert claim is not None and claim.item == dead
    alive = store.queue.claim_file("diarize", fid, f"{socket.gethostname()}:{os.getppid()}")
    elsewhere = store.queue.claim_file("analyze", fid, "another-host:1")
    assert alive is not None and elsewhere is not None
    for kind in ("diarize", "analyze"):
        with claim_file(store, kind, fid) as claim:
            assert claim is None


def test_an_analysis_that_finishes_after_an_edit_writes_no_prediction_of_a_removed_segment(store, tmp_path):
    """analyze read the segments, an editor split one meanwhile: the analysis is stored (no raw IntegrityError
    from the removed segment's id) and the file shows as stale."""
    fid = file_with_words(store, tmp_path)
    corpus = store.corpora.corpus("c").id
    mv = store.models.register_model(name="m", folder=tmp_path, parent_id=None, metrics={}, config={},
                                     data_counts={}, activate=True)
    read = live(store, fid)  # what the analysis read
    store.segments.split_segment(read[0].id, 4.0)  # the edit that lands meanwhile
    store.predictions.replace_predictions(fid, mv.id, [PredictionRow(g.id, PredictionKind.SEGMENT, g.start, g.end,
                                                                     (4.0, 4.0, 4.0)) for g in read])
    assert set(store.predictions.segment_predictions(mv.id, file_id=fid)) == {read[1].id}
    assert store.predictions.stale_files(corpus, mv.id) == {fid}
