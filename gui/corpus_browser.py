"""Corpora and their files with counts; filter by name, speaker or split; sort by any column."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QHeaderView, QLineEdit, QTableView, QVBoxLayout, QWidget

from emotrace.core.store import Store
from emotrace.core.timecode import format_time
from emotrace.gui.state.viewdata import corpus_table

COLUMNS = ["file", "duration", "segments", "transcribed", "analyzed", "labelled", "speaker", "split", "status"]
# Short headers so the table fits a narrow dock; the full meaning is the header's tooltip.
HEADERS = {"duration": ("len", "duration of the file"), "segments": ("segs", "segments in the file"),
           "transcribed": ("ASR", "transcribed (words with timestamps)"),
           "analyzed": ("A/V/D", "analysed by the shown model (stale: segments changed since; Jobs > Analyze)"),
           "labelled": ("lab.", "segments with a current label"), "speaker": ("spk", "speaker")}


def _duration(seconds: float) -> str:
    """Short files in seconds as researchers list clips, long ones in h:mm:ss."""
    return f"{seconds:.1f} s" if seconds < 600 else format_time(seconds, 0)


class CorpusBrowser(QWidget):
    file_selected = Signal(int)
    corpus_changed = Signal(int)

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.model_version_id: int | None = None
        self.corpus_box = QComboBox()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name, speaker or split")
        self.table = QTableView()
        self.model = QStandardItemModel(0, len(COLUMNS))
        for c, name in enumerate(COLUMNS):
            short, tip = HEADERS.get(name, (name, name))
            header = QStandardItem(short)
            header.setToolTip(tip)
            self.model.setHorizontalHeaderItem(c, header)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # long names keep their distinctive end
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.corpus_box)
        layout.addWidget(self.filter)
        layout.addWidget(self.table)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.corpus_box.currentIndexChanged.connect(self._corpus_picked)
        self.table.selectionModel().currentRowChanged.connect(self._row_picked)
        self.reload_corpora()

    # -- data -----------------------------------------------------------------------------------
    def corpus_id(self) -> int | None:
        return self.corpus_box.currentData()

    def corpus_name(self) -> str | None:
        return self.corpus_box.currentText() or None

    def reload_corpora(self, select: str | None = None) -> None:
        current = select or self.corpus_box.currentText()
        self.corpus_box.blockSignals(True)
        self.corpus_box.clear()
        for c in self.store.corpora.corpora():
            self.corpus_box.addItem(c.name, c.id)
        index = max(0, self.corpus_box.findText(current)) if current else 0
        self.corpus_box.setCurrentIndex(index)
        self.corpus_box.blockSignals(False)
        self.reload_files()
        if self.corpus_id() is not None:
            self.corpus_changed.emit(self.corpus_id())

    def reload_files(self) -> None:
        selected = self.selected_file_id()
        self.model.removeRows(0, self.model.rowCount())
        corpus_id = self.corpus_id()
        if corpus_id is None:
            return
        for row in corpus_table(self.store, corpus_id, self.model_version_id):
            self.model.appendRow(self._items(row))
        self.table.resizeColumnsToContents()
        self.fit_columns()
        if selected is not None:  # the same file stays selected without being opened again
            blocker = QSignalBlocker(self.table.selectionModel())
            self.select_file(selected)
            del blocker

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.fit_columns()

    def fit_columns(self) -> None:
        """The name column gives way (its middle elided) so len, segs, ASR and A/V/D stay in view in a narrow
        dock (at 1024x700 the A/V/D column was cut off; issue 24, item 8)."""
        header = self.table.horizontalHeader()
        metrics = header.fontMetrics()
        for c in range(1, COLUMNS.index("analyzed") + 1):  # as narrow as their header and values allow
            text = self.model.horizontalHeaderItem(c).text()
            self.table.setColumnWidth(c, max(metrics.horizontalAdvance(text) + 14, self.table.sizeHintForColumn(c)))
        keep = sum(self.table.columnWidth(c) for c in range(1, COLUMNS.index("analyzed") + 1))
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        room = self.table.viewport().width() - keep - 2
        self.table.setColumnWidth(0, max(56, min(room, self.table.sizeHintForColumn(0) + 12)))

    def _items(self, row: dict) -> list[QStandardItem]:
        name = row["path"].rsplit("/", 1)[-1]
        analyzed = ("stale" if row.get("stale") else "yes") if row["analyzed"] else ""
        values = [name, _duration(row["duration"]), str(row["segments"]), "yes" if row["transcribed"] else "",
                  analyzed, str(row["labelled"]), row["speaker"], row["split"],
                  row["status"] if row["status"] == "ok" else f"error: {row['error']}"]
        sort_keys = [name, row["duration"], row["segments"], int(row["transcribed"]), int(row["analyzed"]),
                     row["labelled"], row["speaker"], row["split"], row["status"]]
        items = []
        for value, key in zip(values, sort_keys):
            item = QStandardItem(value)
            item.setData(key, Qt.ItemDataRole.UserRole)
            item.setData(row["id"], Qt.ItemDataRole.UserRole + 1)
            item.setToolTip(row["path"] if row["status"] == "ok" else f"{row['path']}\n{row['error']}")
            if row["status"] != "ok":
                item.setForeground(QBrush(QColor("#c0392b")))
            items.append(item)
        return items

    # -- selection ------------------------------------------------------------------------------
    def selected_file_id(self) -> int | None:
        index = self.table.currentIndex()
        return index.data(Qt.ItemDataRole.UserRole + 1) if index.isValid() else None

    def select_file(self, file_id: int) -> bool:
        for r in range(self.proxy.rowCount()):
            index = self.proxy.index(r, 0)
            if index.data(Qt.ItemDataRole.UserRole + 1) == file_id:
                self.table.setCurrentIndex(index)
                return True
        return False

    def select_row(self, row: int) -> None:
        if 0 <= row < self.proxy.rowCount():
            self.table.setCurrentIndex(self.proxy.index(row, 0))

    def step_file(self, step: int) -> bool:
        """Up/Down while the file list has the focus: the previous or next file (the window's Up/Down step
        segments everywhere else). False at either end."""
        row = self.table.currentIndex().row() + step
        if not 0 <= row < self.proxy.rowCount():
            return False
        self.table.setCurrentIndex(self.proxy.index(row, 0))
        return True

    def select_next_file(self) -> bool:
        """The next row in the table's order (Save & next past a file's last segment); False at the end."""
        row = self.table.currentIndex().row()
        if row + 1 >= self.proxy.rowCount():
            return False
        self.table.setCurrentIndex(self.proxy.index(row + 1, 0))
        return True

    def _row_picked(self, current, _previous) -> None:
        file_id = current.data(Qt.ItemDataRole.UserRole + 1) if current.isValid() else None
        if file_id is not None:
            self.file_selected.emit(int(file_id))

    def _corpus_picked(self, _index: int) -> None:
        self.reload_files()
        if self.corpus_id() is not None:
            self.corpus_changed.emit(self.corpus_id())
