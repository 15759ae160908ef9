"""The review queue as a table; 'Next to review' walks it. It ranks by the model and others' labels, so it
asks the blind rule (core/workflows/annotation_jobs.py `Sight`): segments blind to the viewer are left out."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from emotrace.core.store import Store
from emotrace.core.timecode import format_time
from emotrace.core.workflows.annotation_jobs import corpus_sight
from emotrace.core.workflows.review import ReviewItem, TraceReviewItem, review_queue, trace_review
from emotrace.gui.state import keymap


class ReviewPanel(QWidget):
    item_chosen = Signal(int, int)  # file id, segment id
    span_chosen = Signal(int, float, float)  # file id, start, end (a traced stretch)

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.items: list[ReviewItem] = []
        self.position = -1
        self.info = QLabel("Analyze the corpus to fill the review queue.")
        self.info.setWordWrap(True)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["file", "start", "score", "model vs label", "audio vs text"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.cellDoubleClicked.connect(lambda row, _c: self.choose(row))
        self.mode = QComboBox()
        self.mode.addItem("segments: uncertainty, modalities, label gap", "segments")
        self.mode.addItem("traced stretches: annotator vs model and annotators", "traces")
        self.mode.setToolTip("What the queue ranks")
        # the long choices must not set the dock's least width (at 1024x700 it pushed the window wider)
        self.mode.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.mode.setMinimumContentsLength(12)
        self.mode.currentIndexChanged.connect(lambda _i: self.reload(self.corpus_id, self.model_version_id))
        self.corpus_id = self.model_version_id = None
        self.viewer: str | None = None
        self.next_button = QPushButton(f"Next to review ({keymap.key_text('next_review')})")
        self.next_button.clicked.connect(self.next)
        layout = QVBoxLayout(self)
        layout.addWidget(self.mode)
        layout.addWidget(self.info)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.next_button)

    def set_viewer(self, viewer: str | None) -> None:
        """Another annotator looks: what the queue may show them changes at once."""
        if viewer != self.viewer:
            self.viewer = viewer
            self.reload(self.corpus_id, self.model_version_id)

    def reload(self, corpus_id: int | None, model_version_id: int | None) -> None:
        self.corpus_id, self.model_version_id = corpus_id, model_version_id
        if self.mode.currentData() == "traces":
            self._reload_traces(corpus_id, model_version_id)
            return
        self.table.setHorizontalHeaderLabels(["file", "start", "score", "model vs label", "audio vs text"])
        self.items = review_queue(self.store, corpus_id, model_version_id) if corpus_id and model_version_id else []
        sight = corpus_sight(self.store, self.viewer, corpus_id) if corpus_id else None
        if sight is not None and sight.blind:  # the score and the gap are the model's and others' judgements
            self.items = [it for it in self.items if sight.shows(it.segment_id)]
        self.position = -1
        names = {f.id: f.path.rsplit("/", 1)[-1] for f in self.store.corpora.files(corpus_id)} if corpus_id else {}
        self.table.setRowCount(len(self.items))
        for r, it in enumerate(self.items):
            values = [names.get(it.file_id, str(it.file_id)), format_time(it.start), f"{it.score:.2f}",
                      "-" if it.label_gap is None else f"{it.label_gap:.2f}", f"{it.modality_gap:.2f}"]
            for c, v in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(v))
        self.info.setText(f"{len(self.items)} segments, most in need of a human first "
                          "(uncertainty + audio/text disagreement + model/label gap)." if self.items else
                          "Analyze the corpus to fill the review queue.")

    def _reload_traces(self, corpus_id: int | None, model_version_id: int | None) -> None:
        self.items = trace_review(self.store, corpus_id, model_version_id) if corpus_id else []
        if corpus_id and corpus_sight(self.store, self.viewer, corpus_id).blind:
            self.items = []  # stretches where others' traces and the model part: blind viewers see none
        self.position = -1
        names = {f.id: f.path.rsplit("/", 1)[-1] for f in self.store.corpora.files(corpus_id)} if corpus_id else {}
        self.table.setHorizontalHeaderLabels(["file", "start", "score", "trace vs model", "vs annotators"])
        self.table.setRowCount(len(self.items))
        for r, it in enumerate(self.items):
            values = [names.get(it.file_id, str(it.file_id)), format_time(it.start), f"{it.score:.2f}",
                      "-" if it.model_gap is None else f"{it.model_gap:.2f} {it.dimension[0].upper()} {it.annotator}",
                      "-" if it.annotator_gap is None else f"{it.annotator_gap:.2f}"]
            for c, v in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(v))
        self.info.setText(f"{len(self.items)} traced stretches, where traces and the model part most first."
                          if self.items else "No traces in this corpus yet (T traces the chosen dimension).")

    def next(self) -> None:
        if self.items:
            self.choose((self.position + 1) % len(self.items))

    def choose(self, row: int) -> None:
        self.position = row
        self.table.selectRow(row)
        item = self.items[row]
        if isinstance(item, TraceReviewItem):
            self.span_chosen.emit(item.file_id, item.start, item.end)
        else:
            self.item_chosen.emit(item.file_id, item.segment_id)
