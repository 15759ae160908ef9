"""The review queue as a table; 'Next to review' walks it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractItemView, QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from core.review import ReviewItem, review_queue
from core.store import Store


class ReviewPanel(QWidget):
    item_chosen = Signal(int, int)  # file id, segment id

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
        self.next_button = QPushButton("Next to review (R)")
        self.next_button.clicked.connect(self.next)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.next_button)

    def reload(self, corpus_id: int | None, model_version_id: int | None) -> None:
        self.items = review_queue(self.store, corpus_id, model_version_id) if corpus_id and model_version_id else []
        self.position = -1
        names = {f.id: f.path.rsplit("/", 1)[-1] for f in self.store.files(corpus_id)} if corpus_id else {}
        self.table.setRowCount(len(self.items))
        for r, it in enumerate(self.items):
            values = [names.get(it.file_id, str(it.file_id)), f"{it.start:.1f}", f"{it.score:.2f}",
                      "-" if it.label_gap is None else f"{it.label_gap:.2f}", f"{it.modality_gap:.2f}"]
            for c, v in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(v))
        self.info.setText(f"{len(self.items)} segments, most in need of a human first "
                          "(uncertainty + audio/text disagreement + model/label gap)." if self.items else
                          "Analyze the corpus to fill the review queue.")

    def next(self) -> None:
        if self.items:
            self.choose((self.position + 1) % len(self.items))

    def choose(self, row: int) -> None:
        self.position = row
        self.table.selectRow(row)
        item = self.items[row]
        self.item_chosen.emit(item.file_id, item.segment_id)
