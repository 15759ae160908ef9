"""A working session in the main window (offscreen): issue 12's bugs and the features researchers expect, each on
the real window (bugs 3 and 8, the model curves: test_model_curves.py; bug 9: tests/unit/test_audio.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QDialog

from emotrace.core.store import SegmentSpec
from tests.conftest import write_audio
from tests.helpers import settle

pytestmark = pytest.mark.usefixtures("qt_settings")


# 1 -------------------------------------------------------------------------------------------------
def test_lanes_show_the_whole_view_from_its_start(window, qtbot):
    """Linked plots align by pixel: every left axis has one width, so no lane hides the start of the view."""
    fv = window.file_view
    window.view_state.set_view(0.0, 50.0)
    settle(qtbot)
    widths = {round(p.getAxis("left").width()) for p in fv.plots()}
    assert len(widths) == 1
    lefts = {round(p.getViewBox().sceneBoundingRect().left()) for p in (fv.detail, *fv.lanes.values())}
    assert len(lefts) == 1
    for plot in (fv.detail, *fv.lanes.values()):
        lo, hi = plot.viewRange()[0]
        assert lo == pytest.approx(0.0, abs=0.05) and hi == pytest.approx(50.0, abs=0.05)


# 2 -------------------------------------------------------------------------------------------------
def test_drag_handles_follow_keys_undo_and_redo_and_do_not_look_like_labels(window, qtbot):
    fv = window.file_view
    window.select_segment(None)  # handles hidden while the values change, then shown: labels still right
    window.select_segment(0)
    assert fv.handles[0].label.textItem.toPlainText() == f"drag {window.editor.spins[0].value():.2f}"
    spins = window.editor.spins
    for spin, value in zip(spins, (6.0, 3.0, 5.0)):
        spin.setValue(value)
    assert [h.value() for h in fv.handles] == [6.0, 3.0, 5.0]
    assert fv.handles[0].label.textItem.toPlainText() == "drag 6.00"  # its written value follows too
    window.editor.save()
    window.act_undo.trigger()
    assert [h.value() for h in fv.handles] == [s.value() for s in spins] != [6.0, 3.0, 5.0]
    window.act_redo.trigger()
    assert [h.value() for h in fv.handles] == [6.0, 3.0, 5.0]
    handle_pen, bar_pen = fv.handles[0].pen, fv.label_bars["arousal"].opts["pen"]
    assert handle_pen.width() < bar_pen.width() and handle_pen.color() != bar_pen.color()
    assert handle_pen.style() != bar_pen.style()


# 3: tests/gui/test_model_curves.py


# 4 -------------------------------------------------------------------------------------------------
def test_settings_show_the_store_in_use(qtbot, populated, monkeypatch):
    from emotrace.gui import main_window as mw
    from emotrace.gui.settings import AppSettings

    store, _f, _mv = populated
    w = mw.MainWindow(store, AppSettings(db_url="sqlite:////somewhere/else.sqlite", annotator="t"))
    qtbot.addWidget(w)
    shown = []

    def fake_exec(dialog):
        shown.append(dialog.store_in_use.text())
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(mw.SettingsDialog, "exec", fake_exec)
    w.edit_settings()
    assert shown == [store.url]


# 5 -------------------------------------------------------------------------------------------------
def test_save_and_next_moves_to_the_next_file_after_the_last_segment(window, populated, tmp_path, qtbot):
    from emotrace.core.workflows.importing import import_folder

    store, file_id, _mv = populated
    write_audio(tmp_path / "c" / "zz.wav", 5.0)
    import_folder(store, tmp_path / "c", "c")
    other = next(f.id for f in store.corpora.files(store.corpora.corpus("c").id) if f.path.endswith("zz.wav"))
    store.segments.add_segments(other, [SegmentSpec(0.5, 4.5, "asr", "one segment")])
    window.browser.reload_files()
    window.select_segment(2)
    window.player.seek(30.0)
    window.editor.save_and_next()
    qtbot.waitUntil(lambda: window.data.file_id == other)
    assert window.segment_index == 0 and window.editor.segment_id is not None


# 6 -------------------------------------------------------------------------------------------------
def test_n_and_p_step_from_the_playhead_and_a_seek_moves_everything(window, populated, qtbot):
    store, _f, _mv = populated
    window.seek(25.0)  # in the gap between segments 2 (10-20) and 3 (30-40)
    window.next_segment()
    assert window.segment_index == 2
    window.seek(15.0)
    assert window.segment_index == 1  # a seek selects the segment under the playhead
    window.previous_segment()
    assert window.segment_index == 1 and window.view_state.playhead == pytest.approx(10.0)
    window.transcript.anchorClicked.emit(QUrl("w:16"))  # word 16 starts at 32.1 s, in segment 3
    assert window.segment_index == 2
    assert window.editor.segment_id == int(window.data.seg_ids[2])
    window.seek(0.0)
    lo, hi = window.file_view.view_range()
    assert lo <= 0.0 < hi
    window.seek(60.0)  # End: the detail view and the lanes follow, not only the overview
    settle(qtbot)
    lo, hi = window.file_view.view_range()
    assert lo <= 60.0 <= hi + 1e-6
    assert window.file_view.lanes["valence"].viewRange()[0][1] == pytest.approx(hi, abs=0.01)


# 7 -------------------------------------------------------------------------------------------------
def test_a_long_transcript_does_not_widen_the_right_dock(window, qtbot):
    dock = window.docks["Label"]
    settle(qtbot)
    before = dock.width()
    window.data.seg_texts[1] = " ".join(["unusually long transcript"] * 200)
    window.select_segment(1)
    settle(qtbot, 60)
    assert abs(dock.width() - before) <= 2
    assert window.editor.text.toolTip().startswith("unusually")


# 8: tests/gui/test_model_curves.py


# 9: tests/unit/test_audio.py (import errors)


# 10 ------------------------------------------------------------------------------------------------
def test_the_time_axis_reads_h_mm_ss_at_every_zoom(window, qtbot):
    axis = window.file_view.lanes["dominance"].getAxis("bottom")
    window.view_state.set_view(0.0, 60.0)
    settle(qtbot)
    assert "ks" not in axis.labelString() and axis.autoSIPrefixScale == 1.0
    assert axis.tickStrings([3600.0, 7200.0], 1.0, 3600.0) == ["1:00:00", "2:00:00"]
    assert axis.tickStrings([61.5], 1.0, 0.5) == ["1:01.5"]
    overview_axis = window.file_view.overview.getAxis("bottom")
    assert overview_axis.tickStrings([1200.0], 1.0, 600.0) == ["20:00"]
    lanes_axis = window.annotator_lanes.lanes_plot.getAxis("bottom")  # the Annotators dock too: everywhere
    assert lanes_axis.tickStrings([1200.0], 1.0, 600.0) == ["20:00"] and "h:mm:ss" in lanes_axis.labelString()


# features ------------------------------------------------------------------------------------------
def test_transport_bar_shows_time_speed_and_loops_a_selection(window, qtbot):
    tb = window.transport
    window.seek(75.0 / 2)
    assert tb.time_label.text().startswith("0:37.500 / 1:00.000")
    tb.speed.setCurrentIndex(tb.speed.findData(2.0))
    assert window.player.rate == 2.0
    window.file_view.show_time_selection((1.0, 1.4))
    tb.loop.setChecked(True)
    window.seek(1.0)
    window.toggle_play()
    qtbot.wait(900)  # at 2x, 0.9 s is 1.8 s of audio: past the end of the selection at least four times
    assert window.player.playing and 1.0 <= window.player.position() <= 1.5
    assert "Pause" in tb.play_button.text()
    window.toggle_play()
    assert not window.player.playing


def test_zoom_to_selection_scrollbar_and_whole_file(window, qtbot):
    window.file_view.show_time_selection((12.0, 14.0))
    window.zoom_to_selection()
    lo, hi = window.view_state.view
    assert lo == pytest.approx(11.9) and hi == pytest.approx(14.1)
    window.file_view.scrollbar.setValue(200)  # 20 s
    assert window.view_state.view[0] == pytest.approx(20.0)
    window.view_state.set_view(0, 1e9)
    assert window.view_state.view == (0.0, 60.0)


def test_view_follows_playback(window, qtbot):
    window.view_state.set_view(0.0, 10.0)
    window.player.seek(9.9)
    window.player.play()
    qtbot.waitUntil(lambda: window.view_state.playhead > 10.2, timeout=3000)
    window.player.pause()
    lo, hi = window.file_view.view_range()
    assert lo <= window.view_state.playhead <= hi and hi - lo == pytest.approx(10.0, abs=0.01)


def test_hover_values_and_status_after_save_and_undo(window, qtbot):
    text = window.file_view.values_at(15.0)
    mv = window.shown_models[0]
    assert text.startswith("0:15.00") and f"v{mv}: A " in text and "Segment 2/3: A 6.00" in text
    window.select_segment(0)
    window.editor.spins[0].setValue(2.0)
    window.editor.save()
    assert window.statusBar().currentMessage().startswith("Saved label for Segment 1/")
    window.act_undo.trigger()
    assert window.statusBar().currentMessage().startswith("Undone: label #")


def test_okabe_ito_colours_stay_apart_for_deuteranopes(window):
    from emotrace.gui.file_view import DIM_COLOURS

    def deuteranope(hex_colour: str) -> np.ndarray:  # Machado et al. (2009), severity 1.0, on linear RGB
        rgb = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
        m = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                      [-0.011820, 0.042940, 0.968881]])
        return np.clip(m @ rgb, 0, 1)

    seen = [deuteranope(c) for c in DIM_COLOURS.values()]
    gaps = [np.abs(a - b).sum() for i, a in enumerate(seen) for b in seen[i + 1:]]
    assert min(gaps) > 0.3  # the old red arousal and green dominance were 0.13 apart


def test_export_labels(window, tmp_path, qtbot):
    """(The help sheet against the keymap and the keys against the window: tests/test_gui_keymap.py.)"""
    out = tmp_path / "labels.csv"
    assert window.export_labels(str(out), msp=False) == 3
    assert out.read_text().count("\n") >= 4
    assert "Exported 3 rows" in window.statusBar().currentMessage()


def test_annotator_is_asked_once_not_taken_from_the_os(qt_settings, monkeypatch):
    from emotrace.gui import settings as st

    s = st.AppSettings.load()
    assert s.annotator == ""
    asked = []
    monkeypatch.setattr(st.QInputDialog, "getText", lambda *a, **k: (asked.append(1), ("maria", True))[1])
    assert st.ask_annotator(s)
    assert st.AppSettings.load().annotator == "maria"
    assert st.ask_annotator(st.AppSettings.load()) and asked == [1]


def test_a_selected_range_becomes_a_segment(window, populated, qtbot):
    store, file_id, _mv = populated
    assert window.create_segment() is None  # nothing selected: says so, writes nothing
    window.file_view.show_time_selection((22.0, 27.5))
    sid = window.create_segment()
    assert sid in [s.id for s in store.segments.segments(file_id)] and len(window.data.seg_ids) == 4
    assert window.segment_index == 2 and window.editor.segment_id == sid
    bx, _ = window.file_view.boundaries["arousal"].getData()
    assert 22.0 in bx and 27.5 in bx


def test_no_label_is_saved_without_an_annotator_name(window, populated, monkeypatch):
    store, file_id, _mv = populated
    errors = []
    monkeypatch.setattr("emotrace.gui.main_window.QMessageBox.critical", lambda _p, _t, msg: errors.append(msg))
    window.editor.annotator = ""
    before = sum(len(store.labels.label_history(int(s))) for s in window.data.seg_ids)
    window.select_segment(0)
    assert not window.editor.save()
    assert sum(len(store.labels.label_history(int(s))) for s in window.data.seg_ids) == before
    assert errors and "annotator name" in errors[0]
