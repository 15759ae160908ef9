"""Annotation jobs: selection, assignment with overlap, progress, and blind mode in core and the CLI (in the app:
tests/gui/test_annotation_jobs.py)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from emotrace.core.workflows.annotation_jobs import JobError, assign, create_job, job_progress, next_segment, visibility


def test_assign_gives_each_segment_overlap_distinct_annotators_with_balanced_load():
    out = assign(list(range(10)), ["a", "b", "c"], overlap=2)
    per_segment: dict[int, list[str]] = {}
    for a in out:
        per_segment.setdefault(a.segment_id, []).append(a.annotator)
    assert all(len(set(v)) == 2 for v in per_segment.values()) and len(per_segment) == 10
    load = Counter(a.annotator for a in out)
    assert max(load.values()) - min(load.values()) <= 1
    pairs = Counter(tuple(sorted(v)) for v in per_segment.values())
    assert len(pairs) == 3  # every pair of annotators shares segments: agreement can be computed for each
    with pytest.raises(JobError, match="overlap"):
        assign([1], ["a"], overlap=2)


def test_job_progress_and_blind_visibility(populated):
    store, file_id, mv = populated
    job = create_job(store, "c", "round1", ["ann", "ben"], how="sample", n=3, overlap=2, blind=True)
    assert [(p.annotator, p.assigned, p.done) for p in job_progress(store, job)] == [("ann", 3, 0), ("ben", 3, 0)]
    first = next_segment(store, job, "ann")
    assert visibility(store, first, "ann").others is False  # the job's blindness applies outside the dialog too
    store.labels.record_label(first, annotator="ann", arousal=5, valence=3, dominance=4)
    seen = visibility(store, first, "ann")
    assert seen.others and seen.prediction
    assert next_segment(store, job, "ann") != first
    assert [(p.annotator, p.done) for p in job_progress(store, job)] == [("ann", 1), ("ben", 0)]
    # not blind: everything from the start; a blind annotator setting applies without a job
    assert visibility(store, first, "zoe").others
    store.raters.set_blind("zoe", True)
    assert not visibility(store, first, "zoe").prediction
    with pytest.raises(RuntimeError, match="already exists"):
        create_job(store, "c", "round1", ["x"], how="sample")
    with pytest.raises(JobError, match="needs --split"):
        create_job(store, "c", "r2", ["x"], how="split")  # no split given


def test_review_selection_takes_the_queue_top(populated):
    from emotrace.core.workflows.review import review_queue

    store, file_id, mv = populated
    job = create_job(store, "c", "hard", ["ann"], how="review", n=2, blind=False)
    top = [i.segment_id for i in review_queue(store, store.corpora.corpus("c").id, mv)][:2]
    assert [a.segment_id for a in store.assignments.job_assignments(job.id)] == top


def test_cli_job_create_and_progress(populated, capsys):
    from emotrace.cli.main import main

    store, _file_id, _mv = populated
    db = ["--db", store.url]
    assert main([*db, "job", "create", "--corpus", "c", "--name", "j", "--annotators", "ann,ben,cy", "-n", "3",
                 "--overlap", "2"]) == 0
    assert "3 segments, 2 annotator(s) each, blind" in capsys.readouterr().out
    assert main([*db, "job", "progress", "--corpus", "c", "--json"]) == 0
    (job,) = json.loads(capsys.readouterr().out)
    assert sum(p["assigned"] for p in job["progress"]) == 6 and job["blind"]
    assert main([*db, "job", "create", "--corpus", "c", "--name", "k", "--annotators", "ann", "--overlap", "2"]) == 2
    assert "overlap 2" in capsys.readouterr().err
    assert main([*db, "raters", "--blind", "ann", "--json"]) == 0
    assert {"name": "ann", "kind": "human", "blind": True} in json.loads(capsys.readouterr().out)
