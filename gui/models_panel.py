"""Model versions with parent, date, data counts and metrics; activate and roll back."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import UserFacingError
from core.store import Store
from training.registry import activate, rollback

COLUMNS = ["", "version", "parent", "created", "train n", "A", "V", "D", "mode"]


class ModelsPanel(QWidget):
    activated = Signal(int)

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        activate = QPushButton("Activate")
        back = QPushButton("Roll back")
        activate.clicked.connect(self.activate_selected)
        back.clicked.connect(self.roll_back)
        buttons = QHBoxLayout()
        buttons.addWidget(activate)
        buttons.addWidget(back)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.ids: list[int] = []
        self.reload()

    def reload(self) -> None:
        versions = list(reversed(self.store.model_versions()))
        self.ids = [mv.id for mv in versions]
        self.table.setRowCount(len(versions))
        for r, mv in enumerate(versions):
            ccc = (mv.metrics or {}).get("ccc", {})
            values = ["●" if mv.active else "", f"v{mv.id} {mv.name}", f"v{mv.parent_id}" if mv.parent_id else "-",
                      f"{mv.created_at:%Y-%m-%d %H:%M}", str((mv.data_counts or {}).get("train", "-")),
                      *(f"{ccc[d]:.3f}" if d in ccc else "-" for d in ("arousal", "valence", "dominance")),
                      str((mv.metrics or {}).get("mode", ""))]
            for c, v in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(v))
        self.table.resizeColumnsToContents()

    def activate_selected(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.ids):
            try:
                activate(self.store, self.ids[row])  # a broken folder is refused, never made active
            except UserFacingError as exc:
                QMessageBox.warning(self, "Activate", str(exc))
                return
            self.reload()
            self.activated.emit(self.ids[row])

    def roll_back(self) -> None:
        try:
            mv = rollback(self.store)
        except (ValueError, UserFacingError) as exc:
            QMessageBox.information(self, "Roll back", str(exc))
            return
        self.reload()
        self.activated.emit(mv.id)
