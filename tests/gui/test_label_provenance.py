"""What Enter saves is what the annotator chose (issue 24, items 1 and 6): per dimension, typed values are
`manual`, values left at the model's prediction are `accepted`, nothing is pre-filled from another person, and
an untouched segment saves nothing. Driven by keys on the real main window (the `populated` store: alice labelled
0-10 s as 3/4/5 N, the model predicts 5/4/4 for every segment, the app user is `tester`)."""

import pytest
from PySide6.QtCore import Qt

from emotrace.core.stats.agreement import annotator_agreement
from emotrace.core.vocab import LabelOrigin

pytestmark = pytest.mark.usefixtures("qt_settings")
M, ACC = LabelOrigin.MANUAL, LabelOrigin.ACCEPTED


def own(store, sid, annotator="tester"):
    return [h for h in store.labels.label_history(sid) if h.annotator == annotator]


def keys(qtbot, w, *names):
    for name in names:
        qtbot.keyClick(w, getattr(Qt.Key, f"Key_{name}"))


def test_enter_on_an_untouched_segment_saves_nothing_and_moves_on(window, qtbot, populated):
    store, _f, _m = populated
    window.file_view.setFocus()
    sid = int(window.data.seg_ids[0])
    assert window.editor.untouched() == ["arousal", "valence", "dominance"]
    assert "untouched: arousal, valence, dominance" in window.editor.untouched_label.text()
    keys(qtbot, window, "Return")
    assert own(store, sid) == []  # the model's 5/4/4 was not saved as tester's judgement
    assert window.segment_index == 1


def test_another_persons_label_is_never_a_prefill(window, populated):
    store, _f, _m = populated
    editor = window.editor  # segment 0-10 s: alice said 3/4/5 N; the model says 5/4/4
    assert [s.value() for s in editor.spins] == [5.0, 4.0, 4.0]
    assert editor.category.currentData() is None


def test_typed_dimensions_are_manual_and_the_rest_accepted(window, qtbot, populated):
    store, _f, _m = populated
    window.file_view.setFocus()
    sid = int(window.data.seg_ids[0])
    keys(qtbot, window, "6")  # arousal only
    assert window.editor.untouched() == ["valence", "dominance"]
    keys(qtbot, window, "Return")
    row = own(store, sid)[-1]
    assert (row.values, row.origins, row.origin, row.category) == ((6.0, 4.0, 4.0), (M, ACC, ACC), M, None)
    # agreement, training and exports read the person's values only: valence and dominance were the model's
    human = [c for c in store.labels.current_labels(segment_ids=[sid], include_accepted=False) if c.annotator == "tester"]
    assert [c.values for c in human] == [(6.0, None, None)]
    keys(qtbot, window, "2", "Return")  # segment 10-20 s (alice: 6/2/3): arousal only again
    [pair] = [p for p in annotator_agreement(store, store.corpora.corpus("c").id) if p["pair"] == ("alice", "tester")]
    assert pair["n"] == 2 and pair["ccc"]["arousal"] is not None
    assert pair["ccc"]["valence"] is None and pair["ccc"]["dominance"] is None  # the model's values never count


def test_accept_keeps_typed_dimensions_and_takes_the_model_for_the_rest(window, qtbot, populated):
    store, _f, _m = populated
    window.file_view.setFocus()
    sid = int(window.data.seg_ids[0])
    keys(qtbot, window, "BracketRight", "2", "A")  # valence typed, then accept
    row = own(store, sid)[-1]
    assert (row.values, row.origins, row.origin) == ((5.0, 2.0, 4.0), (ACC, M, ACC), M)
    window.select_segment(1)
    keys(qtbot, window, "A")  # nothing typed: all the model's
    row = own(store, int(window.data.seg_ids[1]))[-1]
    assert (row.values, row.origins, row.origin) == ((5.0, 4.0, 4.0), (ACC, ACC, ACC), ACC)


def test_a_category_is_saved_only_when_chosen(window, qtbot, populated):
    store, _f, _m = populated
    window.file_view.setFocus()
    sid = int(window.data.seg_ids[0])
    keys(qtbot, window, "3", "Return")
    assert own(store, sid)[-1].category is None  # alice's N is hers
    window.select_segment(0)
    window.editor.category.setCurrentIndex(window.editor.category.findData("H"))
    window.file_view.setFocus()
    keys(qtbot, window, "Return")
    row = own(store, sid)[-1]
    assert (row.category, row.values[0], row.origins[0]) == ("H", 3.0, M)  # the typed arousal stays typed


def test_focus_starts_at_arousal_on_each_segment_and_brackets_stop_at_the_ends(window, qtbot, populated):
    store, _f, _m = populated
    window.file_view.setFocus()
    keys(qtbot, window, "BracketRight", "BracketRight", "BracketRight", "BracketRight")
    assert window.editor.focused_dim == 2  # no wrap-around to arousal
    keys(qtbot, window, "5", "Return")  # dominance of segment 1; the focus must not carry over
    sid = int(window.data.seg_ids[1])
    keys(qtbot, window, "7", "BracketRight", "1", "BracketRight", "6", "Return")
    row = own(store, sid)[-1]
    assert (row.values, row.origins) == ((7.0, 1.0, 6.0), (M, M, M))
    sid = int(window.data.seg_ids[window.segment_index])  # the model says 5/4/4: typing 4 is still typing
    keys(qtbot, window, "BracketRight", "4", "Return")
    assert own(store, sid)[-1].origins == (ACC, M, ACC)
    keys(qtbot, window, "BracketLeft", "BracketLeft", "BracketLeft")
    assert window.editor.focused_dim == 0


def test_status_lines_name_segments_as_the_editor_does(window, qtbot, populated):
    window.file_view.setFocus()
    messages = []
    window.editor.status.connect(messages.append)
    sid = int(window.data.seg_ids[0])
    keys(qtbot, window, "4", "Return")
    window.editor.undo_stack.undo()
    assert messages and all(f"segment {sid}" not in m for m in messages)
    assert "Segment 1/" in messages[0] and "Segment 1/" in messages[-1]
    from emotrace.core.timecode import format_time  # the editor's title writes times as everything else does

    assert f"{format_time(10.0, 2)}-{format_time(20.0, 2)}" in window.editor.title.text()  # after undo: Segment 2


def test_review_queue_writes_times_as_everything_else_does(window, populated):
    from emotrace.core.timecode import format_time

    window.refresh_review()
    items = window.review.items
    assert items
    assert [window.review.table.item(r, 1).text() for r in range(len(items))] == [format_time(i.start) for i in items]


def test_up_and_down_in_the_file_list_move_files_not_segments(populated, qtbot, qt_settings, tmp_path):
    from emotrace.core.workflows.importing import import_folder
    from emotrace.gui.main_window import MainWindow
    from emotrace.gui.settings import AppSettings
    from tests.conftest import write_audio

    store, file_id, _mv = populated
    root = tmp_path / "c"
    write_audio(root / "zz_second.wav", 4.0)
    import_folder(store, root, "c")
    w = MainWindow(store, AppSettings(db_url=store.url, annotator="tester"))
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    w.browser.select_row(0)
    qtbot.waitUntil(lambda: w.data is not None)
    first = w.data.file_id
    w.browser.table.setFocus()
    qtbot.keyClick(w.browser.table, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: w.data.file_id != first)
    assert w.browser.table.currentIndex().row() == 1
    qtbot.keyClick(w.browser.table, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: w.data.file_id == first)
    assert w.browser.table.currentIndex().row() == 0
