"""Issue 25, item 5: the open file's trajectories appear while analysis streams them. Analysis stores a file's
windows piece by piece and after each emits `predictions_changed(model_version_id=V, file_id=F, partial=True)`
from its job's thread; the open file's curves grow from those events, at most one refresh per interval however
many pieces land, without re-reading the whole file."""

from __future__ import annotations

import threading

import pytest

from emotrace.core.store import PredictionRow, Store

pytestmark = pytest.mark.usefixtures("qt_settings")


def windows(n: int) -> list[PredictionRow]:
    return [PredictionRow(None, "window", float(a), float(a) + 4, (4.0, 4.5, 3.5)) for a in range(n)]


def curve_length(window, mv: int) -> int:
    return len(window.file_view.pred_lines[(mv, "arousal")].xData)


def test_the_open_files_curves_grow_as_analysis_stores_pieces(window, populated, qtbot):
    store, file_id, mv = populated
    assert curve_length(window, mv) == 57
    data = window.data
    writer = Store(store.url)  # the analysis side: its own connection, as a job's thread or a worker has
    window.stream.timer.setInterval(300)
    window.stream.poll_timer.stop()  # the events alone (the poll is for other processes, below)

    def analyse_piece(n: int, events: int = 1) -> threading.Thread:
        def work():
            writer.predictions.replace_predictions(file_id, mv, windows(n))  # the file's windows so far
            for _ in range(events):
                store.emit("predictions_changed", model_version_id=mv, file_id=file_id, partial=True)
        thread = threading.Thread(target=work)
        thread.start()
        return thread

    analyse_piece(10).join()
    qtbot.waitUntil(lambda: curve_length(window, mv) == 10, timeout=5000)
    reads = window.stream.reads
    analyse_piece(30, events=25).join()  # 25 pieces' events in a burst: one refresh
    qtbot.waitUntil(lambda: curve_length(window, mv) == 30, timeout=5000)
    qtbot.wait(700)
    assert window.stream.reads - reads == 1
    assert window.data is data  # only the curves were re-read: not the words, labels, turns and traces

    other = [m for m in range(mv + 1, mv + 3)]
    for m in other:  # a piece of another file, or by a model the view does not show: nothing is read
        store.emit("predictions_changed", model_version_id=m, file_id=file_id, partial=True)
    store.emit("predictions_changed", model_version_id=mv, file_id=file_id + 1, partial=True)
    qtbot.wait(700)
    assert window.stream.reads - reads == 1
    writer.close()


def test_a_chosen_model_takes_over_at_its_first_piece(window, populated, tmp_path, qtbot):
    """The chosen model had not analysed the open file (the view fell back to the one that had); its first
    stored piece shows it, as its finished file would."""
    from tests.helpers import new_model, settle

    store, file_id, old = populated
    new = new_model(store, tmp_path)
    window.refresh_models()
    window.model_box.setCurrentIndex(window.model_box.findData(new))
    settle(qtbot)
    assert window.shown_models == [old]
    window.stream.timer.setInterval(100)
    window.stream.poll_timer.stop()
    writer = Store(store.url)
    thread = threading.Thread(target=lambda: (  # partial rows, as analysis stores them: not yet "analysed"
        writer.predictions.add_partial_windows(file_id, new, windows(12)),
        store.emit("predictions_changed", model_version_id=new, file_id=file_id, partial=True)))
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: window.shown_models == [new], timeout=5000)
    assert curve_length(window, new) == 12
    writer.close()


def test_another_processs_pieces_show_too(window, populated, qtbot):
    """`emotrace analyze` in a terminal sends the app no event: the open file's stored windows are polled."""
    store, file_id, mv = populated
    window.stream.timer.setInterval(100)
    window.stream.watch(window.stream.target, interval_ms=200)
    other = Store(store.url)  # the CLI's store: its events reach only its own listeners
    qtbot.wait(500)  # the poll knows the file's windows as they are
    for n in (20, 35):
        other.predictions.replace_predictions(file_id, mv, windows(n))
        qtbot.waitUntil(lambda n=n: curve_length(window, mv) == n, timeout=5000)
    other.close()
