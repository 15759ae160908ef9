"""Speakers and traces in the app: the speaker lane and its corrections, and trace mode sampling on the audio
clock with committed chunks (SIGKILL loses at most a second: tests/integration/test_kill_safety.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from emotrace.core.speech.diarization import Turn
from emotrace.core.vocab import TurnSource

pytestmark = pytest.mark.usefixtures("qt_settings")


def _with_turns(window, populated):
    store, file_id, _mv = populated
    store.speakers.write_speaker_turns(file_id, [Turn(0.0, 25.0, "S1"), Turn(25.0, 60.0, "S2")], TurnSource.DIARIZATION)
    window.open_file(file_id)
    return store, file_id


def test_speaker_lane_filter_and_corrections(window, populated):
    store, file_id = _with_turns(window, populated)
    fv = window.file_view
    assert set(fv.speaker_bars) == {"S1", "S2"}
    x, _y = fv.speaker_bars["S2"].getData()
    assert list(x) == [25.0, 60.0]
    assert [window.speakers.filter.itemText(i) for i in range(window.speakers.filter.count())] == [
        "everyone", "S1", "S2"]
    window.speakers.filter.setCurrentIndex(2)  # only S2's windows
    t, a = fv.pred_lines[(window.shown_models[0], "arousal")].getData()
    assert np.isnan(a[t < 24]).all() and np.isfinite(a[t > 27]).all()
    assert "S1" in fv.values_at(10.0) and "S2" in fv.values_at(30.0)
    assert window.speakers.rename("S2", "guest")
    assert [t.speaker for t in store.speakers.speaker_turns(file_id)] == ["S1", "guest"]
    assert window.speakers.filter.itemText(2) == "guest" and set(fv.speaker_bars) == {"S1", "guest"}
    assert window.speakers.split(0, 10.0, "guest")
    assert [(t.start, t.end, t.speaker) for t in store.speakers.speaker_turns(file_id)] == [
        (0, 10, "S1"), (10, 25, "guest"), (25, 60, "guest")]
    assert window.speakers.reassign(0, "guest")
    assert window.speakers.undo() and window.speakers.undo()
    assert [t.speaker for t in store.speakers.speaker_turns(file_id)] == ["S1", "guest"]
    assert len(store.speakers.speaker_revisions(file_id)) == 6
    window.speakers.menu(30.0, fv.mapToGlobal(fv.rect().center()))
    titles = [a.text() for a in window.speakers.last_menu.actions()]
    assert any(t.startswith("Split turn 2 here") for t in titles) and any("Rename guest" in t for t in titles)


def test_trace_mode_samples_on_the_audio_clock(window, populated, qtbot):
    store, file_id, _mv = populated
    tr = window.tracing
    tr.rate_box.setValue(20)
    tr.dimension.setCurrentIndex(0)
    window.seek(5.0)
    assert tr.start()
    qtbot.keyClick(window, Qt.Key.Key_6)  # synthetic key events through Qt while the playhead runs
    qtbot.wait(1200)
    for _ in range(3):
        qtbot.keyClick(window, Qt.Key.Key_Up)
    qtbot.wait(1300)
    position = window.player.position()
    tr.stop()
    passes = store.traces.trace_passes(file_id, "tester", "arousal")
    assert len(passes) == 1 and passes[0].rate == 20
    t, v = store.traces.current_trace(file_id, "tester", "arousal")
    assert np.allclose(t * 20, np.round(t * 20), atol=1e-6)  # on the audio grid
    assert t[0] == pytest.approx(5.0, abs=0.051) and abs(t[-1] - position) <= 0.1
    expected = (t[-1] - t[0]) * 20 + 1
    assert abs(len(t) - expected) <= 0.02 * expected
    assert v.max() == pytest.approx(6.75) and 6.0 in set(np.round(v, 2))
    assert ("tester", "arousal") in window.data.traces and ("tester", "arousal") in window.file_view.trace_lines


def test_rewinding_starts_a_new_pass_and_it_wins(window, populated, qtbot):
    store, file_id, _mv = populated
    tr = window.tracing
    window.seek(10.0)
    tr.start()
    tr.set_value(2.0)
    qtbot.wait(1500)
    window.seek(10.0)  # rewind while tracing
    tr.set_value(6.0)
    qtbot.wait(800)
    tr.stop()
    passes = store.traces.trace_passes(file_id, "tester", "arousal")
    assert [p.pass_no for p in passes] == [1, 2]
    t, v = store.traces.current_trace(file_id, "tester", "arousal")
    assert np.allclose(v[(t > 10.05) & (t < 10.5)], 6.0) and (v == 2.0).any()  # pass 2 won where it re-traced


def test_jobs_panel_shows_the_queue_across_workers(window, populated):
    store, file_id, _mv = populated
    batch = store.jobs.start_job("transcribe-queue", {})
    store.queue.enqueue(batch, "transcribe", [file_id])
    window.tasks.refresh_queue()
    assert window.tasks.queue_label.isVisibleTo(window.tasks)
    assert "1 files waiting, 0 in work" in window.tasks.queue_label.text()
    claim = store.queue.claim("elsewhere:1", ["transcribe"])
    window.tasks.refresh_queue()
    assert "1 in work by 1 workers" in window.tasks.queue_label.text()
    store.queue.finish(claim.id, "elsewhere:1")
    window.tasks.refresh_queue()
    assert not window.tasks.queue_label.isVisibleTo(window.tasks)


def test_trace_review_and_agreement_in_the_app(window, populated):
    store, file_id, mv = populated
    t = np.arange(0, 57, 0.1)
    for who, shift in (("ann", 0.0), ("bob", 1.0)):
        tid = store.traces.start_trace(file_id, annotator=who, dimension="arousal", rate=10)
        store.traces.append_trace(tid, t, 4 + np.sin((t - shift) / 5))
    tid = store.traces.start_trace(file_id, annotator="ann", dimension="arousal", rate=10)
    store.traces.append_trace(tid, np.arange(30, 40, 0.1), np.full(100, 7.0))  # ann re-traces 30-40 s far off the model
    window.review.mode.setCurrentIndex(1)
    first = window.review.items[0]
    assert (first.annotator, first.start) == ("ann", 30.0) and first.model_gap > 2.0
    window.review.next()
    assert window.data.file_id == file_id and abs(window.view_state.playhead - 30.0) < 0.05
    window.tracing.show_agreement()
    rows = window.tracing.agreement_rows
    pair = next(r for r in rows if r["file"] != "(corpus)" and (r["reference"], r["other"]) == ("ann", "bob"))
    assert pair["n"] > 100 and any(r["file"] == "(corpus)" for r in rows)
    assert window.tracing.agreement_dialog.isVisible()


def test_blind_annotator_sees_no_model_or_labels_until_their_own(window, populated):
    store, file_id, _mv = populated
    store.raters.set_blind("tester", True)
    window.open_file(file_id)
    fv = window.file_view
    _t, a = fv.pred_lines[(window.shown_models[0], "arousal")].getData()
    assert np.isnan(a).all()  # the model's trajectory is hidden
    assert len(fv.label_bars["arousal"].getData()[0] or []) == 0  # alice's and bob's labels too
    assert "blind" in fv.values_at(5.0)
    window.select_segment(0)
    window.editor.spins[0].setValue(6.0)
    window.editor.save()
    t, a = fv.pred_lines[(window.shown_models[0], "arousal")].getData()
    seg0 = window.data.seg_bounds[0]
    # half-open, as segments are: 10.0 s is the next segment's, still blind
    assert np.isfinite(a[(t >= seg0[0]) & (t < seg0[1])]).all() and np.isnan(a[t > 45]).all()
    x, _y = fv.label_bars["arousal"].getData()
    assert list(x) == [float(seg0[0]), float(seg0[1])]
    store.raters.set_blind("tester", False)
    window.open_file(file_id)
    assert not fv.sight.blind and np.isfinite(fv.pred_lines[(window.shown_models[0], "arousal")].getData()[1]).any()
