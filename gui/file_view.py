"""One file: waveform overview + zoomable detail + A/V/D trajectories, x axes linked, a shared playhead.

Waveforms come from the cached envelope pyramid: each range change slices only the visible bins of the level
that matches the plot's pixel width. Trajectories are plain lines with clip-to-view; labels are drawn as one
`connect="pairs"` item per dimension, segment boundaries as one item too, so 10k segments cost 4 items.
Trajectories are mean-downsampled to about one point per pixel when zoomed out (a trend reads better than a
min/max zig-zag, and it draws in a third of the time).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from core.envelope import EnvelopePyramid
from core.viewdata import FileData
from core.vocab import DIMENSIONS

DIMS = DIMENSIONS
DIM_COLOURS = dict(zip(DIMS, ("#e74c3c", "#2e86de", "#27ae60")))
COMPARE_STYLE = Qt.PenStyle.DashLine


class FileView(QWidget):
    seek_requested = Signal(float)
    segment_clicked = Signal(int)  # index into FileData's segments

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=False, background="w", foreground="#333")
        self.layout_widget = pg.GraphicsLayoutWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.layout_widget)
        lw = self.layout_widget
        self.overview = lw.addPlot(row=0, col=0)
        self.detail = lw.addPlot(row=1, col=0)
        self.traj = lw.addPlot(row=2, col=0)
        lw.ci.layout.setRowStretchFactor(0, 1)
        lw.ci.layout.setRowStretchFactor(1, 2)
        lw.ci.layout.setRowStretchFactor(2, 4)
        for plot in (self.overview, self.detail):
            plot.hideAxis("left")
            plot.setMouseEnabled(x=True, y=False)
            plot.setYRange(-1, 1, padding=0.05)
        self.detail.hideAxis("bottom")  # linked to the trajectory plot's time axis: drawn once, below it
        self.overview.setMouseEnabled(x=False, y=False)
        self.overview.setMenuEnabled(False)
        self.detail.setXLink(self.traj)
        self.traj.setYRange(1, 7, padding=0.02)
        self.traj.setMouseEnabled(x=True, y=False)
        self.traj.setLabel("left", "A / V / D (1-7)")
        self.traj.setLabel("bottom", "time", units="s")
        self.traj.addLegend(offset=(5, 5), colCount=3, brush=(255, 255, 255, 200))
        self.traj.addItem(pg.InfiniteLine(4.0, angle=0, pen=pg.mkPen("#999", style=Qt.PenStyle.DotLine)))
        for plot in (self.overview, self.detail):  # silence draws as a line, not as nothing
            plot.addItem(pg.InfiniteLine(0.0, angle=0, pen=pg.mkPen("#7f8c8d")))
        self.overview_curve = self.overview.plot(pen=pg.mkPen("#555"), connect="pairs")
        self.detail_curve = self.detail.plot(pen=pg.mkPen("#34495e"), connect="pairs")
        # The overview never changes while panning: paint it once into a pixmap, not on every frame.
        self.overview_curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.region = pg.LinearRegionItem(brush=(52, 152, 219, 50))
        self.region.setZValue(10)
        self.overview.addItem(self.region)
        self.boundaries = pg.PlotDataItem(pen=pg.mkPen(180, 180, 180, 120), connect="pairs")
        self.traj.addItem(self.boundaries)
        self.pred_lines: dict[tuple[int, str], pg.PlotDataItem] = {}
        self.label_bars = {d: pg.PlotDataItem(pen=pg.mkPen(DIM_COLOURS[d], width=5), connect="pairs", name=f"{d} label")
                           for d in DIMS}
        for item in self.label_bars.values():
            item.setOpacity(0.45)
            self.traj.addItem(item)
        self.selection = pg.LinearRegionItem(movable=False, brush=(241, 196, 15, 60))
        self.selection.setVisible(False)
        self.traj.addItem(self.selection)
        self.playheads = [pg.InfiniteLine(0, pen=pg.mkPen("#d35400", width=2)) for _ in range(3)]
        for plot, line in zip((self.overview, self.detail, self.traj), self.playheads):
            plot.addItem(line)
        self.envelope: EnvelopePyramid | None = None
        self.data: FileData | None = None
        self.region.sigRegionChanged.connect(self._region_moved)
        self.detail.sigXRangeChanged.connect(self._detail_range_changed)
        for plot in (self.overview, self.detail, self.traj):
            plot.scene().sigMouseClicked.connect(self._clicked)

    # -- content --------------------------------------------------------------------------------
    def show_file(self, data: FileData, envelope: EnvelopePyramid, model_ids: list[int]) -> None:
        self.data, self.envelope = data, envelope
        duration = max(data.duration, envelope.duration, 1e-3)
        x, y = envelope.view(0, duration, 2000)
        self.overview_curve.setData(x, y)
        coarse_min, coarse_max = envelope.levels[-1]
        peak = float(max(np.abs(coarse_min).max(), np.abs(coarse_max).max(), 1e-3))
        for plot in (self.overview, self.detail):  # quiet recordings fill the height too
            plot.setYRange(-peak, peak, padding=0.05)
        self.overview.setXRange(0, duration, padding=0)
        self.traj.setLimits(xMin=0, xMax=duration)
        self.detail.setLimits(xMin=0, xMax=duration)
        self.set_trajectories(model_ids)
        self.set_labels()
        b = data.seg_bounds
        bx = np.repeat(b.reshape(-1), 2)
        by = np.tile([1.0, 7.0], len(bx) // 2)
        self.boundaries.setData(bx, by)
        self.region.setBounds((0, duration))
        self.set_view(0, min(duration, 30.0))
        self.set_playhead(0.0)
        self.selection.setVisible(False)

    def set_trajectories(self, model_ids: list[int]) -> None:
        for item in self.pred_lines.values():
            self.traj.removeItem(item)
        legend = self.traj.legend
        legend.clear()
        self.pred_lines.clear()
        if self.data is None:
            return
        for k, mv in enumerate(model_ids):
            t, values = self.data.trajectories.get(mv, (np.zeros(0), np.zeros((0, 3))))
            for d_i, dim in enumerate(DIMS):
                pen = pg.mkPen(DIM_COLOURS[dim], width=2, style=Qt.PenStyle.SolidLine if k == 0 else COMPARE_STYLE)
                # about one (min, max) pair per pixel: pyqtgraph's default lets 5 points per pixel through
                item = self.traj.plot(t, values[:, d_i] if len(values) else [], pen=pen, autoDownsampleFactor=1.0,
                                      connect="finite",  # a flagged window (NaN) is a gap, not a value
                                      name=f"{dim} (v{mv})")
                if len(t) < 60:  # a short file has a handful of windows: show them as points too
                    item.setSymbol("o")
                    item.setSymbolSize(7)
                    item.setSymbolBrush(DIM_COLOURS[dim])
                    item.setSymbolPen(None)
                item.setClipToView(True)  # after it is in a view box: pyqtgraph needs the view to clip
                item.setDownsampling(auto=True, method="mean")
                self.pred_lines[(mv, dim)] = item
        for dim in DIMS:
            legend.addItem(self.label_bars[dim], f"{dim} label")

    def set_labels(self) -> None:
        """Each segment's current label (the store's rule) as a horizontal bar per dimension."""
        data = self.data
        if data is None:
            return
        for d_i, dim in enumerate(DIMS):
            xs, ys = [], []
            for (start, end), sid in zip(data.seg_bounds, data.seg_ids):
                row = data.segment_label(int(sid))
                if row is not None and row.values[d_i] is not None:
                    xs += [start, end]
                    ys += [row.values[d_i]] * 2
            self.label_bars[dim].setData(xs, ys)

    # -- view -----------------------------------------------------------------------------------
    def set_view(self, start: float, end: float) -> None:
        self.detail.setXRange(start, end, padding=0)

    def view_range(self) -> tuple[float, float]:
        return tuple(self.detail.viewRange()[0])

    def zoom(self, factor: float, center: float | None = None) -> None:
        lo, hi = self.view_range()
        c = (lo + hi) / 2 if center is None else center
        half = max((hi - lo) * factor / 2, 0.05)
        self.set_view(c - half, c + half)

    def set_playhead(self, seconds: float) -> None:
        for line in self.playheads:
            line.setValue(seconds)

    def select_segment(self, index: int | None) -> None:
        if self.data is None or index is None:
            self.selection.setVisible(False)
            return
        start, end = self.data.seg_bounds[index]
        self.selection.setRegion((start, end))
        self.selection.setVisible(True)
        lo, hi = self.view_range()
        if start < lo or end > hi:
            width = max(hi - lo, (end - start) * 1.5)
            self.set_view(max(0.0, start - 0.1 * width), max(0.0, start - 0.1 * width) + width)

    def _detail_range_changed(self, _plot, rng) -> None:
        lo, hi = rng
        if self.envelope is not None:
            width = max(200, int(self.detail.getViewBox().width()))
            x, y = self.envelope.view(max(0.0, lo), hi, width)
            self.detail_curve.setData(x, y)
        self.region.blockSignals(True)
        self.region.setRegion((lo, hi))
        self.region.blockSignals(False)

    def _region_moved(self) -> None:
        lo, hi = self.region.getRegion()
        self.set_view(lo, hi)

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.data is None:
            return
        for plot in (self.traj, self.detail, self.overview):
            if plot.sceneBoundingRect().contains(event.scenePos()):
                t = float(plot.getViewBox().mapSceneToView(event.scenePos()).x())
                t = min(max(t, 0.0), self.data.duration)
                self.seek_requested.emit(t)
                seg = self.data.segment_at(t)
                if seg is not None and plot is self.traj:
                    self.segment_clicked.emit(seg)
                return
