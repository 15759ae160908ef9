"""Issue 24, item 8: layout at 1024x700, boundary lines on a whole-file view, the file list following other
processes and this app's saves, and a legible, linked Annotators dock."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication

from emotrace.core.store import SegmentSpec, Store
from emotrace.core.vocab import SegmentOrigin
from emotrace.core.workflows.importing import import_folder
from tests.conftest import write_audio


def _settle(qtbot, ms: int = 300) -> None:
    QApplication.processEvents()
    qtbot.wait(ms)


def test_at_1024x700_nothing_overlaps_and_the_avd_column_shows(window, qtbot):
    w = window
    w.resize(1024, 700)
    _settle(qtbot)
    assert w.docks["Jobs"].height() <= 0.2 * w.height()  # the idle Jobs strip leaves the lanes their height
    assert w.width() == 1024  # the least widths of the docks and the bar no longer push the window wider
    assert w.centralWidget().width() >= 0.4 * w.width(), w.centralWidget().width()  # was 340 px: the docks leave room
    t = w.transport
    shown = [x for x in (t.play_button, t.time_label, t.view_label, t.loop, t.speed, t.follow) if x.isVisible()]
    for a, b in zip(shown, shown[1:]):  # left to right, none drawn over the next
        assert a.geometry().right() < b.geometry().left(), (a, b)
    assert shown[-1].geometry().right() <= t.width()
    for dim, plot in w.file_view.lanes.items():  # each lane title fits its lane's height
        axis = plot.getAxis("left")
        width = QFontMetrics(axis.label.font()).horizontalAdvance(axis.labelText)
        assert width <= plot.getViewBox().height() + 8, (dim, axis.labelText, plot.getViewBox().height())
    table = w.browser.table
    avd = 4  # file, len, segs, ASR, A/V/D
    assert table.columnViewportPosition(avd) + table.columnWidth(avd) <= table.viewport().width()


def test_a_whole_file_of_many_segments_is_not_covered_by_boundary_lines(window, qtbot, populated):
    store, file_id, _mv = populated
    w = window
    store.segments.add_segments(file_id, [SegmentSpec(40.0 + i * 0.1, 40.05 + i * 0.1, SegmentOrigin.MANUAL)
                                          for i in range(189)])
    w.resize(1600, 1000)
    w.reload_file()
    _settle(qtbot)
    w.file_view.setFocus()
    qtbot.keyClick(w.file_view, Qt.Key.Key_0)  # the whole file: 192 segments over about 1000 pixels
    _settle(qtbot, 100)
    assert w.file_view.traj.getViewBox().width() > 4 * 192  # wide enough that the old 4-pixel rule drew them all
    assert not w.file_view.boundaries["arousal"].isVisible()
    w.view_state.set_view(0.0, 20.0)  # zoomed in on three segments: their boundaries show
    _settle(qtbot, 100)
    assert w.file_view.boundaries["arousal"].isVisible()


def test_a_corpus_imported_by_another_process_appears_and_counts_follow_saves(window, qtbot, populated, tmp_path):
    store, file_id, _mv = populated
    w = window
    other = Store(store.url)  # another process's store: this app hears no event from it
    try:
        write_audio(tmp_path / "cli" / "new.wav", 2.0)
        import_folder(other, tmp_path / "cli", "from-cli")
    finally:
        other.close()
    qtbot.waitUntil(lambda: w.browser.corpus_box.findText("from-cli") >= 0, timeout=8000)
    assert w.data is not None and w.data.file_id == file_id  # the open file stays open

    def labelled() -> str:
        return w.browser.proxy.index(w.browser.table.currentIndex().row(), 5).data()

    before = int(labelled())
    w.select_segment(2)  # 30-40 s, labelled by bob only: tester's label adds no segment; pick an unlabelled one
    w.view_state.set_view(20.0, 30.0)
    w.file_view.show_time_selection((21.0, 29.0))
    qtbot.keyClick(w.file_view, Qt.Key.Key_C)
    qtbot.keyClick(w, Qt.Key.Key_5)  # a value set (Enter on untouched dimensions saves nothing, issue 24)
    qtbot.keyClick(w, Qt.Key.Key_Return)  # save the new segment's label
    qtbot.waitUntil(lambda: int(labelled()) == before + 1, timeout=5000)


def test_the_annotators_dock_is_legible_linked_and_has_a_legend(window, qtbot, populated):
    w = window
    _settle(qtbot)  # the window is up; then the user raises the Annotators tab
    w.docks["Annotators"].raise_()
    _settle(qtbot)
    lanes = w.annotator_lanes
    assert lanes.layout_widget.height() >= 150  # was 82: a squashed model line over unreadable lanes
    assert "consensus" in lanes.legend.text() and "7 high" in lanes.legend.text()
    w.view_state.set_view(10.0, 25.0)  # zoom in the file view: the lanes follow
    lo, hi = lanes.lanes_plot.viewRange()[0]
    assert abs(lo - 10.0) < 0.01 and abs(hi - 25.0) < 0.01
    lanes.lanes_plot.setXRange(30.0, 40.0, padding=0)  # and a pan in the dock moves the file view
    assert abs(w.view_state.view[0] - 30.0) < 0.01
