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
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from core.store import Store

MSP_CATEGORIES = [("", "-"), ("N", "neutral"), ("H", "happy"), ("S", "sad"), ("A", "angry"), ("U", "surprise"),
                  ("F", "fear"), ("D", "disgust"), ("C", "contempt"), ("O", "other"), ("X", "no agreement")]
DIMS = ("arousal", "valence", "dominance")


class SaveLabel(QUndoCommand):
    """Redo appends the edited values; undo appends what the annotator's label was before (or a cleared row)."""

    def __init__(self, editor: LabelEditor, segment_id: int, new: dict, old: dict | None) -> None:
        super().__init__(f"label segment {segment_id}")
        self.editor, self.segment_id, self.new, self.old = editor, segment_id, new, old
        self.pushed = False

    def redo(self) -> None:
        if not self.pushed:  # the save itself was written before the command joined the stack
            self.pushed = True
            return
        self.editor.write(self.segment_id, self.new, origin="redo")

    def undo(self) -> None:
        old = self.old or {"arousal": None, "valence": None, "dominance": None, "category": None, "note": None}
        try:
            self.editor.write(self.segment_id, old, origin="undo")
        except (SQLAlchemyError, OSError) as exc:
            self.editor.save_failed.emit(f"Undo was not saved: {exc}")


class LabelEditor(QWidget):
    saved = Signal(int)  # segment id
    next_requested = Signal()
    save_failed = Signal(str)

    def __init__(self, store: Store, annotator: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.annotator = store, annotator
        self.undo_stack = QUndoStack(self)
        self.segment_id: int | None = None
        self.prediction: tuple[float, float, float] | None = None
        self.focused_dim = 0
        self.title = QLabel("No segment selected")
        self.title.setWordWrap(True)
        self.spins = []
        form = QFormLayout()
        for dim in DIMS:
            spin = QDoubleSpinBox()
            spin.setRange(1.0, 7.0)
            spin.setSingleStep(0.5)
            spin.setDecimals(2)
            spin.setValue(4.0)
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
        self.save_button = QPushButton("Save && next (Enter)")
        self.accept_button = QPushButton("Accept prediction (A)")
        self.save_button.clicked.connect(self.save_and_next)
        self.accept_button.clicked.connect(self.accept_prediction)
        buttons = QHBoxLayout()
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.save_button)
        self.history = QListWidget()
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(self.prediction_label)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("History (all annotators)"))
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
                     prediction: tuple[float, float, float] | None = None) -> None:
        self.segment_id, self.prediction = segment_id, prediction
        self.setEnabled(segment_id is not None)
        if segment_id is None:
            self.title.setText("No segment selected")
            self.history.clear()
            return
        self.title.setText(title)
        history = self.store.label_history(segment_id)
        own = [h for h in history if h.annotator == self.annotator]
        base = own[-1] if own else (history[-1] if history else None)
        for spin, dim in zip(self.spins, DIMS):
            value = getattr(base, dim) if base is not None else None
            spin.setValue(value if value is not None else (prediction[DIMS.index(dim)] if prediction else 4.0))
        self.category.setCurrentIndex(max(0, self.category.findData(base.category if base else None)))
        self.note.setText((base.note or "") if base else "")
        self.prediction_label.setText(
            "model: " + "  ".join(f"{d[0].upper()} {v:.2f}" for d, v in zip(DIMS, prediction)) if prediction else
            "model: no prediction (analyze the corpus)")
        self.history.clear()
        for h in reversed(history):
            values = " ".join("-" if getattr(h, d) is None else f"{getattr(h, d):.2f}" for d in DIMS)
            self.history.addItem(f"{h.created_at:%Y-%m-%d %H:%M:%S}  {h.annotator:<10} {h.origin:<8} {values} "
                                 f"{h.category or ''} {h.note or ''}")

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

    def save(self) -> bool:
        """Write the edit; only a write that reached the store becomes an undo step."""
        if self.segment_id is None:
            return False
        try:
            own = [h for h in self.store.label_history(self.segment_id) if h.annotator == self.annotator]
            old = ({"arousal": own[-1].arousal, "valence": own[-1].valence, "dominance": own[-1].dominance,
                    "category": own[-1].category, "note": own[-1].note} if own else None)
            new = self.current_values()
            self.write(self.segment_id, new, origin="manual")
        except (SQLAlchemyError, OSError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            self.save_failed.emit(f"The label was not saved ({reason}). It is still in the editor: save again "
                                  f"once the store can be written.")
            return False
        self.undo_stack.push(SaveLabel(self, self.segment_id, new, old))
        return True

    def save_and_next(self) -> None:
        if self.save():  # never move on from an edit that did not reach the store
            self.next_requested.emit()

    def accept_prediction(self) -> None:
        if self.prediction is None or self.segment_id is None:
            return
        for spin, value in zip(self.spins, self.prediction):
            spin.setValue(round(float(value), 2))
        self.save()

    def write(self, segment_id: int, values: dict, origin: str) -> None:
        """The one place the editor writes: committed before it returns."""
        self.store.add_label(segment_id, annotator=self.annotator, origin=origin, **values)
        self.saved.emit(segment_id)
        if segment_id == self.segment_id:
            title = self.title.text()
            self.show_segment(segment_id, title, self.prediction)
