"""Issue 12: split, merge and resize segments and correct ASR words in the app, keyboard first, nothing lost.

Real widgets offscreen, a real SQLite store; the keys go through the window's shortcuts as a user's would."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from tests.helpers import all_label_rows

pytestmark = pytest.mark.usefixtures("qt_settings")


def bounds(w) -> list[tuple[float, float]]:
    return [tuple(float(x) for x in w.data.seg_bounds[i]) for i in w.data.live_indices()]


def test_split_offers_the_label_enter_saves_it_and_undo_redo_go_back_and_forth(window, qtbot, populated):
    w = window
    store, file_id, _mv = populated
    original = int(w.data.seg_ids[0])
    store.labels.record_label(original, annotator="tester", arousal=3.0, valence=4.0, dominance=5.0)
    before = all_label_rows(store)
    w.file_view.setFocus()
    assert bounds(w)[0] == (0.0, 10.0) and w.segment_index == 0
    w.seek(4.0)
    qtbot.keyClick(w, Qt.Key.Key_X)
    assert bounds(w) == [(0.0, 4.0), (4.0, 10.0), (10.0, 20.0), (30.0, 40.0)]
    assert all_label_rows(store) == before  # the split wrote no label and removed none
    assert store.segments.segment(original).superseded_at is not None
    assert original in [int(s) for s in w.data.seg_ids]  # still drawn, faint: its label is there
    assert len(w.file_view.superseded_bars["arousal"].xData) == 2
    assert w.view_state.playhead == pytest.approx(0.0)
    assert [s.value() for s in w.editor.spins] == [3.0, 4.0, 5.0]  # the annotator's own label, offered
    assert "not saved" in w.editor.offer_label.text()
    assert "Split" in w.statusBar().currentMessage()
    qtbot.keyClick(w, Qt.Key.Key_Return)  # the annotator confirms it for the left half
    left = int(w.data.seg_ids[w.data.live_indices()[0]])
    assert store.labels.current_labels(segment_ids=[left])[0].values == (3.0, 4.0, 5.0)
    assert bounds(w)[w.data.live_indices().tolist().index(w.segment_index)] == (4.0, 10.0)  # next: right half
    n = len(all_label_rows(store))
    w.act_undo.trigger()  # the save: retracted
    w.act_undo.trigger()  # the split: the original is back, the labelled left half kept (superseded)
    assert bounds(w)[0] == (0.0, 10.0) and int(w.data.seg_ids[w.data.live_indices()[0]]) == original
    assert store.segments.segment(original).superseded_at is None
    assert store.segments.segment(left).superseded_at is not None
    assert len(all_label_rows(store)) == n + 1  # one retraction appended, nothing taken away
    w.act_redo.trigger()  # the split again
    assert bounds(w)[:2] == [(0.0, 4.0), (4.0, 10.0)]
    assert all_label_rows(store)[: len(before)] == before


def test_merge_resize_by_keys_and_by_dragging_an_edge(window, qtbot, populated):
    w = window
    store, file_id, _mv = populated
    store.labels.record_label(int(w.data.seg_ids[0]), annotator="tester", arousal=3.0, valence=4.0, dominance=5.0)
    store.labels.record_label(int(w.data.seg_ids[1]), annotator="tester", arousal=6.0, valence=2.0, dominance=3.0)
    before = all_label_rows(store)
    w.file_view.setFocus()
    w.seek(15.0)
    qtbot.keyClick(w, Qt.Key.Key_P)  # to 0-10
    w.seek(1.0)
    assert bounds(w)[w.data.live_indices().tolist().index(w.segment_index)] == (0.0, 10.0)
    qtbot.keyClick(w, Qt.Key.Key_M)
    assert bounds(w) == [(0.0, 20.0), (30.0, 40.0)]
    assert w.editor.offer_label.text().startswith("offered: your A 4.50 V 3.00 D 4.00")  # mean of both halves
    w.seek(31.5)
    qtbot.keyClick(w, Qt.Key.Key_I)  # the segment under the playhead (30-40) starts at 31.5
    assert bounds(w)[-1] == (31.5, 40.0)
    w.seek(38.0)
    qtbot.keyClick(w, Qt.Key.Key_O)
    assert bounds(w)[-1] == (31.5, 38.0)
    edges = w.file_view.segment_edges
    assert edges.isVisible() and tuple(edges.getRegion()) == (31.5, 38.0)
    edges.lines[1].setValue(39.0)  # what a mouse drag of the right edge leaves, then its finished signal
    edges.lines[1].sigPositionChangeFinished.emit(edges.lines[1])
    assert bounds(w)[-1] == (31.5, 39.0)
    qtbot.keyClick(w, Qt.Key.Key_O)  # playhead (31.5, the segment's start) before... the end: refused, told
    assert bounds(w)[-1] == (31.5, 39.0) and "before the end" in w.statusBar().currentMessage()
    assert all_label_rows(store) == before
    for _ in range(4):
        w.act_undo.trigger()
    assert bounds(w) == [(0.0, 10.0), (10.0, 20.0), (30.0, 40.0)]
    assert all_label_rows(store) == before


def test_n_and_p_step_over_superseded_segments(window, qtbot, populated):
    w = window
    w.file_view.setFocus()
    w.seek(5.0)
    qtbot.keyClick(w, Qt.Key.Key_X)  # 0-10 (alice's label) is superseded by 0-5 and 5-10
    assert w.editor.offer_label.text() == ""  # alice's judgement is never offered as the tester's
    assert "Segment 1/4" in w.editor.title.text() and "(+1 superseded)" in w.status.text()
    seen = []
    w.seek(0.0)
    for _ in range(5):
        qtbot.keyClick(w, Qt.Key.Key_N)
        seen.append(tuple(float(x) for x in w.data.seg_bounds[w.segment_index]))
    assert seen == [(5.0, 10.0), (10.0, 20.0), (30.0, 40.0), (30.0, 40.0), (30.0, 40.0)]
    qtbot.keyClick(w, Qt.Key.Key_P)
    qtbot.keyClick(w, Qt.Key.Key_P)
    qtbot.keyClick(w, Qt.Key.Key_P)
    assert tuple(w.data.seg_bounds[w.segment_index]) == (0.0, 5.0)


def test_correct_a_word_with_f2(window, qtbot, populated):
    w = window
    store, file_id, _mv = populated
    w.file_view.setFocus()
    w.seek(4.3)  # word w2 (4.1-4.8 s)

    def fill_and_accept():
        dialog = QApplication.activeModalWidget()
        dialog.text.setText("hello")
        dialog.end.setValue(4.9)
        dialog.accept()

    QTimer.singleShot(0, fill_and_accept)
    qtbot.keyClick(w, Qt.Key.Key_F2)
    word = next(x for x in store.words.words(file_id) if x.text.strip() == "hello")
    assert (word.start, word.end) == (4.1, 4.9)
    (edit,) = store.words.word_history(word.id)
    assert edit.old == (" w2", 4.1, 4.8) and edit.editor == "tester"
    assert "hello" in w.data.word_texts[2] and "hello" in w.transcript.toPlainText()
    assert "hello" in store.segments.segments(file_id)[0].text.split()
    w.act_undo.trigger()  # back to the ASR's word, as a new correction: the history keeps both steps
    assert [r.new for r in store.words.word_history(word.id)] == [(" hello", 4.1, 4.9), (" w2", 4.1, 4.8)]
    assert "w2" in w.transcript.toPlainText() and "hello" not in w.transcript.toPlainText()
    plain = w.transcript.toPlainText()  # the in-place update kept every later word's link on its word
    assert [plain[a:b] for a, b in w.transcript.positions] == [t.strip() for t in w.data.word_texts]


def second_file(w, populated, tmp_path) -> int:
    from emotrace.core.workflows.importing import import_folder
    from tests.conftest import write_audio

    store, _file_id, _mv = populated
    write_audio(tmp_path / "c" / "zz_other.wav", 12.0)
    import_folder(store, tmp_path / "c", "c")
    w.browser.reload_files()
    return next(f.id for f in store.corpora.files(store.corpora.corpus("c").id) if f.path.endswith("zz_other.wav"))


def test_undo_of_an_edit_in_another_file_opens_that_file_first(window, qtbot, populated, tmp_path):
    w = window
    store, file_id, _mv = populated
    other = second_file(w, populated, tmp_path)
    w.file_view.setFocus()
    w.seek(4.3)

    def fill_and_accept():
        dialog = QApplication.activeModalWidget()
        dialog.text.setText("hello")
        dialog.accept()

    QTimer.singleShot(0, fill_and_accept)
    qtbot.keyClick(w, Qt.Key.Key_F2)  # a word in talk.wav
    w.seek(5.0)
    w.segment_editing.act_split.trigger()  # and a split there (offscreen, the closed dialog leaves no focus)
    w.browser.select_file(other)
    qtbot.waitUntil(lambda: w.data.file_id == other)
    w.act_undo.trigger()  # the split: talk.wav comes up, the split is undone there
    assert w.data.file_id == file_id and bounds(w)[0] == (0.0, 10.0)
    assert "talk.wav" in w.statusBar().currentMessage()
    w.browser.select_file(other)
    qtbot.waitUntil(lambda: w.data.file_id == other)
    w.act_undo.trigger()  # the word: no crash, its file comes up, the word is back
    assert w.data.file_id == file_id and "w2" in w.transcript.toPlainText()
    assert w.isVisible()


def test_a_redraw_keeps_what_the_annotator_typed_but_did_not_save(window, qtbot, populated):
    w = window
    w.file_view.setFocus()
    qtbot.keyClick(w, Qt.Key.Key_6)  # arousal 6, not saved
    assert w.editor.spins[0].value() == 6.0
    w.reload_file()  # what an analysis finishing (or any store event) does to the open file
    assert w.editor.spins[0].value() == 6.0
    qtbot.keyClick(w, Qt.Key.Key_Return)
    store, _f, _mv = populated
    sid = int(w.data.seg_ids[0])
    assert store.labels.current_labels(segment_ids=[sid], annotator="tester")[0].values[0] == 6.0
    w.select_segment(0)
    w.act_undo.trigger()  # and an undo shows the store's state again: no label of tester's, the model's 5 offered
    assert w.editor.spins[0].value() == 5.0 and w.editor.untouched() == ["arousal", "valence", "dominance"]


def test_a_blind_job_hides_others_labels_in_the_file_view_through_a_split(window, qtbot, populated):
    """A job-blind annotator (not blind by their own setting) sees neither alice's bars nor the model on the
    segments the job hands them, and a split keeps those halves theirs and hidden."""
    from emotrace.core.workflows.annotation_jobs import assign

    w = window
    store, file_id, _mv = populated
    first = int(w.data.seg_ids[0])
    store.assignments.create_annotation_job(store.corpora.corpus("c").id, "blind", assign([first], ["tester"], 1),
                                            blind=True, overlap=1, selection={})
    w.open_file(file_id)
    assert not w.file_view.sight.shows(first) and w.file_view.sight.shows(int(w.data.seg_ids[1]))
    assert min(w.file_view.label_bars["arousal"].xData) >= 10.0  # alice's 0-10 s bar is not drawn
    w.seek(5.0)
    w.segment_editing.act_split.trigger()
    assert not any(w.file_view.sight.shows(int(s)) for s in w.data.seg_ids[w.data.live_indices()[:2]])
    assert "hidden" in w.editor.prediction_label.text() and w.editor.offer_label.text() == ""


def test_undo_of_a_label_in_another_file_opens_that_file_at_the_segment(window, qtbot, populated, tmp_path):
    w = window
    store, file_id, _mv = populated
    other = second_file(w, populated, tmp_path)
    w.file_view.setFocus()
    w.seek(15.0)
    qtbot.keyClick(w, Qt.Key.Key_7)
    w.editor.save()  # segment 10-20 s of talk.wav
    sid = w.editor.segment_id
    w.open_file(other)  # elsewhere, the browser's row still on talk.wav (selecting it again emits nothing)
    assert w.data.file_id == other
    w.act_undo.trigger()
    assert w.data.file_id == file_id and int(w.data.seg_ids[w.segment_index]) == sid
    assert store.labels.current_labels(segment_ids=[sid], annotator="tester") == []


def test_a_resize_keeps_the_annotators_label_without_enter(window, qtbot, populated):
    """Issue 24, item 6: after I/O the resized segment was unlabelled until Enter was pressed again, and moving
    on dropped the offered label silently. A resize is the same judgement with new bounds: it stays theirs."""
    w = window
    store, file_id, _mv = populated
    original = int(w.data.seg_ids[0])
    store.labels.record_label(original, annotator="tester", arousal=3.0, valence=4.0, dominance=5.0)
    w.file_view.setFocus()
    w.select_segment(0)
    w.seek(2.0)
    qtbot.keyClick(w, Qt.Key.Key_I)
    live = [s for s in store.segments.segments(file_id, include_superseded=False) if s.start == 2.0]
    assert len(live) == 1 and live[0].end == 10.0
    qtbot.keyClick(w, Qt.Key.Key_N)  # move on without Enter
    [label] = store.labels.current_labels(segment_ids=[live[0].id], annotator="tester")
    assert label.values == (3.0, 4.0, 5.0)
    assert "alice" not in {h.annotator for h in store.labels.label_history(live[0].id)}  # only the tester's own
