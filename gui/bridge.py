"""Carry the store's plain-callback events onto the GUI thread as a Qt signal (queued across threads)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

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
