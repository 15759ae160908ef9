"""The blind rule (issue 24, item 2) is one rule: every view's answer comes from `Sight`
(core/workflows/annotation_jobs.py), and they agree, over the whole matrix: blind by the annotator's own setting
x blind by a job x labelled by the viewer or not x each view (the editor's per-segment `visibility`, the file
view's bars and model line, hover, the Annotators dock's lanes, the review queue, exports). The widgets that
draw these answers: tests/gui/test_blind_views.py."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from emotrace.core.workflows.annotation_jobs import assign, corpus_sight, file_sight, visibility
from emotrace.core.workflows.review import review_queue
from emotrace.gui.state.annotator_lanes import annotator_lanes


def _spans(lanes, who):
    return sorted((s, e) for lane in lanes if lane.annotator == who for s, e, _v in lane.spans)


@pytest.mark.parametrize("everywhere,by_job,labelled", list(itertools.product([False, True], repeat=3)))
def test_every_view_asks_the_one_rule(populated, everywhere, by_job, labelled):
    store, file_id, mv = populated
    corpus_id = store.corpora.corpus("c").id
    seg0, seg1, seg2 = (s.id for s in store.segments.segments(file_id))  # 0-10 alice, 10-20 alice, 30-40 bob
    if everywhere:
        store.raters.set_blind("carol", True)
    if by_job:  # alice's first segment and bob's go to carol, blind
        store.assignments.create_annotation_job(corpus_id, "j", assign([seg0, seg2], ["carol"], 1), blind=True,
                                                overlap=1, selection={})
    if labelled:
        store.labels.record_label(seg0, annotator="carol", arousal=2, valence=2, dominance=2)

    hidden = {seg0: (everywhere or by_job) and not labelled, seg1: everywhere, seg2: everywhere or by_job}
    sight = file_sight(store, "carol", file_id)
    whole = corpus_sight(store, "carol", corpus_id)
    for sid, blind in hidden.items():
        seen = visibility(store, sid, "carol")  # the label editor and the jobs workspace
        assert (seen.prediction, seen.others) == (not blind, not blind), sid
        assert sight.shows(sid) is (not blind) and whole.shows(sid) is (not blind)
        assert sight.segment(sid) == seen
    # the Annotators dock: others' spans only where the rule shows them; carol's own always
    lanes = annotator_lanes(store, file_id, "arousal", viewer="carol")
    assert _spans(lanes, "alice") == [b for sid, b in ((seg0, (0.0, 10.0)), (seg1, (10.0, 20.0))) if not hidden[sid]]
    assert _spans(lanes, "bob") == ([] if hidden[seg2] else [(30.0, 40.0)])
    assert _spans(lanes, "carol") == ([(0.0, 10.0)] if labelled else [])
    # the model line and the hover values: hidden inside blind segments; between segments (20-30 s) only for a
    # viewer blind everywhere, who has judged nothing there
    segs = store.segments.segments(file_id)
    mask = sight.model_mask(np.array([5.0, 15.0, 25.0, 35.0]), np.array([(s.start, s.end) for s in segs]),
                            [s.id for s in segs])
    assert list(mask) == [not hidden[seg0], not hidden[seg1], not everywhere, not hidden[seg2]]
    # the review queue (ranked by the model and the labels): blind segments are left out
    queue = [it.segment_id for it in review_queue(store, corpus_id, mv)]
    assert {sid for sid in queue if whole.shows(sid)} == {sid for sid, blind in hidden.items() if not blind}
    # exports from the app: refused while anything is blind to the viewer
    assert whole.blind is (everywhere or by_job) and sight.blind is (everywhere or by_job)


def test_a_blind_job_hides_alice_and_bob_from_carol_headless(populated):
    """The issue's case: `visibility` and `annotator_lanes` disagreed (carol saw alice's and bob's lanes)."""
    store, file_id, _mv = populated
    ids = [s.id for s in store.segments.segments(file_id)]
    store.assignments.create_annotation_job(store.corpora.corpus("c").id, "j", assign(ids, ["carol"], 1),
                                            blind=True, overlap=1, selection={})
    assert not any(visibility(store, sid, "carol").others for sid in ids)
    assert annotator_lanes(store, file_id, "arousal", viewer="carol") == []
    assert len(annotator_lanes(store, file_id, "arousal", viewer="dave")) == 2  # not in the job: alice, bob


def test_accepting_the_model_reveals_nothing(populated):
    from emotrace.core.vocab import LabelOrigin

    store, file_id, _mv = populated
    seg0 = store.segments.segments(file_id)[0].id
    store.raters.set_blind("carol", True)
    store.labels.record_label(seg0, annotator="carol", origin=LabelOrigin.ACCEPTED, arousal=4, valence=4,
                              dominance=4)
    assert not file_sight(store, "carol", file_id).shows(seg0)
    assert not visibility(store, seg0, "carol").others
    assert file_sight(store, None, file_id).blind is False  # no viewer: nothing is blind
