"""The main window's model curves (issue 12, bugs 3 and 8): a model that never analysed the open file falls back
to one that did, activating a model analyses every corpus (the open one first) and shows it without a click,
and the legend lists only models with curves in view."""

from __future__ import annotations

import pytest

from emotrace.core.store import SegmentSpec
from tests.conftest import write_audio
from tests.helpers import new_model, settle

pytestmark = pytest.mark.usefixtures("qt_settings")


def test_a_model_that_never_analysed_the_file_falls_back_to_one_that_did(window, populated, tmp_path, qtbot):
    store, _file_id, mv_id = populated
    new = new_model(store, tmp_path)
    window.refresh_models()
    window.model_box.setCurrentIndex(window.model_box.findData(new))
    settle(qtbot)
    assert window.shown_models == [mv_id]
    assert (mv_id, "arousal") in window.file_view.pred_lines
    assert window.editor.prediction == (5.0, 4.0, 4.0)  # not 4/4/4 from nothing
    assert f"v{new} has not analysed this file" in window.statusBar().currentMessage()


def test_activating_a_model_analyses_every_corpus_the_open_one_first(window, populated, tmp_path, qtbot,
                                                                     monkeypatch):
    """Activating (Models panel) analyses, in one job, every file of every corpus the model has not analysed:
    the open corpus first; the open file falls back to the old model until its turn, then shows the new one
    without a click; the other corpus shows the new model's trajectories and segment predictions."""
    import threading

    import emotrace.core.workflows.analyze as analyze_module
    from emotrace.core.store import PredictionRow
    from emotrace.core.workflows.analyze import unanalysed
    from emotrace.core.workflows.importing import import_folder
    from emotrace.training.registry import register
    from tests.conftest import tiny_ser_model

    store, file_id, old = populated
    for name, freq in (("x.wav", 300), ("y.wav", 500)):
        write_audio(tmp_path / "other" / name, 5.0, freq=freq)
    import_folder(store, tmp_path / "other", "other")
    other = store.corpora.corpus("other").id
    x, y = (f.id for f in store.corpora.files(other))
    store.segments.add_segments(x, [SegmentSpec(0.5, 4.5, "asr", "one segment")])
    new = register(store, name="new", folder=tiny_ser_model(tmp_path / "new"), parent_id=old, metrics={}, config={},
                   data_counts={}, activate=False).id
    store.predictions.replace_predictions(y, new, [PredictionRow(None, "window", 0.0, 4.0, (7.0, 7.0, 7.0))])  # done before
    assert unanalysed(store, new, first_corpus="other") == [("other", [x]), ("c", [file_id])]
    gates, analyze_corpus = {"c": threading.Event(), "other": threading.Event()}, analyze_module.analyze_corpus
    monkeypatch.setattr(analyze_module, "analyze_corpus",  # each corpus's turn waits until the test lets it go
                        lambda s, corpus, **kw: (gates[corpus].wait(30), analyze_corpus(s, corpus, **kw))[1])
    panel = window.models_panel
    panel.table.selectRow(panel.ids.index(new))
    panel.activate_selected()
    assert store.models.active_model().id == new and window.model_box.currentData() == new
    assert window.shown_models == [old] and "being analysed" in window.model_notice  # the fallback while it runs
    messages: list[str] = []
    window.catch_up[1].progressed.connect(lambda _d, _t, m: messages.append(m))
    gates["c"].set()
    qtbot.waitUntil(lambda: window.shown_models == [new], timeout=30000)  # the open file reloads once it is done,
    assert window.catch_up[1].isRunning() and not window.model_notice  # not when the whole job is
    gates["other"].set()
    qtbot.waitUntil(lambda: not window.tasks.tasks, timeout=30000)  # ended, and what it emitted handled
    assert (new, "arousal") in window.file_view.pred_lines
    assert store.predictions.predicted_files(other, new) == {x, y}
    assert store.predictions.predicted_files(store.corpora.corpus("c").id, new)
    assert store.predictions.trajectory(y, new)[1].tolist() == [[7.0, 7.0, 7.0]]  # analysed before: not analysed again
    corpora = [m.split(" (")[0] for m in messages if "corpora)" in m]
    assert corpora[0] == "c" and corpora[-1] == "other"  # the corpus on screen first, one job for both
    window.browser.corpus_box.setCurrentIndex(window.browser.corpus_box.findText("other"))
    window.browser.select_file(x)
    qtbot.waitUntil(lambda: window.data.file_id == x)
    assert window.shown_models == [new] and (new, "arousal") in window.file_view.pred_lines
    (row,) = store.predictions.segment_predictions(new, file_id=x).values()
    assert window.editor.prediction == pytest.approx(row.values)  # the new model's, not 4/4/4 from nothing


def test_the_legend_lists_only_models_with_curves_here_and_stays_off_the_data(window, populated, tmp_path, qtbot):
    store, _f, mv_id = populated
    other = new_model(store, tmp_path, "compare")
    window.refresh_models()
    window.compare_box.setCurrentIndex(window.compare_box.findData(other))
    settle(qtbot)
    fv = window.file_view
    assert fv.legend_entries == [f"v{mv_id}"]
    assert not any(mv == other for mv, _d in fv.pred_lines)
    assert all(plot.legend is None for plot in fv.plots())  # the legend is a line above the plots
