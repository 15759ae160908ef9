"""The shortcut sheet (Help > Keyboard shortcuts, F1): one table the window's key bindings are documented by."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

SHORTCUTS: list[tuple[str, str]] = [
    ("Space", "play / pause (plays the drag-selected range when the playhead is in it)"),
    ("S", "play the selected segment"),
    ("L", "loop on/off: Space and S then repeat the selection or segment"),
    ("N / Down", "next segment after the playhead"),
    ("P / Up", "previous segment before the playhead"),
    ("Home / End", "playhead to the start / end of the file"),
    ("Left / Right", "scroll the view by half its width"),
    ("+ / -", "zoom in / out about the playhead"),
    ("Z", "zoom to the drag-selected range (or the selected segment)"),
    ("0", "show the whole file"),
    ("drag on the waveform", "select a time range"),
    ("C", "make the drag-selected range a new segment"),
    ("X", "split the selected segment at the playhead"),
    ("M", "merge the selected segment with the next one"),
    ("I / O", "set the selected segment's start / end to the playhead (or drag its edges on the waveform)"),
    ("F2", "correct the word under the playhead (or double-click a word in the transcript)"),
    ("1-7", "set the focused dimension's value"),
    ("[ / ]", "previous / next dimension"),
    ("A", "accept the model's prediction (saved as accepted, kept apart from human labels)"),
    ("Enter", "save and go to the next segment (the next file after the last one)"),
    ("R", "next item of the review queue"),
    ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo a label or a segment edit (each step is new rows; nothing is erased)"),
    ("Ctrl+E", "export the corpus's labels"),
    ("F1", "this sheet"),
]


class ShortcutSheet(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("EmoTrace keyboard shortcuts")
        self.table = QTableWidget(len(SHORTCUTS), 2)
        self.table.setHorizontalHeaderLabels(["key", "action"])
        for r, (key, action) in enumerate(SHORTCUTS):
            self.table.setItem(r, 0, QTableWidgetItem(key))
            self.table.setItem(r, 1, QTableWidgetItem(action))
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Single keys act when no text field has the focus."))
        layout.addWidget(self.table)
        self.resize(640, 560)
