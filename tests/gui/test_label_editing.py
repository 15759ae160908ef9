"""Correcting labels in the app: every keystroke's save is a store row at once; undo/redo; one-click retrain in
its own process (killing the app: tests/integration/test_kill_safety.py)."""

import pytest
from PySide6.QtCore import Qt

from emotrace.core.stats.agreement import annotator_agreement
from emotrace.core.workflows.review import review_queue

pytestmark = pytest.mark.usefixtures("qt_settings")


def history(store, segment_id):
    return [(h.annotator, *h.values, h.origin) for h in store.labels.label_history(segment_id)]


def test_keyboard_edit_is_a_store_row_before_the_next_event(window, qtbot, populated):
    store, _f, _m = populated
    window.file_view.setFocus()
    sid = int(window.data.seg_ids[0])
    qtbot.keyClick(window, Qt.Key.Key_6)  # focused dimension: arousal
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)  # -> valence
    qtbot.keyClick(window, Qt.Key.Key_2)
    qtbot.keyClick(window, Qt.Key.Key_Return)  # save and next
    # no event loop turn in between: the row is already committed
    # dominance was left at the model's 4.0 (never alice's 5.0): the row is manual, its dominance accepted
    assert history(store, sid)[-1] == ("tester", 6.0, 2.0, 4.0, "manual")
    assert store.labels.label_history(sid)[-1].origins == ("manual", "manual", "accepted")
    assert window.segment_index == 1
    qtbot.keyClick(window, Qt.Key.Key_A)  # accept the model's prediction for segment 2
    sid2 = int(window.data.seg_ids[1])
    assert history(store, sid2)[-1] == ("tester", 5.0, 4.0, 4.0, "accepted")  # the model's, not a human judgement


def test_undo_and_redo_write_rows_and_round_trip(window, qtbot, populated):
    store, _f, _m = populated
    sid = int(window.data.seg_ids[0])
    editor = window.editor
    editor.spins[0].setValue(7.0)
    editor.save()
    assert store.labels.segment_labels(file_id=window.data.file_id)[sid].values[0] == 7.0
    _x, bars = window.file_view.label_bars["arousal"].getData()
    assert list(bars[:2]) == [7.0, 7.0]  # the segment's bar is redrawn at the saved value
    editor.undo_stack.undo()
    # tester had no label before: the segment's label is alice's again, everywhere, and the bar says so
    current = store.labels.segment_labels(file_id=window.data.file_id)[sid]
    assert (current.annotators, current.values) == (("alice",), (3.0, 4.0, 5.0))
    assert [c.annotator for c in store.labels.current_labels(segment_ids=[sid])] == ["alice"]
    _x, bars = window.file_view.label_bars["arousal"].getData()
    assert list(bars[:2]) == [3.0, 3.0]
    editor.undo_stack.redo()
    current = store.labels.segment_labels(file_id=window.data.file_id)[sid]
    assert (current.values[0], current.origin) == (7.0, "manual")
    assert [h[4] for h in history(store, sid)] == ["imported", "manual", "retraction", "manual"]
    assert editor.history.count() == 4
    editor.undo_stack.undo()
    editor.undo_stack.undo()  # nothing more of tester's to undo on this stack
    assert [c.annotator for c in store.labels.current_labels(segment_ids=[sid])] == ["alice"]


def test_dragging_a_bar_saves_the_value(window, populated):
    store, _f, _m = populated
    sid = int(window.data.seg_ids[0])
    handle = window.handles[2]
    handle.setValue(6.3)
    handle.sigPositionChangeFinished.emit(handle)
    assert store.labels.segment_labels(file_id=window.data.file_id)[sid].values[2] == 6.25


def test_review_queue_and_agreement(window, qtbot, populated):
    store, file_id, mv = populated
    items = review_queue(store, store.corpora.corpus("c").id, mv)
    assert [round(i.label_gap, 3) for i in items][:1] == [round((abs(5 - 2) + abs(4 - 6) + 0) / 3, 3)]
    assert items[0].modality_gap == pytest.approx((1.0 + 2.0 + 0) / 3, abs=1e-3)  # audio-only vs text-only
    window.refresh_review()
    window.review.next()
    assert int(window.data.seg_ids[window.segment_index]) == items[0].segment_id
    sid = int(window.data.seg_ids[0])
    store.labels.record_label(sid, annotator="bob", arousal=3.5, valence=4.5, dominance=5.0)
    sid2 = int(window.data.seg_ids[1])
    store.labels.record_label(sid2, annotator="bob", arousal=5.5, valence=2.5, dominance=3.5)
    rows = annotator_agreement(store, store.corpora.corpus("c").id)
    assert rows[0]["pair"] == ("alice", "bob") and rows[0]["n"] == 2 and rows[0]["ccc"]["arousal"] > 0.8


def test_retrain_button_trains_a_new_version_and_cancel_keeps_the_active(qtbot, store, tmp_path, monkeypatch):
    from emotrace.core.workflows.importing import import_folder
    from emotrace.gui.main_window import MainWindow
    from emotrace.gui.settings import AppSettings
    from emotrace.training.trainer import TrainConfig, train
    from tests.conftest import labelled_corpus

    import_folder(store, labelled_corpus(tmp_path / "gen"), "gen")
    first = train(store, TrainConfig(corpus="gen", epochs=3, device="cpu")).model_version_id
    w = MainWindow(store, AppSettings(db_url=store.url, annotator="t", device="cpu"))
    qtbot.addWidget(w)
    w.show()
    w.act_retrain.trigger()
    dialog = w.retrain_dialog
    dialog.epochs.setValue(400)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: len(dialog.epochs_seen) >= 1, timeout=60000)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: "Cancelled" in dialog.status.text(), timeout=30000)
    assert store.models.active_model().id == first and len(store.models.model_versions()) == 1
    analyzed = []
    monkeypatch.setattr(w, "analyze_everywhere", lambda mv: analyzed.append(mv))
    dialog.epochs.setValue(8)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.activate_button.isEnabled(), timeout=120000)
    assert dialog.table.rowCount() == 2 and dialog.table.item(0, 0).text() == f"parent v{first}"
    assert len(dialog.epochs_seen) >= 1 and dialog.ccc_curve.xData is not None
    new = dialog.new_version
    assert store.models.active_model().id == first  # nothing changes until the user activates
    verdict = store.models.model_version(new).metrics["activation"]  # the trainer's advice, shown with its reason
    assert ("Recommended: activate it" if verdict["recommended"] else "Not recommended") in dialog.status.text()
    assert f"active v{first}" in dialog.status.text()
    dialog.activate_button.click()
    assert store.models.active_model().id == new
    assert analyzed == [new]  # every corpus is brought up to date with the new version
    assert w.model_box.currentData() == new


def test_a_save_that_cannot_reach_the_store_is_reported_and_kept(window, populated, monkeypatch):
    from PySide6.QtWidgets import QMessageBox
    from sqlalchemy.exc import OperationalError

    store, _f, _m = populated
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: shown.append(a[2]))

    def disk_full(*_a, **_k):
        raise OperationalError("INSERT INTO labels", {}, Exception("database or disk is full"))

    monkeypatch.setattr(store.labels, "record_label", disk_full)
    sid = int(window.data.seg_ids[0])
    window.editor.spins[0].setValue(6.75)
    window.editor.save_and_next()
    assert shown and "disk is full" in shown[0] and "still in the editor" in shown[0]
    assert window.segment_index == 0 and window.editor.spins[0].value() == 6.75  # nothing moved on, nothing lost
    assert window.editor.undo_stack.count() == 0
    monkeypatch.undo()
    window.editor.save()
    assert store.labels.segment_labels(file_id=window.data.file_id)[sid].values[0] == 6.75
