"""Every view obeys the one blind rule (issue 24, item 2), and switching annotator in Settings applies at once,
not after the file is re-opened. The rule itself, over the whole matrix: tests/unit/test_blind_rule.py."""

from __future__ import annotations

import re

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from emotrace.core.workflows.annotation_jobs import assign


def _switch_annotator(window, qtbot, name: str) -> None:
    """File > Settings, type another annotator name, OK: as a user does."""
    from emotrace.gui.settings import SettingsDialog

    def fill() -> None:
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, SettingsDialog) and w.isVisible())
        dialog.annotator.setText(name)
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()

    QTimer.singleShot(200, fill)
    window.edit_settings()


def _model_at(window, lo: float, hi: float) -> np.ndarray:
    t, a = window.file_view.pred_lines[(window.shown_models[0], "arousal")].getData()
    return a[(t >= lo) & (t < hi)]


def test_switching_to_a_blind_annotator_hides_their_job_at_once_in_every_view(window, qtbot, populated,
                                                                              monkeypatch, tmp_path):
    store, file_id, _mv = populated
    monkeypatch.setenv("EMOTRACE_HOME", str(tmp_path / "home"))  # Settings save their ini here, not at home
    corpus_id = store.corpora.corpus("c").id
    seg0, _seg1, seg2 = (s.id for s in store.segments.segments(file_id))  # 0-10 alice, 10-20 alice, 30-40 bob
    store.assignments.create_annotation_job(corpus_id, "j", assign([seg0, seg2], ["carol"], 1), blind=True,
                                            overlap=1, selection={})
    w = window
    w.open_file(file_id)
    w.docks["Annotators"].raise_()
    assert np.isfinite(_model_at(w, 0, 10)).all()  # tester is not blind: everything shows
    assert {lane.annotator for lane in w.annotator_lanes.lanes} == {"alice", "bob"}

    _switch_annotator(w, qtbot, "carol")
    assert w.editor.annotator == "carol"
    # the file view: no model inside carol's job segments, the model between them (the job hides only its own)
    assert np.isnan(_model_at(w, 0, 10)).all() and np.isnan(_model_at(w, 30, 40)).all()
    assert np.isfinite(_model_at(w, 10, 20)).all() and np.isfinite(_model_at(w, 20, 30)).all()
    bars = w.file_view.label_bars["arousal"].getData()[0]
    assert list(bars) == [10.0, 20.0]  # alice's 0-10 and bob's 30-40 bars are gone, alice's 10-20 stays
    assert "blind" in w.file_view.values_at(5.0) and not re.search(r"v\d+: A", w.file_view.values_at(5.0))
    assert re.search(r"v\d+: A", w.file_view.values_at(25.0))  # hover between segments shows the model
    # the Annotators dock: only alice's segment outside the job; the model line hidden inside the job
    assert [(lane.annotator, [s[:2] for s in lane.spans]) for lane in w.annotator_lanes.lanes] == [
        ("alice", [(10.0, 20.0)])]
    lanes_t, lanes_a = w.annotator_lanes.model_times, w.annotator_lanes.model_values
    assert np.isnan(lanes_a[lanes_t < 10]).all() and np.isfinite(lanes_a[(lanes_t >= 10) & (lanes_t < 30)]).all()
    # the editor on segment 0 (selected when the file opened): model and others hidden
    w.select_segment(0)
    assert "hidden" in w.editor.prediction_label.text() and w.editor.history.count() == 0
    # the review queue leaves carol's blind segments out; exports from the app refuse
    assert {it.segment_id for it in w.review.items} <= {_seg1}
    w.show_export()
    assert not w.export_dialog.ok_button.isEnabled() and "blind" in w.export_dialog.result.text()
    w.export_dialog.close()

    # carol labels segment 0: it is revealed at once; switching back to tester shows everything again
    w.editor.spins[0].setValue(6.0)
    w.editor.save()
    assert np.isfinite(_model_at(w, 0, 10)).all() and np.isnan(_model_at(w, 30, 40)).all()
    _switch_annotator(w, qtbot, "tester")
    assert np.isfinite(_model_at(w, 30, 40)).all()
    assert {lane.annotator for lane in w.annotator_lanes.lanes} == {"alice", "bob", "carol"}
