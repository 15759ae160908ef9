"""Jobs > Annotation jobs: create a job (segments to named annotators, with overlap, optionally blind), see each
annotator's progress, and work through one's own segments.

The dialog is a complete blind workspace: it plays the segment and embeds the (blind-aware) label editor, so a
blind annotator never needs the file view, whose plot shows the model's trajectory and every label. It takes the
main window's label keys (the keymap's digits, [ ], A, Enter as Save & next, S plays): no button is a default
button that Enter would press (it opened "New annotation job", issue 24), and the progress table is read-only.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from emotrace.core.store import Store
from emotrace.core.timecode import format_time
from emotrace.core.vocab import JOB_SELECTIONS
from emotrace.core.workflows.annotation_jobs import create_job, job_progress, next_segment, visibility
from emotrace.gui.label_editor import LabelEditor
from emotrace.gui.player import Player
from emotrace.gui.shortcuts import bind


class NewJobDialog(QDialog):
    """Name, annotators, selection, overlap, blind."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New annotation job")
        self.name = QLineEdit()
        self.annotators = QLineEdit()
        self.annotators.setPlaceholderText("alice, bob, carol")
        self.how = QComboBox()
        self.how.addItems(JOB_SELECTIONS)
        self.count = QSpinBox()
        self.count.setRange(0, 1_000_000)
        self.count.setValue(50)
        self.count.setSpecialValueText("all")
        self.split = QLineEdit()
        self.overlap = QSpinBox()
        self.overlap.setRange(1, 20)
        self.overlap.setValue(2)
        self.blind = QCheckBox("blind: no prediction and no other labels until the annotator saved their own")
        self.blind.setChecked(True)
        form = QFormLayout(self)
        for label, widget in (("name", self.name), ("annotators", self.annotators), ("segments", self.how),
                              ("how many", self.count), ("split", self.split), ("annotators per segment", self.overlap),
                              ("", self.blind)):
            form.addRow(label, widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def params(self) -> dict:
        return {"name": self.name.text().strip(), "annotators": self.annotators.text().split(","),
                "how": self.how.currentText(), "n": self.count.value() or None,
                "split": self.split.text().strip() or None, "overlap": self.overlap.value(),
                "blind": self.blind.isChecked()}


class AnnotationJobsDialog(QDialog):
    segment_chosen = Signal(int, int)  # file id, segment id: open it in the main window

    def __init__(self, store: Store, corpus: str, annotator: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.corpus, self.annotator = store, corpus, annotator
        self.corpus_id = store.corpora.corpus(corpus).id
        self.setWindowTitle(f"Annotation jobs: {corpus}")
        self.jobs = QComboBox()
        self.jobs.currentIndexChanged.connect(self.refresh)
        new = QPushButton("New job...", clicked=self.new_job)
        top = QHBoxLayout()
        top.addWidget(QLabel("Job:"))
        top.addWidget(self.jobs, 1)
        top.addWidget(new)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["annotator", "assigned", "done", "progress"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)  # progress is shown, never typed
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.player = Player(self)
        self.play_button = QPushButton("Play segment", clicked=self.play)
        self.open_button = QPushButton("Open in main window", clicked=self.open_in_main)
        self.next_button = QPushButton("Next of mine", clicked=self.next)
        row = QHBoxLayout()
        for b in (self.play_button, self.next_button, self.open_button):
            row.addWidget(b)
        self.editor = LabelEditor(store, annotator)
        self.editor.next_requested.connect(self.next)
        self.editor.saved.connect(lambda _sid: self.refresh_progress())
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table)
        layout.addWidget(QLabel(f"Annotating as {annotator}:"))
        layout.addWidget(self.status)
        layout.addLayout(row)
        layout.addWidget(self.editor, 1)
        self.segment_id: int | None = None
        for button in (new, self.play_button, self.open_button, self.next_button, *self.editor.findChildren(QPushButton)):
            button.setAutoDefault(False)  # Enter is Save & next (the keymap), never whichever button had the focus
            button.setDefault(False)
        self._bind_keys()
        self.resize(620, 720)
        self.reload_jobs()

    def _bind_keys(self) -> None:
        """The keymap's label keys, as in the main window (gui/state/keymap.py is their one home)."""
        handlers = {
            "save_and_next": self.editor.save_and_next,
            "accept_prediction": self.editor.accept_prediction,
            "previous_dimension": lambda: self.editor.cycle_focus(-1),
            "next_dimension": lambda: self.editor.cycle_focus(1),
            "play_segment": self.play,
        }
        self.shortcuts = [sc for action_id, handler in handlers.items()
                          for sc in bind(self, action_id, handler, unless=self._typing)]
        self.shortcuts += bind(self, "set_value", lambda key: self.editor.set_focused_value(float(key)),
                               unless=self._typing, with_key=True)

    def _typing(self) -> bool:
        """Single keys stand aside while the annotator types in a text field or a value box."""
        return isinstance(self.focusWidget(), (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox))

    def reload_jobs(self, select: str | None = None) -> None:
        self.jobs.blockSignals(True)
        self.jobs.clear()
        for job in self.store.assignments.annotation_jobs(self.corpus_id):
            self.jobs.addItem(f"{job.name}{' (blind)' if job.blind else ''}", job.name)
        if select:
            self.jobs.setCurrentIndex(self.jobs.findData(select))
        self.jobs.blockSignals(False)
        self.refresh()

    def job(self):
        name = self.jobs.currentData()
        return self.store.assignments.annotation_job(self.corpus_id, name) if name else None

    def refresh(self) -> None:
        self.refresh_progress()
        self.next()

    def refresh_progress(self) -> None:
        job = self.job()
        rows = job_progress(self.store, job) if job else []
        self.table.setRowCount(len(rows))
        for r, p in enumerate(rows):
            for c, text in enumerate((p.annotator, str(p.assigned), str(p.done))):
                self.table.setItem(r, c, QTableWidgetItem(text))
            bar = QProgressBar()
            bar.setValue(round(100 * p.fraction))
            self.table.setCellWidget(r, 3, bar)

    def next(self) -> None:
        job = self.job()
        self.segment_id = next_segment(self.store, job, self.annotator) if job else None
        if self.segment_id is None:
            self.status.setText("No job chosen." if job is None else
                                f"Nothing left for {self.annotator} in this job." if any(
                                    a.annotator == self.annotator for a in self.store.assignments.job_assignments(job.id))
                                else f"{self.annotator} has no segments in this job.")
            self.editor.show_segment(None)
            self._buttons()
            return
        seg = self.store.segments.segment(self.segment_id)
        audio = self.store.corpora.file(seg.file_id)
        name = _segment_name(self.store, seg)
        self.status.setText(f"{Path(audio.path).name}, {name}: {format_time(seg.start)}-{format_time(seg.end)}"
                            + (f" \u201c{seg.text}\u201d" if seg.text else ""))
        prediction = None
        active = self.store.models.active_model()
        if active is not None:
            p = self.store.predictions.segment_predictions(active.id, file_id=seg.file_id).get(seg.id)
            prediction = p.values if p is not None and p.flag is None else None
        self.editor.show_segment(seg.id, name, prediction)  # the editor hides it while blind
        self.player.load(audio.path, audio.duration or seg.end)
        self._buttons()

    def _buttons(self) -> None:
        has = self.segment_id is not None
        self.play_button.setEnabled(has)
        # the main window's plot shows the model and every label: only once the annotator may see them
        self.open_button.setEnabled(has and visibility(self.store, self.segment_id, self.annotator,
                                                       job=self.job()).others)

    def play(self) -> None:
        if self.segment_id is not None:
            seg = self.store.segments.segment(self.segment_id)
            self.player.play(seg.start, seg.end)

    def open_in_main(self) -> None:
        if self.segment_id is not None:
            seg = self.store.segments.segment(self.segment_id)
            self.segment_chosen.emit(seg.file_id, seg.id)

    def new_job(self) -> None:
        form = NewJobDialog(self)
        if form.exec() != QDialog.DialogCode.Accepted:
            return
        params = form.params()
        try:
            create_job(self.store, self.corpus, **params)
        except (ValueError, RuntimeError) as exc:
            QMessageBox.warning(self, "New annotation job", str(exc))
            return
        self.reload_jobs(select=params["name"])


def _segment_name(store: Store, seg) -> str:
    """"Segment k/N" among its file's current segments, as the main window names it (never its database id)."""
    live = [s.id for s in store.segments.segments(seg.file_id, include_superseded=False)]
    return f"Segment {live.index(seg.id) + 1}/{len(live)}" if seg.id in live else "Superseded segment"
