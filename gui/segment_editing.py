"""Segments and words by hand, keyboard first: split at the playhead (X), merge with the next (M), set the
selected segment's start or end to the playhead (I / O) or drag its edges on the waveform, correct the word
under the playhead (F2, or double-click it in the transcript).

Every change is one store edit (`Store.segments.edit_segments` and friends): a labelled segment is never rewritten, it is
kept (superseded, drawn faint) and the new segment offers its label to confirm with Enter. Undo and redo share
the label editor's stack (Ctrl+Z goes back through labels and segment edits in the order they were made) and
apply the inverse edit, so they are edits too and nothing is lost on the way.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QUndoCommand
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
)
from sqlalchemy.exc import SQLAlchemyError

from emotrace.core.store import LabelError, SegmentEdit
from emotrace.core.timecode import format_time
from emotrace.gui.shortcuts import assign
from emotrace.gui.state import keymap

STORE_ERRORS = (LabelError, SQLAlchemyError, OSError)


class SegmentEditCommand(QUndoCommand):
    """One split, merge or resize on the undo stack. Undo and redo both apply the inverse of the edit in
    effect, so each is a new edit and the segments' labels ride along untouched."""

    def __init__(self, controls: SegmentEditing, edit: SegmentEdit, what: str) -> None:
        super().__init__(what)
        self.controls, self.applied, self.what = controls, edit, what
        self.pushed = False

    def redo(self) -> None:
        if not self.pushed:  # the edit was written before the command joined the stack
            self.pushed = True
            return
        self._flip(f"Redone: {self.what}")

    def undo(self) -> None:
        self._flip(f"Undone: {self.what}")

    def _flip(self, message: str) -> None:
        name = self.controls.show_file(self.applied.file_id)  # an undo is seen where it happens
        try:
            self.applied = self.controls.window.store.segments.edit_segments(**self.applied.inverse())
        except STORE_ERRORS as exc:
            self.setObsolete(True)  # leaves the stack: a later redo must not replay this step the wrong way
            self.controls.failed(f"{message.split(':')[0]} failed, nothing changed: {exc}")
            return
        self.controls.show_result(self.applied, f"{message} in {name}")


class WordEditCommand(QUndoCommand):
    """A word correction on the same stack: undo writes the values it replaced as a new correction, redo the
    corrected ones again (the word's history keeps every step)."""

    def __init__(self, controls: SegmentEditing, file_id: int, word_id: int, old: tuple, new: tuple) -> None:
        super().__init__(f"correct word {old[0]!r}")
        self.controls, self.file_id, self.word_id, self.old, self.new = controls, file_id, word_id, old, new
        self.pushed = False

    def redo(self) -> None:
        if not self.pushed:
            self.pushed = True
            return
        self._write(self.new, "Redone")

    def undo(self) -> None:
        self._write(self.old, "Undone")

    def _write(self, values: tuple, how: str) -> None:
        name = self.controls.show_file(self.file_id)
        if not self.controls.write_word(self.word_id, values, f"{how} in {name}"):
            self.setObsolete(True)


class SegmentEditing:
    def __init__(self, window) -> None:
        self.window = window
        w = window
        self.act_split = assign(QAction("Split segment at playhead", w, triggered=self.split), "split_segment")
        self.act_split.setToolTip("Cut the selected segment in two at the playhead; a labelled one is kept "
                                  "(superseded) and each half offers its label")
        self.act_merge = assign(QAction("Merge with next segment", w, triggered=self.merge_next), "merge_segment")
        self.act_start = assign(QAction("Segment start to playhead", w, triggered=lambda: self.set_edge(0)),
                                "segment_start")
        self.act_end = assign(QAction("Segment end to playhead", w, triggered=lambda: self.set_edge(1)),
                              "segment_end")
        self.act_word = assign(QAction("Correct word at playhead...", w, triggered=lambda: self.edit_word()),
                               "correct_word")
        self.act_word.setToolTip("Fix the text or times of the ASR word under the playhead (kept on re-transcribe)")
        w.edit_menu.addSeparator()
        for act in (self.act_split, self.act_merge, self.act_start, self.act_end, self.act_word):
            w.edit_menu.addAction(act)
            w.addAction(act)
        w.file_view.bounds_dragged.connect(self.resize_selected)
        w.transcript.word_activated.connect(self.edit_word)

    # -- what the keys act on -----------------------------------------------------------------------
    def _selected(self) -> tuple[int, float, float] | None:
        """The selected segment (id, start, end), if it is a current one."""
        data, i = self.window.data, self.window.view_state.segment_index
        if data is None or i is None or not data.seg_live[i]:
            keys = f"{keymap.key_text('next_segment')} / {keymap.key_text('previous_segment')}"
            self.window.statusBar().showMessage(f"Select a current segment first ({keys} or a click in a lane)", 6000)
            return None
        start, end = (float(x) for x in data.seg_bounds[i])
        return int(data.seg_ids[i]), start, end

    def split(self) -> None:
        sel = self._selected()
        if sel is None:
            return
        sid, start, end = sel
        at = self.window.view_state.playhead
        self._apply(lambda: self.window.store.segments.split_segment(sid, at),
                    f"split {format_time(start, 2)}-{format_time(end, 2)} at {format_time(at, 2)}")

    def merge_next(self) -> None:
        sel = self._selected()
        data = self.window.data
        if sel is None:
            return
        live = [int(k) for k in data.live_indices()]
        k = live.index(self.window.view_state.segment_index)
        if k + 1 >= len(live):
            self.window.statusBar().showMessage("The selected segment is the last one: nothing to merge with", 6000)
            return
        other = int(data.seg_ids[live[k + 1]])
        self._apply(lambda: self.window.store.segments.merge_segments([sel[0], other]),
                    f"merge {format_time(sel[1], 2)}-{format_time(float(data.seg_bounds[live[k + 1], 1]), 2)}")

    def set_edge(self, edge: int) -> None:
        sel = self._selected()
        if sel is None:
            return
        bounds = [sel[1], sel[2]]
        bounds[edge] = self.window.view_state.playhead
        self.resize_selected(*bounds)

    def resize_selected(self, start: float, end: float) -> None:
        sel = self._selected()
        if sel is None:
            self.window.file_view.select_segment(self.window.view_state.segment_index)  # dragged edges go back
            return
        if end <= start:
            self.window.statusBar().showMessage("The start must stay before the end: move the playhead", 6000)
            self.window.file_view.select_segment(self.window.view_state.segment_index)
            return
        ok = self._apply(lambda: self.window.store.segments.resize_segment(sel[0], start, end),
                         f"resize to {format_time(start, 2)}-{format_time(end, 2)}")
        if not ok:  # the dragged edges go back to the segment's bounds
            self.window.file_view.select_segment(self.window.view_state.segment_index)
            return
        # a resize is the same judgement with new bounds: the annotator's own label goes with it at once (issue 24;
        # it was only offered, and lost when they moved on). A split or a merge still offers it to confirm.
        self.window.editor.keep_offer()

    # -- doing it -------------------------------------------------------------------------------------
    def _apply(self, change, what: str) -> bool:
        try:
            edit = change()
        except STORE_ERRORS as exc:
            self.failed(f"Not done ({what}): {exc}")
            return False
        self.window.editor.undo_stack.push(SegmentEditCommand(self, edit, what))
        self.show_result(edit, what[0].upper() + what[1:])
        return True

    def show_file(self, file_id: int) -> str:
        """Open the file an undo or redo acts on (the stack spans files); its name, for the status line."""
        w = self.window
        w.ensure_open(file_id)
        return w.store.corpora.file(file_id).path.rsplit("/", 1)[-1]

    def failed(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 10000)

    def show_result(self, edit: SegmentEdit, message: str) -> None:
        """Redraw from the store and select the first new (or revived) segment, playhead at its start."""
        w = self.window
        w.reload_file()
        target = (edit.added or edit.revived or (None,))[0]
        if target is not None:
            w.go_to(edit.file_id, target, move_view=False)
        kept = f"; {len(edit.superseded)} labelled segment(s) kept with their labels" if edit.superseded else ""
        w.statusBar().showMessage(f"{message}{kept} ({keymap.key_text('undo')} undoes)", 10000)

    def edit_word(self, index: int | None = None) -> None:
        """Correct a word's text or times (the word under the playhead, or the transcript's double-clicked one)."""
        w = self.window
        data = w.data
        if data is None or not len(data.word_ids):
            w.statusBar().showMessage("No words here yet: transcribe the corpus first", 6000)
            return
        if index is None:
            index = data.word_at(w.view_state.playhead)
        if index is None:
            return
        if not w.editor.annotator:
            QMessageBox.information(w, "EmoTrace", "Set your name in File > Settings first: a correction says whose "
                                                   "it is.")
            return
        dialog = WordDialog(data.word_texts[index], float(data.word_starts[index]), float(data.word_ends[index]),
                            data.duration, w)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        w.activateWindow()  # the keys (X, N, 1-7...) act again at once, not in whatever took the focus
        w.file_view.setFocus()
        if not accepted:
            return
        text, start, end = dialog.values()
        old = (data.word_texts[index].strip(), float(data.word_starts[index]), float(data.word_ends[index]))
        if text.strip() == old[0] and abs(start - old[1]) < 5e-4 and abs(end - old[2]) < 5e-4:
            w.statusBar().showMessage("The word is unchanged: nothing written", 6000)
            return
        word_id = int(data.word_ids[index])
        if self.write_word(word_id, (text, start, end), "Word corrected"):
            w.editor.undo_stack.push(WordEditCommand(self, data.file_id, word_id, old, (text, start, end)))

    def write_word(self, word_id: int, values: tuple[str, float, float], how: str) -> bool:
        w = self.window
        text, start, end = values
        try:
            w.store.words.edit_word(word_id, editor=w.editor.annotator, text=text, start=start, end=end)
        except STORE_ERRORS as exc:
            QMessageBox.warning(w, "Word not corrected", str(exc))
            return False
        before = w.data.word_ids.tolist() if w.data is not None else []
        w.reload_file()
        if w.data is None:
            return True
        if word_id in before and w.data.word_ids.tolist() == before:  # same words, same order: only its text
            w.transcript.replace_word(w.data, before.index(word_id))
        else:
            w.transcript.show_file(w.data)
        w.statusBar().showMessage(f"{how}: {text.strip()!r} at {format_time(start, 2)}-{format_time(end, 2)} "
                                  f"(every version is kept in the word's history; {keymap.key_text('undo')} "
                                  "undoes)", 10000)
        return True


class WordDialog(QDialog):
    """Text, start and end of one word; Enter accepts."""

    def __init__(self, text: str, start: float, end: float, duration: float, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Correct word")
        self.text = QLineEdit(text.strip())
        self.start, self.end = QDoubleSpinBox(), QDoubleSpinBox()
        for box, value in ((self.start, start), (self.end, end)):
            box.setDecimals(3)
            box.setSingleStep(0.01)
            box.setRange(0.0, max(duration, end))
            box.setSuffix(" s")
            box.setValue(value)
        form = QFormLayout(self)
        form.addRow(QLabel("The ASR's version stays in the word's history."))
        form.addRow("word", self.text)
        form.addRow("start", self.start)
        form.addRow("end", self.end)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.text.selectAll()

    def values(self) -> tuple[str, float, float]:
        return self.text.text(), self.start.value(), self.end.value()
