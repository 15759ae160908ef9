"""Issue 12: splitting, merging and resizing segments and correcting ASR words cost no label, ever.

A real SQLite store and real audio (on PostgreSQL: tests/postgres; the re-transcription with real tiny.en:
tests/integration; the same edits in the app: tests/gui).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from emotrace.core.store import LabelError, SegmentSpec, Word
from emotrace.core.vocab import SegmentOrigin
from tests.conftest import write_audio
from tests.helpers import all_label_rows, file_with_words, ids_survive_undo, live


def test_split_of_an_unlabelled_segment_and_its_undo(store, tmp_path):
    fid = file_with_words(store, tmp_path)
    first = live(store, fid)[0]
    edit = store.segments.split_segment(first.id, 4.1)
    segs = live(store, fid)
    assert [(g.start, g.end) for g in segs] == [(0.0, 4.1), (4.1, 8.0), (10.0, 18.0)]
    assert all(g.origin == "manual" and g.speaker == "spk1" and g.split == "Train" for g in segs[:2])
    assert segs[0].text.split() == [f"w{i}" for i in range(8)] and segs[1].text.split()[0] == "w8"
    assert edit.superseded == () and len(edit.removed) == 1  # unlabelled: it went, nothing kept
    with pytest.raises(LabelError):
        store.segments.segment(first.id)
    store.segments.edit_segments(**edit.inverse())
    assert [(g.start, g.end) for g in live(store, fid)] == [(0.0, 8.0), (10.0, 18.0)]
    assert live(store, fid)[0].text.split()[-1] == "w15"
    words = {w.text.strip(): w.segment_id for w in store.words.words(fid)}
    assert words["w0"] == words["w15"] == live(store, fid)[0].id


def test_split_of_a_labelled_segment_keeps_it_offers_its_label_and_undo_revives_it(store, tmp_path):
    fid = file_with_words(store, tmp_path)
    seg = live(store, fid)[0]
    store.labels.record_label(seg.id, annotator="ann", arousal=6.0, valence=2.0, dominance=5.0)
    store.labels.record_label(seg.id, annotator="bob", arousal=4.0, valence=None, dominance=3.0)
    before = all_label_rows(store)
    edit = store.segments.split_segment(seg.id, 4.0)
    assert edit.superseded == (seg.id,) and len(edit.added) == 2
    assert store.segments.segment(seg.id).superseded_at is not None
    assert all_label_rows(store) == before  # not one row added, changed or taken away
    for child in edit.added:
        assert store.segments.segment_sources(child) == [seg.id]
        assert store.labels.current_labels(segment_ids=[child]) == []  # offered, never written for the annotator
        assert store.labels.source_label(child, annotator="ann").values == (6.0, 2.0, 5.0)
        assert store.labels.source_label(child, annotator="bob").values == (4.0, None, 3.0)  # each their own, only
        assert store.labels.source_label(child, annotator="cyd") is None  # nothing of anyone else's to take as theirs
    undone = store.segments.edit_segments(**edit.inverse())
    assert store.segments.segment(seg.id).superseded_at is None and undone.revived == (seg.id,)
    assert [g.id for g in live(store, fid)][0] == seg.id
    assert all_label_rows(store) == before
    redone = store.segments.edit_segments(**undone.inverse())  # redo: the cut again, the labelled one superseded again
    assert store.segments.segment(seg.id).superseded_at is not None and len(redone.added) == 2
    assert all_label_rows(store) == before


def test_a_labelled_child_is_kept_when_its_split_is_undone(store, tmp_path):
    fid = file_with_words(store, tmp_path)
    seg = live(store, fid)[0]
    edit = store.segments.split_segment(seg.id, 4.0)
    left = edit.added[0]
    store.labels.record_label(left, annotator="ann", arousal=2.0, valence=2.0, dominance=2.0)
    back = store.segments.edit_segments(**edit.inverse())
    assert back.superseded == (left,)  # the child's label stays, on the child, kept superseded
    assert store.segments.segment(left).superseded_at is not None
    assert store.labels.current_labels(segment_ids=[left])[0].values == (2.0, 2.0, 2.0)


def test_merge_and_resize(store, tmp_path):
    fid = file_with_words(store, tmp_path)
    a, b = live(store, fid)
    store.labels.record_label(a.id, annotator="ann", arousal=3.0, valence=4.0, dominance=5.0)
    store.labels.record_label(b.id, annotator="ann", arousal=5.0, valence=None, dominance=3.0)
    before = all_label_rows(store)
    merged = store.segments.merge_segments([a.id, b.id])
    (m,) = live(store, fid)
    assert (m.start, m.end, m.speaker, m.split) == (0.0, 18.0, "spk1", "Train")
    assert store.segments.segment_sources(m.id) == [a.id, b.id]
    assert store.labels.source_label(m.id, annotator="ann").values == (4.0, 4.0, 4.0)  # the mean over the sources
    assert all_label_rows(store) == before
    store.segments.edit_segments(**merged.inverse())
    assert [g.id for g in live(store, fid)] == [a.id, b.id]
    with pytest.raises(LabelError, match="overlap"):
        store.segments.resize_segment(b.id, 7.0, 18.0)  # into its neighbour: refused, one tier as in ELAN
    resized = store.segments.resize_segment(b.id, 9.5, 19.0)
    (new,) = resized.added
    assert (store.segments.segment(new).start, store.segments.segment(new).end) == (9.5, 19.0)
    assert store.segments.segment(b.id).superseded_at is not None and all_label_rows(store) == before
    plain = store.segments.add_segments(fid, [SegmentSpec(19.2, 19.8, SegmentOrigin.MANUAL)])[0]
    grown = store.segments.resize_segment(plain, 19.1, 19.9)  # unlabelled: it simply takes the new bounds
    assert grown.superseded == () and len(grown.removed) == 1


@pytest.mark.parametrize("action", [
    lambda st, a, b: st.segments.split_segment(a.id, 0.01),  # too near the start
    lambda st, a, b: st.segments.split_segment(a.id, 9.0),  # outside
    lambda st, a, b: st.segments.resize_segment(a.id, 5.0, 4.0),  # backwards
    lambda st, a, b: st.segments.resize_segment(a.id, 0.0, 25.0),  # past the end of the 20 s file
    lambda st, a, b: st.segments.merge_segments([a.id]),  # nothing to merge with
    lambda st, a, b: st.segments.edit_segments(a.file_id, remove=[a.id], revive=[b.id]),  # b is not superseded
])
def test_a_refused_edit_changes_nothing(store, tmp_path, action):
    fid = file_with_words(store, tmp_path)
    a, b = live(store, fid)
    store.labels.record_label(a.id, annotator="ann", arousal=3.0, valence=4.0, dominance=5.0)
    before = (store.segments.segments(fid), all_label_rows(store))
    with pytest.raises(LabelError):
        action(store, a, b)
    assert (store.segments.segments(fid), all_label_rows(store)) == before


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["split", "merge", "resize", "label", "undo"]),
                          st.floats(0.1, 0.9)), min_size=1, max_size=12))
def test_no_sequence_of_edits_loses_a_label(tmp_path_factory, new_store, steps):
    """Random splits, merges, resizes, labels and undos: every label row stays, value for value, on a segment that
    still exists; and every current label is on a live or a superseded (shown, exported) segment."""
    tmp = tmp_path_factory.mktemp("seq")
    store = new_store(tmp / "s.db")
    fid = file_with_words(store, tmp)
    undo: list = []
    written = 0
    for kind, x in steps:
        segs = live(store, fid)
        if not segs:
            break
        g = segs[int(x * len(segs)) % len(segs)]
        try:
            if kind == "split":
                undo.append(store.segments.split_segment(g.id, g.start + x * (g.end - g.start)))
            elif kind == "merge" and len(segs) > 1:
                k = segs.index(g)
                undo.append(store.segments.merge_segments([segs[k - 1].id, g.id] if k else [g.id, segs[1].id]))
            elif kind == "resize":
                undo.append(store.segments.resize_segment(g.id, max(0.0, g.start - x), g.end))
            elif kind == "label":
                store.labels.record_label(g.id, annotator="ann", arousal=1 + 6 * x, valence=4.0, dominance=None)
                written += 1
            elif kind == "undo" and undo:
                store.segments.edit_segments(**undo.pop().inverse())
        except LabelError:
            pass  # a refused edit (a cut too near an edge) is fine; it must just change nothing
        rows = all_label_rows(store)
        assert rows == sorted(rows) and len({r[0] for r in rows}) == len(rows)
        every = {g.id for g in store.segments.segments(fid)}
        assert {r[1] for r in rows} <= every
    assert len(all_label_rows(store)) == written  # every label written is still a row
    store.engine.dispose()


def test_word_corrections_are_kept_with_what_they_replaced(store, tmp_path):
    fid = file_with_words(store, tmp_path)
    words = store.words.words(fid)
    w3 = words[3]
    record = store.words.edit_word(w3.id, editor="ann", text="fixed")
    assert record.old == (" w3", 1.5, 1.9) and record.new == (" fixed", 1.5, 1.9)
    store.words.edit_word(w3.id, editor="ann", start=1.45, end=1.95)
    assert [r.new for r in store.words.word_history(w3.id)] == [(" fixed", 1.5, 1.9), (" fixed", 1.45, 1.95)]
    seg = live(store, fid)[0]
    assert "fixed" in seg.text.split() and "w3" not in seg.text.split()
    assert store.words.edited_words(fid) == {w3.id}
    with store.db.session() as s:  # the correction rows are append-only in the database itself
        for statement in ("UPDATE word_edits SET text = 'x'", "DELETE FROM word_edits"):
            with pytest.raises(Exception, match="append-only"):
                s.execute(text(statement))
            s.rollback()
    for bad in (dict(text="   "), dict(start=3.0, end=2.0), dict(start=0.0, end=40.0)):
        with pytest.raises(LabelError):
            store.words.edit_word(w3.id, editor="ann", **bad)
    with pytest.raises(LabelError):
        store.words.edit_word(w3.id, editor=" ", text="x")
    assert len(store.words.word_history(w3.id)) == 2


def test_a_word_moved_into_another_segment_changes_both_texts(store, tmp_path):
    fid = file_with_words(store, tmp_path)
    w = next(w for w in store.words.words(fid) if w.text == " w15")  # 7.5-7.9 s: in the first segment
    store.words.edit_word(w.id, editor="ann", start=10.1, end=10.3)
    first, second = live(store, fid)
    assert "w15" not in first.text.split() and second.text.split()[0] == "w15"


def test_training_takes_the_newer_judgements_of_an_edited_segment_not_both(store, tmp_path):
    from emotrace.training.data import load_examples

    fid = file_with_words(store, tmp_path)
    a, b = live(store, fid)
    for g in (a, b):
        store.labels.record_label(g.id, annotator="ann", arousal=6.0, valence=2.0, dominance=5.0)
    left, right = store.segments.split_segment(a.id, 4.0).added
    spans = lambda: sorted((e.start, e.end) for e in load_examples(store, "c"))  # noqa: E731
    store.labels.record_label(left, annotator="ann", arousal=2.0, valence=2.0, dominance=2.0)
    assert spans() == [(0.0, 4.0), (0.0, 8.0), (10.0, 18.0)]  # 4-8 s is judged only by the old label: kept
    store.labels.record_label(right, annotator="ann", arousal=3.0, valence=3.0, dominance=3.0)
    assert spans() == [(0.0, 4.0), (4.0, 8.0), (10.0, 18.0)]  # both halves judged anew: the old one stands aside
    (whole,) = store.segments.merge_segments([left, right]).added
    store.labels.record_label(whole, annotator="ann", arousal=4.0, valence=4.0, dominance=4.0)
    assert spans() == [(0.0, 8.0), (10.0, 18.0)]  # generations: the merge stands for the halves and the original
    assert len(store.segments.segments(fid)) == 5  # every segment is still in the store, with its labels


def test_undo_after_later_edits_names_the_right_segments(store, tmp_path):
    ids_survive_undo(store, file_with_words(store, tmp_path))


def test_a_split_then_merged_back_segment_still_offers_the_original_label(store, tmp_path):
    fid = file_with_words(store, tmp_path)
    seg = live(store, fid)[0]
    store.labels.record_label(seg.id, annotator="ann", arousal=6.0, valence=2.0, dominance=5.0)
    halves = store.segments.split_segment(seg.id, 4.0).added
    (whole,) = store.segments.merge_segments(list(halves)).added  # the unlabelled halves pass their source on
    assert store.segments.segment_sources(whole) == [seg.id]
    assert store.labels.source_label(whole, annotator="ann").values == (6.0, 2.0, 5.0)
    store.labels.record_label(whole, annotator="ann", arousal=5.0, valence=3.0, dominance=5.0)
    from emotrace.training.data import load_examples

    assert sorted((e.start, e.end) for e in load_examples(store, "c")) == [(0.0, 8.0)]  # not the span twice
    assert store.segments.replaced_segments(store.corpora.corpus("c").id, {whole}) == {seg.id}


def test_an_undone_split_does_not_replace_the_revived_segment(store, tmp_path):
    fid = file_with_words(store, tmp_path)
    seg = live(store, fid)[0]
    store.labels.record_label(seg.id, annotator="ann", arousal=6.0, valence=2.0, dominance=5.0)
    edit = store.segments.split_segment(seg.id, 4.0)
    for child in edit.added:
        store.labels.record_label(child, annotator="bob", arousal=3.0, valence=3.0, dominance=3.0)
    store.segments.edit_segments(**edit.inverse())  # the original is current again; the labelled halves are kept
    labelled = {c.segment_id for c in store.labels.current_labels(file_id=fid)}
    assert seg.id not in store.segments.replaced_segments(store.corpora.corpus("c").id, labelled)


def test_job_assignments_follow_a_split_and_its_undo(store, tmp_path):
    from emotrace.core.workflows.annotation_jobs import assign, visibility

    fid = file_with_words(store, tmp_path)
    a, b = live(store, fid)
    store.labels.record_label(a.id, annotator="maria", arousal=7.0, valence=1.0, dominance=7.0)
    store.assignments.create_annotation_job(store.corpora.corpus("c").id, "blind", assign([a.id, b.id], ["rev"], 1),
                                            blind=True, overlap=1, selection={})
    left, right = store.segments.split_segment(b.id, 13.0).added  # unlabelled: it goes, its assignment follows
    assert visibility(store, left, "rev").prediction is False  # the halves are rev's, blind, like b
    assert store.labels.source_label(left, annotator="rev") is None
    halves = store.segments.split_segment(a.id, 4.0).added  # labelled by maria: rev is offered nothing of hers
    assert all(store.labels.source_label(h, annotator="rev") is None for h in halves)
    assert not visibility(store, halves[0], "rev").others


def test_a_word_correction_leaves_a_superseded_segments_text_as_it_was_labelled(store, tmp_path):
    fid = file_with_words(store, tmp_path)
    seg = live(store, fid)[0]
    store.labels.record_label(seg.id, annotator="ann", arousal=6.0, valence=2.0, dominance=5.0)
    text = store.segments.segment(seg.id).text
    store.segments.resize_segment(seg.id, 0.0, 4.0)
    w = next(x for x in store.words.words(fid) if x.text == " w12")  # 6.0-6.4 s: outside the new bounds
    store.words.edit_word(w.id, editor="ann", text="changed")
    assert store.segments.segment(seg.id).text == text


def test_retranscribing_after_a_split_gives_every_segment_its_new_words(store, tmp_path):
    from emotrace.core.workflows.transcribe import build_units

    fid = file_with_words(store, tmp_path)
    first = live(store, fid)[0]
    store.segments.split_segment(first.id, 4.0)
    with store.db.session() as s:  # what a re-transcription leaves: other words
        s.query(Word).filter(Word.file_id == fid).delete()
        s.add_all(Word(file_id=fid, start=0.5 * i, end=0.5 * i + 0.4, text=f" new{i}") for i in range(40))
    build_units(store, fid)
    segs = live(store, fid)
    texts = [g.text.split() for g in segs]
    assert [len(t) for t in texts[:2]] == [8, 8] and all(w.startswith("new") for t in texts for w in t)
    # the drawn halves keep their bounds; the words after them (8-20 s) are cut into ASR units afresh, each word once
    assert [g.origin for g in segs[:2]] == ["manual", "manual"] and sum(len(t) for t in texts[2:]) == 24


def test_reimporting_changed_audio_keeps_the_old_content_with_its_word_corrections(store, tmp_path):
    from emotrace.core.workflows.importing import import_folder

    fid = file_with_words(store, tmp_path)
    w = store.words.words(fid)[0]
    store.words.edit_word(w.id, editor="ann", text="kept")
    write_audio(tmp_path / "f" / "a.wav", 20.0, freq=330.0)  # new audio at the same path
    report = import_folder(store, tmp_path / "f", "c")
    assert report.replaced and "word corrections" in report.summary()
    assert store.corpora.file(fid).status == "replaced" and store.words.word_history(w.id)[0].new[0] == " kept"


def test_a_relabelled_segment_offers_its_own_label_not_a_mix_with_its_older_source(store, tmp_path):
    fid = file_with_words(store, tmp_path)
    y = live(store, fid)[0]
    store.labels.record_label(y.id, annotator="ann", arousal=7.0, valence=7.0, dominance=7.0)
    (x,) = store.segments.resize_segment(y.id, 0.0, 7.0).added
    store.labels.record_label(x, annotator="ann", arousal=1.0, valence=1.0, dominance=1.0)  # the annotator's correction
    left, _right = store.segments.split_segment(x, 3.0).added
    assert store.segments.segment_sources(left) == [x]
    assert store.labels.source_label(left, annotator="ann").values == (1.0, 1.0, 1.0)  # never the mean 4/4/4


def test_an_undo_that_would_overlap_a_segment_drawn_since_is_refused(store, tmp_path):
    fid = file_with_words(store, tmp_path)
    a = live(store, fid)[0]
    store.labels.record_label(a.id, annotator="ann", arousal=5.0, valence=5.0, dominance=5.0)
    resized = store.segments.resize_segment(a.id, 0.0, 4.0)
    store.segments.add_segments(fid, [SegmentSpec(5.0, 7.0, SegmentOrigin.MANUAL)])  # drawn (C) in the freed span
    before = store.segments.segments(fid)
    with pytest.raises(LabelError, match="overlap"):
        store.segments.edit_segments(**resized.inverse())  # reviving 0-8 s would cover it
    assert store.segments.segments(fid) == before
