"""Issue 23, item 2: human work on an unlabelled file is never deleted when its audio changes and the folder is
imported again. Speaker corrections (rename, reassign) and annotation-job assignments stay with the earlier content,
marked replaced, as labels and word corrections do, and the import summary says so."""

from __future__ import annotations

import pytest

from tests.conftest import write_audio


def _imported(store, tmp_path):
    from emotrace.core.workflows.importing import import_folder

    root = tmp_path / "c"
    write_audio(root / "talk.wav", 10.0)
    import_folder(store, root, "c")
    return root, store.corpora.files(store.corpora.corpus("c").id)[0]


def _speaker_correction(store, f) -> None:
    from emotrace.core.speech.diarization import Turn
    from emotrace.core.vocab import TurnSource

    store.speakers.write_speaker_turns(f.id, [Turn(0.0, 5.0, "S0"), Turn(5.0, 10.0, "S1")], TurnSource.DIARIZATION)
    store.speakers.rename_speaker(f.id, "S0", "Alice")
    store.speakers.reassign_turn(f.id, 1, "Bob")


def _assignment(store, f) -> None:
    from emotrace.core.store import SegmentSpec
    from emotrace.core.store.assignments import Assignment
    from emotrace.core.vocab import SegmentOrigin

    seg = store.segments.add_segments(f.id, [SegmentSpec(1.0, 4.0, SegmentOrigin.MANUAL, "", None, None)])[0]
    store.assignments.create_annotation_job(f.corpus_id, "j", [Assignment(seg, "ann", 0)], blind=False, overlap=1,
                                            selection={})


@pytest.mark.parametrize("work, words", [(_speaker_correction, "speaker corrections"), (_assignment, "assignments")])
def test_human_work_stays_with_the_earlier_content_when_the_audio_changes(store, tmp_path, work, words):
    from emotrace.core.vocab import FileStatus
    from emotrace.core.workflows.importing import import_folder

    root, f = _imported(store, tmp_path)
    work(store, f)
    revisions = store.speakers.speaker_revisions(f.id)
    job = store.assignments.annotation_jobs()
    write_audio(root / "talk.wav", 12.0, freq=330)  # a new take under the same name
    report = import_folder(store, root, "c")
    old = store.corpora.files(f.corpus_id, status=FileStatus.REPLACED)  # the earlier content's row stays
    assert [o.fingerprint for o in old] == [f.fingerprint]
    assert store.speakers.speaker_revisions(old[0].id) == revisions
    assert [len(store.assignments.job_assignments(j.id)) for j in store.assignments.annotation_jobs()] == \
        [len(store.assignments.job_assignments(j.id)) for j in job]
    assert f"CHANGED {root / 'talk.wav'}" in report.summary() and words in report.summary()
