"""The keymap on the Qt side: key bindings made from `gui.state.keymap` and the sheet that shows it (Help >
Keyboard shortcuts, F1). No key is spelled here or in the widgets: each binding names a keymap action."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from emotrace.gui.state import keymap

KEYMAP_ID = "keymap_id"  # the Qt property naming the keymap action a QAction or QShortcut was made for


def key_sequences(action_id: str) -> list[QKeySequence]:
    return [QKeySequence(k) for k in keymap.keys(action_id)]


def assign(action: QAction, action_id: str) -> QAction:
    """Give a menu or toolbar action the keys the keymap lists for `action_id`."""
    action.setShortcuts(key_sequences(action_id))
    action.setProperty(KEYMAP_ID, action_id)
    return action


def bind(window: QWidget, action_id: str, handler: Callable, *, unless: Callable[[], bool] = lambda: False,
         with_key: bool = False) -> list[QShortcut]:
    """One window-wide QShortcut per key of `action_id`, calling `handler()` (`handler(key)` with `with_key`)
    unless `unless()` says the keys must stand aside (the user types in a text field)."""
    shortcuts = []
    for key in keymap.keys(action_id):
        shortcut = QShortcut(QKeySequence(key), window)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.setProperty(KEYMAP_ID, action_id)
        call = partial(handler, key) if with_key else handler
        shortcut.activated.connect(lambda call=call: None if unless() else call())
        shortcuts.append(shortcut)
    return shortcuts


class ShortcutSheet(QDialog):
    """Every keymap action (and the mouse gestures) by section, drawn from `gui.state.keymap`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("EmoTrace keyboard shortcuts")
        rows = keymap.rows()
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["section", "key", "action"])
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(keymap.NOTE))
        layout.addWidget(self.table)
        self.resize(760, 640)

    def shown_rows(self) -> list[tuple[str, ...]]:
        """What the sheet shows, row by row (for tests and scripts)."""
        return [tuple(self.table.item(r, c).text() for c in range(self.table.columnCount()))
                for r in range(self.table.rowCount())]
