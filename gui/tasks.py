"""Long work off the GUI thread: each task runs in a QThread with progress, cancel and errors shown in a panel."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from emotrace.core.progress import Cancelled, Estimate, FileClock, rate_text
from emotrace.core.timecode import format_time

TaskFn = Callable[[Callable[[int, int, str], None], Callable[[], bool]], object]


class BackgroundTask(QThread):
    """Runs `fn(progress, cancel)` in a thread; the result or the error comes back as a signal."""

    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, title: str, fn: TaskFn, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.title, self.fn = title, fn
        self._cancel = False

    def cancel(self) -> None:
        self._cancel = True

    def run(self) -> None:
        try:
            result = self.fn(lambda d, t, m: self.progressed.emit(int(d), int(t), str(m)), lambda: self._cancel)
        except Cancelled:
            self.cancelled.emit()
        except Exception as exc:  # noqa: BLE001 - every error reaches the user in the app
            self.failed.emit(f"{exc}\n\n{traceback.format_exc(limit=3)}" if not str(exc) else str(exc))
        else:
            self.succeeded.emit(result)


class TaskRow(QWidget):
    """One job in the Jobs dock: its bar counts files plus the share of the current one done, its line says where
    it is inside the file, at what rate (x real time) and how long the file has left (issue 25, item 5); before
    any position (a model loading, a file's first piece) the bar is busy and the line counts the seconds, so a
    long first step never looks stuck at 0%."""

    TICK_MS = 1000  # the line's clock (time left, seconds waited) moves between messages

    def __init__(self, task: BackgroundTask, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.task = task
        self.clock = clock
        self.files = FileClock(clock)
        self.message, self.since = "", clock()  # the latest message and when it came
        self.estimate: Estimate | None = None
        self.counts = ""
        self.label = QLabel(task.title)
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.label, 2)
        layout.addWidget(self.bar, 3)
        layout.addWidget(self.cancel_button)
        self.ticker = QTimer(self, interval=self.TICK_MS, timeout=self._show)
        self.ticker.start()
        task.progressed.connect(self._progress)
        task.succeeded.connect(lambda _r: self._end("done"))
        task.failed.connect(lambda msg: self._end("failed: " + msg.splitlines()[0]))
        task.cancelled.connect(lambda: self._end("cancelled"))

    def _cancel(self) -> None:
        self.task.cancel()
        self.cancel_button.setEnabled(False)
        self.ticker.stop()
        self.label.setText(f"{self.task.title}: cancelling...")

    def _progress(self, done: int, total: int, message: str) -> None:
        """The bar counts files, plus the share of the current one the message reports (one long file would
        otherwise sit at 0% until it is done)."""
        self.estimate = self.files.update(message)
        self.message, self.since = message, self.clock()
        self.counts = f" [{done}/{total} files done]" if total > 1 and done < total else ""
        if self.estimate is None and done == 0:
            self.bar.setRange(0, 0)  # busy: nothing measured yet
        else:
            share = self.estimate.position.fraction if self.estimate is not None else 0.0
            self.bar.setRange(0, max(total, 1) * 100)
            self.bar.setValue(min(done * 100 + int(100 * share) if done < total else done * 100, max(total, 1) * 100))
        self._show()

    def _show(self) -> None:
        """The line: the message with the rate and time left (counting down between messages), or with the
        seconds since it came when it has no position."""
        if not self.message:
            return
        waited = self.clock() - self.since
        est = self.estimate
        if est is None:
            tail = f" ({format_time(waited, 0)})" if waited >= 1 else ""
        else:
            if est.eta is not None:
                est = Estimate(est.position, est.elapsed + waited, est.rate, max(est.eta - waited, 0.0))
            tail = ", " + rate_text(est) if est.rate is not None else ""
        self.label.setText(f"{self.task.title}: {self.message}{tail}{self.counts}")

    def _end(self, status: str) -> None:
        self.ticker.stop()
        self.cancel_button.setEnabled(False)
        if status == "done":
            self.bar.setRange(0, 1)
            self.bar.setValue(1)
        self.label.setText(f"{self.task.title}: {status}")


class TasksPanel(QWidget):
    """Lists running and finished tasks; `start()` launches one and keeps a reference until it ends."""

    task_failed = Signal(str, str)

    def __init__(self, parent: QWidget | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self.clock = clock  # the rows' clock for rates and time left (a test's fake one)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(2, 2, 2, 2)
        self.layout_.addStretch(1)
        self.tasks: list[BackgroundTask] = []

    def start(self, title: str, fn: TaskFn, on_done: Callable[[object], None] | None = None) -> BackgroundTask:
        task = BackgroundTask(title, fn, self)
        row = TaskRow(task, self.clock)
        self.layout_.insertWidget(0, row)
        while self.layout_.count() > 9:  # keep the last few finished rows
            item = self.layout_.takeAt(self.layout_.count() - 2)
            if item.widget() is not None:
                item.widget().deleteLater()
        if on_done is not None:
            task.succeeded.connect(on_done)
        task.failed.connect(lambda msg, t=title: self.task_failed.emit(t, msg))
        task.finished.connect(lambda j=task: self.tasks.remove(j) if j in self.tasks else None)
        self.tasks.append(task)
        task.start()
        return task

    def watch_queue(self, store, interval_ms: int = 2000) -> None:
        """A line for the store's work queue: files queued, claimed by how many live workers (on any machine),
        done and failed. One small aggregate query every two seconds; hidden while the queue is idle."""
        self.queue_label = QLabel("")
        self.queue_label.setToolTip("Work queued for `emotrace worker` processes sharing this store")
        self.queue_label.setVisible(False)
        self.layout_.addWidget(self.queue_label)
        self._queue_store = store
        self.queue_timer = QTimer(self)
        self.queue_timer.setInterval(interval_ms)
        self.queue_timer.timeout.connect(self.refresh_queue)
        self.queue_timer.start()

    def refresh_queue(self) -> None:
        try:
            c = self._queue_store.queue.queue_counts()
        except Exception as exc:  # noqa: BLE001 - a store that cannot be read now: say so, keep the app alive
            self.queue_label.setText(f"Queue: cannot read ({type(exc).__name__})")
            self.queue_label.setVisible(True)
            return
        busy = c["queued"] + c["claimed"]
        self.queue_label.setVisible(busy > 0)
        if busy:
            self.queue_label.setText(f"Queue: {c['queued']} files waiting, {c['claimed']} in work by "
                                     f"{c['workers']} workers, {c['done']} done, {c['failed']} failed")

    def running(self) -> list[BackgroundTask]:
        return [j for j in self.tasks if j.isRunning()]

    def cancel_all(self, wait_ms: int = 10000) -> None:
        for task in list(self.tasks):
            task.cancel()
            task.wait(wait_ms)
