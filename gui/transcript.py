"""The transcript: every word a link; the word under the playhead is highlighted without re-rendering."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextBrowser, QTextEdit

from emotrace.gui.state import keymap
from emotrace.gui.state.view_state import TimeState
from emotrace.gui.state.viewdata import FileData


class TranscriptView(QTextBrowser):
    seek_requested = Signal(float)
    word_activated = Signal(int)  # a double-clicked word's index: correct it

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._clicked)
        self.positions: list[tuple[int, int]] = []
        self.data: FileData | None = None
        self.current: int | None = None
        self.setPlaceholderText("No words yet: transcribe the corpus to see them here.")
        self.setToolTip(f"Click a word to go there; double-click (or {keymap.key_text('correct_word')} at the "
                        "playhead) to correct it")

    def show_file(self, data: FileData) -> None:
        self.data, self.current = data, None
        self.clear()
        self.positions = []
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()  # one layout at the end, not one per word (21,600 words: 3.2 s word by word)
        plain = QTextCharFormat()
        last_seg = None
        for i, text in enumerate(data.word_texts):
            seg = data.segment_at(float(data.word_starts[i]))
            if last_seg is not None and seg != last_seg:
                cursor.insertText("\n\n", plain)
            last_seg = seg
            fmt = _word_format(i)
            word = text.strip()
            if cursor.position() > 0 and not text.startswith(("'", ",", ".")):
                cursor.insertText(" ", plain)
            start = cursor.position()
            cursor.insertText(word, fmt)
            self.positions.append((start, cursor.position()))
        cursor.endEditBlock()
        self.moveCursor(QTextCursor.MoveOperation.Start)

    def replace_word(self, data: FileData, index: int) -> None:
        """One corrected word's text, in place (a full layout of a 3-hour transcript takes half a second); the
        words after it move by the change in length. A word whose times moved may change places: show_file."""
        start, end = self.positions[index]
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        word = data.word_texts[index].strip()
        cursor.insertText(word, _word_format(index))
        delta = len(word) - (end - start)
        self.positions[index] = (start, start + len(word))
        self.positions[index + 1:] = [(a + delta, b + delta) for a, b in self.positions[index + 1:]]
        self.data, self.current = data, None

    def show_time(self, state: TimeState) -> None:
        """The TimeView protocol: the word under the playhead is highlighted."""
        self.follow(state.playhead)

    def follow(self, seconds: float) -> None:
        if self.data is None or not self.positions:
            return
        i = self.data.word_at(seconds)
        if i is None or i == self.current:
            return
        self.current = i
        start, end = self.positions[i]
        sel = QTextEdit.ExtraSelection()
        sel.cursor = QTextCursor(self.document())
        sel.cursor.setPosition(start)
        sel.cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        sel.format.setBackground(QColor("#f9e79f"))
        self.setExtraSelections([sel])
        self.setTextCursor(QTextCursor(sel.cursor))
        self.ensureCursorVisible()

    def current_word(self) -> str | None:
        return None if self.current is None or self.data is None else self.data.word_texts[self.current].strip()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt's name
        href = self.anchorAt(event.position().toPoint())
        if href.startswith("w:"):
            self.word_activated.emit(int(href[2:]))
            return
        super().mouseDoubleClickEvent(event)

    def _clicked(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("w:") and self.data is not None:
            i = int(text[2:])
            self.seek_requested.emit(float(np.asarray(self.data.word_starts)[i]))


def _word_format(index: int) -> QTextCharFormat:
    """A word is a link to its own start time."""
    fmt = QTextCharFormat()
    fmt.setAnchor(True)
    fmt.setAnchorHref(f"w:{index}")
    fmt.setForeground(QColor("#222"))
    return fmt
