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
