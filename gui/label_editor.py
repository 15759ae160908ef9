"""Edit the selected segment's A/V/D, category and note. Every save is a new label row in the store at once;
undo and redo append rows too (the previous or the edited values), so the history keeps every step."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from emotrace.core.store import LabelError, LabelRecord, Store
from emotrace.core.store.annotations import standing_label
from emotrace.core.vocab import DIMENSIONS, SCALE, LabelOrigin
from emotrace.core.workflows.annotation_jobs import visibility
from emotrace.gui.state import keymap

MSP_CATEGORIES = [("", "-"), ("N", "neutral"), ("H", "happy"), ("S", "sad"), ("A", "angry"), ("U", "surprise"),
                  ("F", "fear"), ("D", "disgust"), ("C", "contempt"), ("O", "other"), ("X", "no agreement")]
DIMS = DIMENSIONS


class SaveLabel(QUndoCommand):
    """Undo retracts the row this step wrote (the annotator's earlier label, if any, is current again); redo
    records the same values with the same origin once more. Every step is a new row: the history keeps all."""

    def __init__(self, editor: LabelEditor, record: LabelRecord, values: dict) -> None:
        super().__init__(f"label segment {record.segment_id}")
        self.editor, self.record, self.values = editor, record, values
        self.pushed = False

    def redo(self) -> None:
        if not self.pushed:  # the save itself was written before the command joined the stack
            self.pushed = True
            return
        self.editor.segment_requested.emit(self.record.segment_id)  # seen where it happens (the stack spans files)
        try:
            self.record = self.editor.write(self.record.segment_id, self.values, self.record.origin)
        except (SQLAlchemyError, OSError, LabelError) as exc:
            self.setObsolete(True)  # leaves the stack: the step did not happen
            self.editor.save_failed.emit(f"Redo was not saved: {exc}")
            return
        self.editor.status.emit(f"Redone: segment {self.record.segment_id} is {_values(self.record.values)} again "
                                f"(new row #{self.record.id})")

    def undo(self) -> None:
        self.editor.segment_requested.emit(self.record.segment_id)
        try:
            self.editor.retract(self.record)
        except (SQLAlchemyError, OSError, LabelError) as exc:
            self.setObsolete(True)
            self.editor.save_failed.emit(f"Undo was not saved: {exc}")
            return
        own = [c for c in self.editor.store.labels.current_labels(segment_ids=[self.record.segment_id])
               if c.annotator == self.editor.annotator]
        now = f"back to {_values(own[0].values)}" if own else "without a label of yours"
        self.editor.status.emit(f"Undone: label #{self.record.id} withdrawn; segment {self.record.segment_id} is "
                                f"{now} ({keymap.key_text('redo')} redoes)")


class LabelEditor(QWidget):
    saved = Signal(int)  # segment id
    next_requested = Signal()
    save_failed = Signal(str)
    status = Signal(str)  # what a save, an undo or a redo did, for the status line
    segment_requested = Signal(int)  # an undo or redo is about to act on this segment: show its file

    def __init__(self, store: Store, annotator: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.annotator = store, annotator
        self.undo_stack = QUndoStack(self)
        self.segment_id: int | None = None
        self._shown: tuple | None = None  # what the form showed of the segment's store state (unsaved if it differs)
        self.prediction: tuple[float, float, float] | None = None
        self.prediction_visible = True
        self.focused_dim = 0
        self.title = QLabel("No segment selected")
        self.text = QLabel("")  # the segment's words: wrapped, elided, never widening the dock
        self.text.setWordWrap(True)
        self.text.setStyleSheet("color: #444")
        for label in (self.title, self.text):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setMinimumWidth(1)
        self.spins = []
        form = QFormLayout()
        for dim in DIMS:
            spin = QDoubleSpinBox()
            spin.setRange(SCALE.low, SCALE.high)
            spin.setSingleStep(0.5)
            spin.setDecimals(2)
            spin.setValue(SCALE.neutral)
            spin.installEventFilter(self)
            self.spins.append(spin)
            form.addRow(dim, spin)
        self.category = QComboBox()
        for code, name in MSP_CATEGORIES:
            self.category.addItem(f"{code} {name}".strip(), code or None)
        self.note = QLineEdit()
        self.note.setPlaceholderText("note")
        form.addRow("category", self.category)
        form.addRow("note", self.note)
        self.prediction_label = QLabel("")
        self.offer_label = QLabel("")
        self.offer_label.setWordWrap(True)
        self.offer_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.offer_label.setStyleSheet("color: #0072B2")
        self.save_button = QPushButton(f"Save && next ({keymap.key_text('save_and_next')})")
        self.accept_button = QPushButton(f"Accept prediction ({keymap.key_text('accept_prediction')})")
        self.save_button.clicked.connect(self.save_and_next)
        self.accept_button.clicked.connect(self.accept_prediction)
        buttons = QHBoxLayout()
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.save_button)
        self.history = QListWidget()
        self.history.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addLayout(form)
        layout.addWidget(self.prediction_label)
        layout.addWidget(self.offer_label)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("History, all annotators (* = current label, newest first)"))
        layout.addWidget(self.history, 1)
        self._highlight_focus()
        self.setEnabled(False)

    def eventFilter(self, obj, event) -> bool:  # remember which dimension keys 1-7 act on
        if event.type() == event.Type.FocusIn and obj in self.spins:
            self.focused_dim = self.spins.index(obj)
            self._highlight_focus()
        return False

    def _highlight_focus(self) -> None:
        for i, spin in enumerate(self.spins):
            spin.setStyleSheet("QDoubleSpinBox { border: 2px solid #f39c12; }" if i == self.focused_dim else "")

    # -- showing a segment ------------------------------------------------------------------------
    def show_segment(self, segment_id: int | None, title: str = "",
                     prediction: tuple[float, float, float] | None = None, text: str | None = None) -> None:
        unsaved = (segment_id is not None and segment_id == self.segment_id and self._shown is not None
                   and self._shown != self._form_values())  # typed, not saved: a redraw must not wipe it
        self.segment_id, self.prediction = segment_id, prediction
        self.setEnabled(segment_id is not None)
        if segment_id is None:
            self.title.setText("No segment selected")
            self.text.setText("")
            self.offer_label.setText("")
            self.history.clear()
            return
        self.title.setText(title)
        if text is not None:
            self.text.setText(text if len(text) <= 280 else text[:277].rstrip() + "...")
            self.text.setToolTip(text)
        history = self.store.labels.label_history(segment_id)
        current = self.store.labels.current_labels(segment_ids=[segment_id], include_computed=True)
        own = [c for c in current if c.annotator == self.annotator]
        seen = visibility(self.store, segment_id, self.annotator)  # blind mode (issue 14): no anchoring
        if not seen.others:
            history = [h for h in history if h.annotator == self.annotator]
            current = own
        if not seen.prediction:
            prediction = None
        base = own[0] if own else standing_label(current)
        offered = None
        if not own and self.annotator:  # cut from segments you labelled: your label, to confirm (not saved yet)
            offered = self.store.labels.source_label(segment_id, annotator=self.annotator)
            base = offered or base
        self.offer_label.setText("" if offered is None else
                                 f"offered: your {_values(offered.values)} from the segment(s) this one was cut "
                                 f"from (not saved: {keymap.key_text('save_and_next')} saves it)")
        if not unsaved:
            for i, spin in enumerate(self.spins):
                value = base.values[i] if base is not None else None
                spin.setValue(value if value is not None else (prediction[i] if prediction else SCALE.neutral))
            self.category.setCurrentIndex(max(0, self.category.findData(base.category if base else None)))
            self.note.setText((getattr(base, "note", None) or "") if own else "")
            self._shown = self._form_values()
        self.prediction_visible = seen.prediction
        self.accept_button.setEnabled(seen.prediction)
        self.prediction_label.setText(
            f"model: hidden ({seen.reason})" if not seen.prediction else
            "model: " + "  ".join(f"{d[0].upper()} {v:.2f}" for d, v in zip(DIMS, prediction)) if prediction else
            "model: no prediction (analyze the corpus)")
        self.history.clear()
        standing = {c.label_id for c in current}
        for h in reversed(history):
            self.history.addItem(_history_line(h, h.id in standing))

    def _form_values(self) -> tuple:
        return (*(spin.value() for spin in self.spins), self.category.currentData(), self.note.text())

    # -- editing ----------------------------------------------------------------------------------
    def set_focused_value(self, value: float) -> None:
        if self.segment_id is not None:
            self.spins[self.focused_dim].setValue(value)

    def cycle_focus(self, step: int) -> None:
        self.focused_dim = (self.focused_dim + step) % len(DIMS)
        self._highlight_focus()

    def current_values(self) -> dict:
        return {"arousal": self.spins[0].value(), "valence": self.spins[1].value(), "dominance": self.spins[2].value(),
                "category": self.category.currentData(), "note": self.note.text().strip() or None}

    def save(self, origin: LabelOrigin = LabelOrigin.MANUAL) -> bool:
        """Write the edit; only a write that reached the store becomes an undo step."""
        if self.segment_id is None:
            return False
        if not self.annotator:  # a label must say whose judgement it is: never saved anonymously
            self.save_failed.emit("No annotator name yet: set yours in File > Settings, then save again.")
            return False
        try:
            values = self.current_values()
            record = self.write(self.segment_id, values, origin)
        except (SQLAlchemyError, OSError, LabelError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            self.save_failed.emit(f"The label was not saved ({reason}). It is still in the editor: save again "
                                  f"once the store can be written.")
            return False
        self.undo_stack.push(SaveLabel(self, record, values))
        how = "Accepted the model's" if origin is LabelOrigin.ACCEPTED else "Saved"
        self.status.emit(f"{how} label for segment {record.segment_id}: {_values(record.values)} as "
                         f"{self.annotator} (row #{record.id}; {keymap.key_text('undo')} undoes)")
        return True

    def save_and_next(self) -> None:
        if self.save():  # never move on from an edit that did not reach the store
            self.next_requested.emit()

    def accept_prediction(self) -> None:
        if self.prediction is None or self.segment_id is None or not self.prediction_visible:
            return  # nothing to accept, or hidden from a blind annotator (the A key must not reveal it)
        for spin, value in zip(self.spins, self.prediction):
            spin.setValue(round(float(value), 2))
        self.save(LabelOrigin.ACCEPTED)  # the model's judgement, kept apart from human ones

    def write(self, segment_id: int, values: dict, origin: LabelOrigin) -> LabelRecord:
        """The editor's one write: committed before it returns."""
        record = self.store.labels.record_label(segment_id, annotator=self.annotator, origin=origin, **values)
        self._written(segment_id)
        return record

    def retract(self, record: LabelRecord) -> None:
        self.store.labels.retract_label(record.id, annotator=self.annotator)
        self._written(record.segment_id)

    def _written(self, segment_id: int) -> None:
        self.saved.emit(segment_id)
        if segment_id == self.segment_id:
            self._shown = None  # the store changed under the form: show what it holds now
            self.show_segment(segment_id, self.title.text(), self.prediction)


def _values(values) -> str:
    return " ".join(f"{d[0].upper()} {'-' if v is None else f'{v:.2f}'}" for d, v in zip(DIMS, values))


def _history_line(h: LabelRecord, standing: bool) -> str:
    """One history row: when, who, how (accepted predictions say they are the model's), values, and whether it
    is the annotator's current label."""
    when = f"{h.created_at:%Y-%m-%d %H:%M:%S}"
    if h.origin is LabelOrigin.RETRACTION:
        return f"{when}  {h.annotator:<10} undo: withdrew #{h.retracts_id}"
    how = "accepted (model)" if h.origin is LabelOrigin.ACCEPTED else h.origin.value
    values = " ".join("-" if x is None else f"{x:.2f}" for x in h.values)
    mark = "*" if standing else " "
    return f"{mark} #{h.id} {when}  {h.annotator:<10} {how:<16} {values} {h.category or ''} {h.note or ''}".rstrip()
