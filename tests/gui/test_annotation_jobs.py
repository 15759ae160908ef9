"""Annotation jobs in the app: the blind label editor and the jobs dialog (core and CLI: tests/unit)."""

from __future__ import annotations

from emotrace.core.workflows.annotation_jobs import create_job


def test_blind_editor_hides_prediction_and_others_until_saved(populated, qtbot):
    from emotrace.gui.label_editor import LabelEditor

    store, file_id, mv = populated
    seg = store.segments.segments(file_id)[0]  # alice labelled it 3/4/5; the model says 5/4/4
    store.raters.set_blind("newbie", True)
    editor = LabelEditor(store, "newbie")
    qtbot.addWidget(editor)
    editor.show_segment(seg.id, "s", (5.0, 4.0, 4.0))
    assert "hidden" in editor.prediction_label.text() and editor.history.count() == 0
    assert [s.value() for s in editor.spins] == [4.0, 4.0, 4.0]  # neutral: neither alice's values nor the model's
    editor.accept_prediction()  # the A key while blind does nothing
    assert store.labels.current_labels(segment_ids=[seg.id], annotator="newbie") == []
    editor.spins[0].setValue(6.0)
    assert editor.save()
    assert "5.00" in editor.prediction_label.text() and editor.history.count() == 2  # revealed: alice's and own


def test_jobs_dialog_works_through_a_blind_job(populated, qtbot):
    from emotrace.gui.annotation_jobs import AnnotationJobsDialog

    store, file_id, mv = populated
    create_job(store, "c", "round1", ["ann", "ben"], how="sample", n=3, overlap=1, blind=True)
    dialog = AnnotationJobsDialog(store, "c", "ann")
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 2 and dialog.segment_id is not None
    assert not dialog.open_button.isEnabled()  # the file view would show the model: not while blind
    first = dialog.segment_id
    dialog.editor.save_and_next()  # nothing set: nothing saved (issue 24), the job stays on the segment
    assert dialog.segment_id == first and dialog.table.item(0, 2).text() == "0"
    dialog.editor.set_focused_value(5.0)
    dialog.editor.save_and_next()
    assert dialog.segment_id != first and dialog.table.item(0, 2).text() == "1"


def test_the_job_workspace_is_driven_by_the_keys_of_the_main_window(populated, qtbot, qt_settings, monkeypatch):
    """Issue 24, item 4: Enter saves and goes on (it opened "New annotation job"), the digit and [ ] keys set
    the values, and the progress table cannot be typed into (typing turned "bob" into "5")."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QAbstractItemView

    from emotrace.gui.annotation_jobs import AnnotationJobsDialog, NewJobDialog

    store, file_id, mv = populated
    create_job(store, "c", "round1", ["ann", "ben"], how="sample", n=3, overlap=1, blind=True)
    opened = []
    monkeypatch.setattr(NewJobDialog, "exec", lambda self: opened.append(self) or 0)
    dialog = AnnotationJobsDialog(store, "c", "ann")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.table.setFocus()
    first = dialog.segment_id
    assert "segment " + str(first) not in dialog.status.text() and "Segment " in dialog.status.text()
    for key in (Qt.Key.Key_6, Qt.Key.Key_BracketRight, Qt.Key.Key_2, Qt.Key.Key_Return):
        qtbot.keyClick(dialog, key)
    assert not opened  # Enter is Save & next here
    [row] = [h for h in store.labels.label_history(first) if h.annotator == "ann"]
    assert (row.values, row.origins) == ((6.0, 2.0, None), ("manual", "manual", None))  # blind: no model to accept
    assert dialog.segment_id != first and dialog.editor.focused_dim == 0
    assert dialog.table.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers
    dialog.table.setCurrentCell(0, 0)
    qtbot.keyClicks(dialog.table, "5")
    assert dialog.table.item(0, 0).text() == "ann"
