"""Model versions with parent, date, data counts and metrics; activate and roll back; the selected version's
layer plot (its learnt per-dimension softmax layer weights, and per-layer probe CCC when it was recorded)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
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

from emotrace.core.errors import UserFacingError
from emotrace.core.store import Store
from emotrace.training.registry import activate, rollback

COLUMNS = ["", "version", "parent", "created", "train n", "A", "V", "D", "mode"]
DIMS = ("arousal", "valence", "dominance")
COLOURS = {"arousal": "#d62728", "valence": "#1f77b4", "dominance": "#2ca02c"}


class LayerPlot(pg.PlotWidget):
    """Bars: a version's softmax layer weights per dimension; lines: per-layer probe CCC on its dev split."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.setMinimumHeight(150)
        self.setLabel("bottom", "hidden state (0 = embeddings)")
        self.addLegend(offset=(5, 5), labelTextSize="7pt")
        self.bars: list[pg.BarGraphItem] = []
        self.lines: list[pg.PlotDataItem] = []

    def show_version(self, metrics: dict | None) -> None:
        self.clear()
        metrics = metrics or {}
        weights = metrics.get("layer_weights") or []
        probe = metrics.get("layer_probe_ccc") or []
        self.bars, self.lines = [], []
        if weights and len(weights[0]) > 1:
            n, width = len(weights[0]), 0.8 / len(DIMS)
            for i, d in enumerate(DIMS):
                bar = pg.BarGraphItem(x=[k + (i - 1) * width for k in range(n)], height=weights[i], width=width,
                                      brush=COLOURS[d], pen=None, name=f"{d[0].upper()} weight")
                self.addItem(bar)
                self.bars.append(bar)
            self.addItem(pg.InfiniteLine(1.0 / n, angle=0, pen=pg.mkPen("#999", style=Qt.PenStyle.DashLine)))
        for d in DIMS:
            if probe:
                self.lines.append(self.plot(list(range(len(probe))), [p[d] for p in probe],
                                            pen=pg.mkPen(COLOURS[d], width=2), symbol="o", symbolSize=5,
                                            symbolBrush=COLOURS[d], name=f"{d[0].upper()} probe CCC"))
        self.setTitle("layer weights (bars) and probe CCC (lines)" if weights or probe
                      else "no layer weights stored for this version", size="8pt")


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
        back = self.back_button = QPushButton("Roll back")
        activate.clicked.connect(self.activate_selected)
        back.clicked.connect(self.roll_back)
        buttons = QHBoxLayout()
        buttons.addWidget(activate)
        buttons.addWidget(back)
        self.layer_plot = LayerPlot()
        self.table.itemSelectionChanged.connect(self._show_selected)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.layer_plot, 1)
        layout.addLayout(buttons)
        self.ids: list[int] = []
        self.metrics: dict[int, dict | None] = {}
        self.active_row = -1
        self.reload()

    def reload(self) -> None:
        versions = list(reversed(self.store.models.model_versions()))
        self.ids = [mv.id for mv in versions]
        self.metrics = {mv.id: mv.metrics for mv in versions}
        self.active_row = next((r for r, mv in enumerate(versions) if mv.active), 0 if versions else -1)
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
        self._show_selected()

    def _show_selected(self) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self.ids):
            row = self.active_row
        self.layer_plot.show_version(self.metrics[self.ids[row]] if row >= 0 else None)

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
        """Make the active model's parent active again, after the user confirmed it (the views switch models)."""
        active = self.store.models.active_model()
        if active is not None and active.parent_id is not None:
            parent = self.store.models.model_version(active.parent_id)
            answer = QMessageBox.question(
                self, "Roll back",
                f"Make v{parent.id} {parent.name} (the parent) the active model instead of v{active.id} "
                f"{active.name}?\n\nNothing is deleted: v{active.id} stays in the list and can be activated again.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        try:
            mv = rollback(self.store)
        except (ValueError, UserFacingError) as exc:
            QMessageBox.information(self, "Roll back", str(exc))
            return
        self.reload()
        self.activated.emit(mv.id)
