"""Long work off the GUI thread: each task runs in a QThread with progress, cancel and errors shown in a panel."""

from __future__ import annotations

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

from emotrace.core.progress import Cancelled, fraction_in_file

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
    def __init__(self, task: BackgroundTask) -> None:
        super().__init__()
        self.task = task
        self.label = QLabel(task.title)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.label, 2)
        layout.addWidget(self.bar, 3)
        layout.addWidget(self.cancel_button)
        task.progressed.connect(self._progress)
        task.succeeded.connect(lambda _r: self._end("done"))
        task.failed.connect(lambda msg: self._end("failed: " + msg.splitlines()[0]))
        task.cancelled.connect(lambda: self._end("cancelled"))

    def _cancel(self) -> None:
        self.task.cancel()
        self.cancel_button.setEnabled(False)
        self.label.setText(f"{self.task.title}: cancelling...")

    def _progress(self, done: int, total: int, message: str) -> None:
        """The bar counts files, plus the share of the current one the message reports (one long file would
        otherwise sit at 0% until it is done)."""
        self.bar.setRange(0, max(total, 1) * 100)
        self.bar.setValue(min(done * 100 + int(100 * fraction_in_file(message)) if done < total else done * 100,
                              max(total, 1) * 100))
        self.label.setText(f"{self.task.title}: {message}")

    def _end(self, status: str) -> None:
        self.cancel_button.setEnabled(False)
        if status == "done":
            self.bar.setRange(0, 1)
            self.bar.setValue(1)
        self.label.setText(f"{self.task.title}: {status}")


class TasksPanel(QWidget):
    """Lists running and finished tasks; `start()` launches one and keeps a reference until it ends."""

    task_failed = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(2, 2, 2, 2)
        self.layout_.addStretch(1)
        self.tasks: list[BackgroundTask] = []

    def start(self, title: str, fn: TaskFn, on_done: Callable[[object], None] | None = None) -> BackgroundTask:
        task = BackgroundTask(title, fn, self)
        row = TaskRow(task)
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
