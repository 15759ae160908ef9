"""Carry the store's plain-callback events onto the GUI thread as a Qt signal (queued across threads), and notice
what other processes (the CLI, workers) did to the store, which sends this process no event."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from emotrace.core.store import Store


class StoreBridge(QObject):
    changed = Signal(str, dict)

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._unsubscribe = store.subscribe(lambda what, info: self.changed.emit(what, dict(info)))
        self.destroyed.connect(self._unsubscribe)  # a bridge gone with its widget never hears the store again

    def close(self) -> None:
        self._unsubscribe()


class ActivityWatch(QObject):
    """Polls the store's job activity (`store.jobs.activity()`, one small query) and emits `changed` when another
    process imported, transcribed or analysed something: a corpus imported by the CLI appears, counts refresh."""

    changed = Signal()

    def __init__(self, store: Store, interval_ms: int = 3000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.last = self._read()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.poll)
        self.timer.start(interval_ms)

    def _read(self):
        try:
            return self.store.jobs.activity()
        except Exception:  # noqa: BLE001 - a store that cannot be read now: try again at the next tick
            return None

    def poll(self) -> None:
        now = self._read()
        if now is not None and now != self.last:
            self.last = now
            self.changed.emit()
