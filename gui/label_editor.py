"""Edit the selected segment's A/V/D, category and note. Every save is a new label row in the store at once;
undo and redo append rows too (the previous or the edited values), so the history keeps every step.

What is saved is what the annotator chose (issue 24): the form starts from their own label, else from the
model's prediction (when they may see it), never from another person's label. Each dimension is *untouched*
until they set it (a key, the spin box, a dragged handle); a save writes per dimension whose value it is:
`manual` where they set it, `accepted` where they left the model's value standing, nothing where there was
neither. Enter on a segment where nothing was set saves nothing; A accepts the model's values for the untouched
dimensions. A category is saved only when they chose it."""

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
from emotrace.core.vocab import DIMENSIONS, SCALE, LabelOrigin
from emotrace.core.workflows.annotation_jobs import visibility
from emotrace.gui.state import keymap

MSP_CATEGORIES = [("", "-"), ("N", "neutral"), ("H", "happy"), ("S", "sad"), ("A", "angry"), ("U", "surprise"),
                  ("F", "fear"), ("D", "disgust"), ("C", "contempt"), ("O", "other"), ("X", "no agreement")]
DIMS = DIMENSIONS


class SaveLabel(QUndoCommand):
    """Undo retracts the row this step wrote (the annotator's earlier label, if any, is current again); redo
    records the same values with the same origin once more. Every step is a new row: the history keeps all."""

    def __init__(self, editor: LabelEditor, record: LabelRecord, values: dict, name: str) -> None:
        super().__init__(f"label {name}")
        self.editor, self.record, self.values, self.name = editor, record, values, name
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
        self.editor.status.emit(f"Redone: {self.name} is {_values(self.record.values)} again "
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
        self.editor.status.emit(f"Undone: label #{self.record.id} withdrawn; {self.name} is "
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
        self.name = ""  # how the app names the shown segment ("Segment 23/193"): status lines use it, not its id
        self.touched = [False] * len(DIMS)  # which dimensions the annotator set on this segment since it was shown
        self.category_touched = False
        self.own_origins: tuple = (None,) * len(DIMS)  # per dimension, whose value the shown own label holds
        self._loading = False  # the form is being filled from the store: not the annotator's doing
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
            spin.valueChanged.connect(lambda _v, i=len(self.spins): self._set_by_hand(i))
            self.spins.append(spin)
            form.addRow(dim, spin)
        self.category = QComboBox()
        for code, name in MSP_CATEGORIES:
            self.category.addItem(f"{code} {name}".strip(), code or None)
        self.category.currentIndexChanged.connect(self._category_by_hand)
        self.note = QLineEdit()
        self.note.setPlaceholderText("note")
        form.addRow("category", self.category)
        form.addRow("note", self.note)
        self.prediction_label = QLabel("")
        self.untouched_label = QLabel("")  # which dimensions are still the model's (or open): Enter will not type them
        self.untouched_label.setWordWrap(True)
        self.untouched_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
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
        layout.addWidget(self.untouched_label)
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
            style = "border: 2px solid #f39c12;" if i == self.focused_dim else ""
            if self.segment_id is not None and not self._is_set(i):
                style += " color: #888; font-style: italic;"  # untouched: not the annotator's value
            spin.setStyleSheet(f"QDoubleSpinBox {{ {style} }}" if style else "")

    def _set_by_hand(self, dim: int) -> None:
        if not self._loading and self.segment_id is not None:
            self.touched[dim] = True
            self._show_untouched()

    def _category_by_hand(self, _index: int) -> None:
        if not self._loading and self.segment_id is not None:
            self.category_touched = True

    def _is_set(self, dim: int) -> bool:
        """The annotator's own value: set now, or held by their own label as theirs (not an accepted prediction)."""
        return self.touched[dim] or self.own_origins[dim] not in (None, LabelOrigin.ACCEPTED)

    def untouched(self) -> list[str]:
        """The dimensions the annotator has not set on this segment (shown in the editor)."""
        return [dim for i, dim in enumerate(DIMS) if not self._is_set(i)]

    def _show_untouched(self) -> None:
        left = self.untouched()
        if self.segment_id is None or not left:
            self.untouched_label.setText("")
        else:
            what = (f"the model's value, saved as accepted beside what you set; "
                    f"{keymap.key_text('accept_prediction')} accepts it" if self.prediction is not None
                    and self.prediction_visible else "left open when you save")
            self.untouched_label.setText(f"untouched: {', '.join(left)} ({what}; {keymap.key_text('set_value')} "
                                         f"sets the focused one)")
        self._highlight_focus()

    # -- showing a segment ------------------------------------------------------------------------
    def show_segment(self, segment_id: int | None, title: str = "",
                     prediction: tuple[float, float, float] | None = None, text: str | None = None) -> None:
        same = segment_id is not None and segment_id == self.segment_id
        unsaved = (same and self._shown is not None
                   and self._shown != self._form_values())  # typed, not saved: a redraw must not wipe it
        self.segment_id, self.prediction = segment_id, prediction
        self.setEnabled(segment_id is not None)
        if not same:  # another segment: nothing of it is set yet, and keys start at the first dimension again
            self.touched = [False] * len(DIMS)
            self.category_touched = False
            self.focused_dim = 0
        if segment_id is None:
            self.title.setText("No segment selected")
            self.text.setText("")
            self.offer_label.setText("")
            self.untouched_label.setText("")
            self.history.clear()
            self._highlight_focus()
            return
        self.title.setText(title)
        self.name = title.split("  ")[0] if title else f"segment {segment_id}"
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
        # only the annotator's own label fills the form: another person's is never a pre-fill (issue 24)
        base = own[0] if own else None
        self.own_origins = tuple(base.origins) if base is not None else (None,) * len(DIMS)
        offered = None
        if not own and self.annotator:  # cut from segments you labelled: your label, to confirm (not saved yet)
            offered = self.store.labels.source_label(segment_id, annotator=self.annotator)
            base = offered or base
        self.offer_label.setText("" if offered is None else
                                 f"offered: your {_values(offered.values)} from the segment(s) this one was cut "
                                 f"from (not saved: {keymap.key_text('save_and_next')} saves it)")
        if not unsaved:
            self._loading = True
            try:
                for i, spin in enumerate(self.spins):
                    value = base.values[i] if base is not None else None
                    spin.setValue(value if value is not None else (prediction[i] if prediction else SCALE.neutral))
                self.category.setCurrentIndex(max(0, self.category.findData(base.category if base else None)))
                self.note.setText((getattr(base, "note", None) or "") if own else "")
            finally:
                self._loading = False
            if offered is not None:  # your own values, carried over from the source: set, as they were yours
                self.touched = [v is not None for v in offered.values]
                self.category_touched = offered.category is not None
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
        self._show_untouched()

    def _form_values(self) -> tuple:
        return (*(spin.value() for spin in self.spins), self.category.currentData(), self.note.text())

    # -- editing ----------------------------------------------------------------------------------
    def set_focused_value(self, value: float) -> None:
        self.set_value(self.focused_dim, value)

    def set_value(self, dim: int, value: float) -> None:
        """The annotator sets a dimension (a key, a dragged handle): theirs even when it equals what was shown."""
        if self.segment_id is not None:
            self.spins[dim].setValue(value)
            self.touched[dim] = True
            self._show_untouched()

    def cycle_focus(self, step: int) -> None:
        """[ and ]: the previous or next dimension, stopping at the first and the last (no wrap-around: `7 ] 1 ] 6`
        must never type into arousal again)."""
        self.focused_dim = max(0, min(len(DIMS) - 1, self.focused_dim + step))
        self._highlight_focus()

    def _model_value(self, dim: int) -> float | None:
        if self.prediction is None or not self.prediction_visible:
            return None
        return round(float(self.prediction[dim]), 2)

    def current_values(self, accept: bool = False) -> dict:
        """What a save writes, per dimension with whose value it is: the annotator's where they set it (or their
        own label holds it), the model's (`accepted`) where they left its value standing or pressed accept, open
        where there is neither. The category only when they chose it (or their own label holds one)."""
        values, origins = [], []
        for i, spin in enumerate(self.spins):
            if self.touched[i]:
                values.append(spin.value())
                origins.append(LabelOrigin.MANUAL)
            elif self.own_origins[i] is not None:  # their own label's value, as it was theirs (or accepted)
                values.append(spin.value())
                origins.append(self.own_origins[i])
            elif (model := self._model_value(i)) is not None and (accept or abs(spin.value() - model) < 1e-9):
                values.append(model)
                origins.append(LabelOrigin.ACCEPTED)
            else:
                values.append(None)
                origins.append(None)
        own_category = self.category_touched or any(o is not None for o in self.own_origins)
        return {"arousal": values[0], "valence": values[1], "dominance": values[2],
                "category": self.category.currentData() if own_category else None,
                "note": self.note.text().strip() or None, "origins": tuple(origins)}

    def anything_chosen(self) -> bool:
        """Whether the annotator chose anything here since it was shown (a value, the category, the note)."""
        return (any(self.touched) or self.category_touched
                or (self._shown is not None and self._shown[-1] != self.note.text()))

    def save(self, origin: LabelOrigin = LabelOrigin.MANUAL) -> bool:
        """Write the edit; only a write that reached the store becomes an undo step. Nothing chosen is nothing
        saved (True: there is nothing to keep); `accepted` takes the model's values for the untouched dimensions."""
        if self.segment_id is None:
            return False
        if not self.annotator:  # a label must say whose judgement it is: never saved anonymously
            self.save_failed.emit("No annotator name yet: set yours in File > Settings, then save again.")
            return False
        accept = origin is LabelOrigin.ACCEPTED
        if not accept and not self.anything_chosen():
            self.status.emit(f"{self.name}: nothing saved (no dimension set; {keymap.key_text('set_value')} sets "
                             f"one, {keymap.key_text('accept_prediction')} accepts the model's)")
            return True
        values = self.current_values(accept=accept)
        if values["origins"] == (None,) * len(DIMS):
            self.status.emit(f"{self.name}: nothing saved (a note or a category needs a value: "
                             f"{keymap.key_text('set_value')} sets the focused dimension)")
            return False
        origin = LabelOrigin.MANUAL if LabelOrigin.MANUAL in values["origins"] else (
            LabelOrigin.ACCEPTED if all(o in (None, LabelOrigin.ACCEPTED) for o in values["origins"]) else
            next(o for o in values["origins"] if o not in (None, LabelOrigin.ACCEPTED)))
        try:
            record = self.write(self.segment_id, values, origin)
        except (SQLAlchemyError, OSError, LabelError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            self.save_failed.emit(f"The label was not saved ({reason}). It is still in the editor: save again "
                                  f"once the store can be written.")
            return False
        name = self.name
        self.undo_stack.push(SaveLabel(self, record, values, name))
        how = "Accepted the model's" if origin is LabelOrigin.ACCEPTED else "Saved"
        self.status.emit(f"{how} label for {name}: {_values(record.values)} as "
                         f"{self.annotator} (row #{record.id}; {keymap.key_text('undo')} undoes)")
        return True

    def keep_offer(self) -> bool:
        """Save the label offered from the segment this one was cut from (their own, as it was), if any."""
        if self.segment_id is None or not self.offer_label.text():
            return False
        return self.save()

    def save_and_next(self) -> None:
        if self.save():  # never move on from an edit that did not reach the store
            self.next_requested.emit()

    def accept_prediction(self) -> None:
        """A: the model's values for every dimension the annotator has not set (saved as `accepted`, kept apart
        from human judgements); the dimensions they set stay theirs."""
        if self.prediction is None or self.segment_id is None or not self.prediction_visible:
            return  # nothing to accept, or hidden from a blind annotator (the A key must not reveal it)
        self._loading = True
        try:
            for i, spin in enumerate(self.spins):
                if not self.touched[i] and self.own_origins[i] in (None, LabelOrigin.ACCEPTED):
                    spin.setValue(round(float(self.prediction[i]), 2))
                    self.own_origins = (*self.own_origins[:i], None, *self.own_origins[i + 1:])
        finally:
            self._loading = False
        self.save(LabelOrigin.ACCEPTED)

    def write(self, segment_id: int, values: dict, origin: LabelOrigin) -> LabelRecord:
        """The editor's one write: committed before it returns."""
        record = self.store.labels.record_label(segment_id, annotator=self.annotator, origin=origin, **values)
        if segment_id == self.segment_id:  # saved: the form shows the store's row, whose origins say whose is what
            self.touched = [False] * len(DIMS)
            self.category_touched = False
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
