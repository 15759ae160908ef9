"""The per-annotator view: for one dimension, each annotator's labels of the open file as a lane of coloured
spans (1-7, blue low to red high), the consensus lanes highlighted, with the model's trajectory above on the
same time axis. A dock beside the file view; it follows the open file, the viewer (Settings) and the store's
label events. What a blind viewer may see is the one rule, core/workflows/annotation_jobs.py `Sight`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from emotrace.core.store import Store
from emotrace.core.vocab import DIMENSIONS, SCALE
from emotrace.core.workflows.annotation_jobs import file_sight
from emotrace.gui.bridge import StoreBridge
from emotrace.gui.file_view import TimeAxis
from emotrace.gui.state.annotator_lanes import annotator_lanes
from emotrace.gui.state.view_state import TimeState

CONSENSUS_BRUSH = (255, 215, 90, 150)


def value_colour(value: float) -> tuple[int, int, int]:
    """1 -> blue, 4 -> grey, 7 -> red."""
    t = float(SCALE.to_signed(value))
    grey = np.array([150, 150, 150])
    end = np.array([192, 57, 43]) if t > 0 else np.array([41, 128, 185])
    return tuple(int(x) for x in grey + abs(t) * (end - grey))


def legend_html() -> str:
    """What the colours mean, drawn with the colours themselves (the dock had none)."""
    swatch = '<span style="background-color: rgb{}; color: rgb{}">&nbsp;&nbsp;&nbsp;&nbsp;</span>'
    stops = " ".join(f"{swatch.format(value_colour(v), value_colour(v))}&nbsp;{v}" for v in (1, 2.5, 4, 5.5, 7))
    band = swatch.format(CONSENSUS_BRUSH[:3], CONSENSUS_BRUSH[:3])
    return f"value: {stops} (1 low, 4 neutral, 7 high) &nbsp;&nbsp; {band}&nbsp;consensus (*)"


class AnnotatorLanes(QWidget):
    """A TimeView: its time axis follows the file view's (pans and zooms both ways)."""

    view_requested = Signal(float, float)  # a pan or zoom the user made here

    def __init__(self, store: Store, viewer: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.viewer = store, viewer
        self.file_id: int | None = None
        self.model_version_id: int | None = None
        self.dimension = QComboBox()
        self.dimension.addItems(list(DIMENSIONS))
        self.dimension.currentIndexChanged.connect(self.redraw)
        top = QHBoxLayout()
        top.addWidget(QLabel("Dimension:"))
        top.addWidget(self.dimension)
        self.legend = QLabel(legend_html())
        # one line that narrows without setting the dock's least width (a wrapped legend took the lanes' height)
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.legend.setToolTip("Each annotator's value of the chosen dimension, segment by segment; the consensus "
                               "lanes come first, highlighted")
        top.addWidget(self.legend, 1)
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.setBackground("w")
        self.model_plot = self.layout_widget.addPlot(row=0, col=0)
        self.model_plot.hideAxis("bottom")  # one time axis, under the lanes
        self.model_plot.setMaximumHeight(70)
        self.model_plot.setYRange(SCALE.low, SCALE.high)
        self.model_plot.setLabel("left", "model")
        self.lanes_plot = self.layout_widget.addPlot(row=1, col=0, axisItems={"bottom": TimeAxis()})
        self.lanes_plot.setXLink(self.model_plot)
        self.lanes_plot.invertY(True)
        self.lanes_plot.setLabel("bottom", "time (h:mm:ss)")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.layout_widget)
        self._view: tuple[float, float] | None = None
        self._applying = False
        self.lanes_plot.sigXRangeChanged.connect(self._range_changed)
        self.lanes = []
        self.model_times = self.model_values = np.zeros(0)  # the model line as drawn (NaN where blind to the viewer)
        self.bridge = StoreBridge(store, self)  # store events may come from a job's thread: redraw on this one
        self.bridge.changed.connect(self._store_changed)

    def _store_changed(self, what: str, info: dict) -> None:
        if what not in ("label_added", "labels_changed", "consensus_changed") or self.file_id is None:
            return
        if info.get("file_id", self.file_id) == self.file_id:  # another file's import does not concern this one
            self.redraw()

    def show_time(self, state: TimeState) -> None:
        """The file view's range, so a lane lines up with the waveform above it."""
        if state.view == self._view or state.view[1] <= state.view[0]:
            return
        self._view = state.view
        self._applying = True
        try:
            self.lanes_plot.setXRange(*state.view, padding=0)
        finally:
            self._applying = False

    def _range_changed(self, _plot, rng) -> None:
        if not self._applying and self.file_id is not None:
            self.view_requested.emit(float(rng[0]), float(rng[1]))

    def set_viewer(self, viewer: str | None) -> None:
        """Another annotator looks: redraw at once with what they may see."""
        if viewer != self.viewer:
            self.viewer = viewer
            self.redraw()

    def show_file(self, file_id: int | None, model_version_id: int | None = None) -> None:
        self.file_id, self.model_version_id = file_id, model_version_id
        self.redraw()

    def redraw(self) -> None:
        self.model_plot.clear()
        self.lanes_plot.clear()
        self.lanes = []
        if self.file_id is None:
            return
        dim = self.dimension.currentText()
        sight = file_sight(self.store, self.viewer, self.file_id)
        self.model_times = self.model_values = np.zeros(0)
        if self.model_version_id is not None:
            t, values = self.store.predictions.trajectory(self.file_id, self.model_version_id)
            if len(t):
                values = values[:, DIMENSIONS.index(dim)]
                if sight.blind:  # no model values where the viewer has not judged yet
                    segs = self.store.segments.segments(self.file_id)
                    keep = sight.model_mask(t, np.array([(s.start, s.end) for s in segs]), [s.id for s in segs])
                    values = np.where(keep, values, np.nan)
                self.model_times, self.model_values = t, values
                self.model_plot.plot(t, values, pen=pg.mkPen("#2c3e50", width=1.5), connect="finite")
        self.lanes = annotator_lanes(self.store, self.file_id, dim, viewer=self.viewer, sight=sight)
        ticks = []
        for row, lane in enumerate(self.lanes):
            if lane.consensus:
                end = max((e for _s, e, _v in lane.spans), default=0.0)
                band = pg.LinearRegionItem((row - 0.45, row + 0.45), orientation="horizontal", movable=False,
                                           brush=pg.mkBrush(*CONSENSUS_BRUSH), pen=pg.mkPen(None))
                band.setZValue(-10)
                self.lanes_plot.addItem(band)
            by_colour: dict[tuple[int, int, int], list[float]] = {}  # one item per colour, not per span:
            for start, end, value in lane.spans:  # 600 spans cost 1.4 s as 600 items on a 3-hour file
                by_colour.setdefault(value_colour(value), []).extend((start, end))
            for colour, xs in by_colour.items():
                self.lanes_plot.plot(xs, [row] * len(xs), connect="pairs",
                                     pen=pg.mkPen(colour, width=6 if lane.consensus else 4))
            mark = " *" if lane.consensus else (" (accepted)" if lane.kind == "model_assisted" else "")
            ticks.append((row, f"{lane.annotator}{mark}"))
        self.lanes_plot.getAxis("left").setTicks([ticks])
        self.lanes_plot.disableAutoRange()
        self._applying = True
        try:
            lo, hi = self._view or (0.0, self.store.corpora.file(self.file_id).duration or 1.0)
            self.lanes_plot.setXRange(lo, hi, padding=0)
        finally:
            self._applying = False
        self.lanes_plot.setYRange(-0.6, max(len(self.lanes), 1) - 0.4)
