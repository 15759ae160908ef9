"""Trajectories that grow while analysis runs (issue 25, item 5): analysis stores a file's windows piece by piece
and after each piece emits `predictions_changed(model_version_id=V, file_id=F, partial=True)`; the open file's
curves follow, without re-reading the whole file (its words, labels, turns, traces) per piece.

Cheap by construction: the main window passes on only the events that name the open file and a model it shows
or was asked to show; events are coalesced for `interval_ms` (at most one refresh per interval, however many
pieces land); the two small queries (window centres and values, window trust) run on a worker thread, so the GUI
thread only redraws the curves. The store's events may come from a job's thread: the window hears them through
its `StoreBridge`, already on the GUI thread. Another process's analysis (`emotrace analyze`, a worker) sends no
event here: the open file's stored windows are polled instead (`watch`: one index-only count every 3 s, off the
GUI thread), and a mark that moved is read the same way."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from emotrace.core.store import Store

REFRESH_MS = 1500  # at most one refresh of the open file's curves per 1.5 s while analysis streams
POLL_MS = 3000  # how often the open file's stored windows are checked for what other processes add (the CLI's)


class TrajectoryStream(QObject):
    """Coalesce partial-prediction events and read the named trajectories off the GUI thread; `arrived` brings
    each one back on the GUI thread: (file id, model version id, (centres [N], values [N, 3], trust [N, 3]))."""

    arrived = Signal(int, int, object)
    _read_done = Signal()
    _marks_read = Signal(object)

    def __init__(self, store: Store, parent: QObject | None = None, interval_ms: int = REFRESH_MS) -> None:
        super().__init__(parent)
        self.store = store
        self.wanted: set[tuple[int, int]] = set()
        self.reading = False
        self.reads = 0  # trajectories read so far (what the throttle saves shows in it)
        self.timer = QTimer(self, singleShot=True, interval=interval_ms, timeout=self._read)
        self._read_done.connect(self._after_read)
        # another process (`emotrace analyze`, a worker) sends this one no event: its pieces are noticed by polling
        self.target: Callable[[], list[tuple[int, int]]] = list
        self.marks: dict[tuple[int, int], tuple] = {}
        self.polling = False
        self.poll_timer = QTimer(self, interval=POLL_MS, timeout=self._poll)
        self._marks_read.connect(self._compare_marks)
        self.arrived.connect(self._known)

    def watch(self, target: Callable[[], list[tuple[int, int]]], interval_ms: int = POLL_MS) -> None:
        """Poll the stored windows of the (file, model) pairs `target()` names (the open file and the models it
        shows) every `interval_ms`, on a worker thread: one index-only count per pair."""
        self.target = target
        self.poll_timer.start(interval_ms)

    def note(self, file_id: int, model_version_id: int) -> None:
        """A piece of this file's predictions by this model was stored (GUI thread)."""
        self.wanted.add((int(file_id), int(model_version_id)))
        if not self.timer.isActive() and not self.reading:
            self.timer.start()

    def _read(self) -> None:
        pending, self.wanted = sorted(self.wanted), set()
        if not pending:
            return
        self.reading = True
        threading.Thread(target=self._work, args=(pending,), name="trajectory-stream", daemon=True).start()

    def _work(self, pending: list[tuple[int, int]]) -> None:
        try:
            for file_id, mv in pending:
                try:
                    t, values = self.store.predictions.trajectory(file_id, mv)
                    trust = self.store.predictions.window_trust(file_id, mv)
                except Exception:  # noqa: BLE001 - a store busy or gone now: the file's final event redraws it
                    continue
                self.reads += 1
                self._emit(self.arrived, file_id, mv, (t, values, trust))
        finally:
            self._emit(self._read_done)

    @staticmethod
    def _emit(signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the window closed while the thread read: nobody is left to tell
            pass

    def _after_read(self) -> None:
        self.reading = False
        if self.wanted:  # pieces landed while reading: the next refresh waits a whole interval
            self.timer.start()

    def _poll(self) -> None:
        pairs = self.target()
        if self.polling or not pairs:
            return
        self.polling = True
        threading.Thread(target=self._read_marks, args=(pairs,), name="trajectory-marks", daemon=True).start()

    def _read_marks(self, pairs: list[tuple[int, int]]) -> None:
        marks = {}
        try:
            for pair in pairs:
                marks[pair] = self.store.predictions.window_mark(*pair)
        except Exception:  # noqa: BLE001 - a store busy or gone now: the next tick tries again
            pass
        self._emit(self._marks_read, marks)

    def _known(self, file_id: int, mv: int, read: tuple) -> None:
        """What was just read is what the poll would see: it is not read again."""
        trust = read[2]
        if (file_id, mv) in self.marks:
            self.marks[(file_id, mv)] = (len(trust), float(trust[:, 0].max()) if len(trust) else None)

    def _compare_marks(self, marks: dict) -> None:
        """A pair seen before whose mark moved: its trajectory is read (through the same throttle)."""
        self.polling = False
        for pair, mark in marks.items():
            if pair in self.marks and self.marks[pair] != mark:
                self.note(*pair)
        self.marks = marks
