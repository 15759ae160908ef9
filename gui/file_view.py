"""One file: waveform overview, zoomable waveform detail, and one lane per dimension (A, V, D) on one time axis.

At full view three curves in one plot overlap into a tangle, so each dimension has its own lane (1-7, neutral
at 4) and the lanes share the detail's time axis, drawn once below the last lane in h:mm:ss. Every plot's left
axis has the same fixed width: linked pyqtgraph views align by pixel, so a wider axis on one plot would shift
its visible range (the first ~4% of the trajectories were hidden that way).

Waveforms come from the cached envelope pyramid: each range change slices only the visible bins of the level
that matches the plot's pixel width. Model lines are clipped to the view and mean-downsampled to about one
point per pixel; zoomed out past one window per pixel, a min-max band per pixel shows the spread the mean hides
(the level-of-detail summary). Labels are thick translucent bars (one `connect="pairs"` item per lane); the
drag handle of the selected segment is a thin dark dotted line with its value written on it, so the two never
look alike. Colours are Okabe-Ito (safe under deuteranopia and protanopia); the lane and its axis title are the
second cue, a compare model is dotted.

The view is a `TimeView`: it gets playhead and range from the view state through `show_time` only, and reports
what the user does (pan, zoom, click, drag-select, handle drag) as signals; it never moves the time itself.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QGraphicsItem, QLabel, QScrollBar, QVBoxLayout, QWidget

from emotrace.core.audio.envelope import EnvelopePyramid
from emotrace.core.timecode import format_time
from emotrace.core.vocab import DIMENSIONS, SCALE
from emotrace.core.workflows.annotation_jobs import Sight
from emotrace.gui import acoustic_lanes
from emotrace.gui.state.view_state import TimeState
from emotrace.gui.state.viewdata import FileData
from emotrace.gui.trust_shading import TrustShading

DIMS = DIMENSIONS
# Okabe & Ito (2008): vermillion, blue, bluish green stay apart under the common colour-vision deficiencies.
DIM_COLOURS = dict(zip(DIMS, ("#D55E00", "#0072B2", "#009E73")))
COMPARE_STYLE = Qt.PenStyle.DotLine
# Okabe-Ito's remaining colours (the dimensions have vermillion, blue and bluish green), then grey
SPEAKER_COLOURS = ("#E69F00", "#56B4E9", "#F0E442", "#999999", "#000000")
HANDLE_PEN = pg.mkPen("#222222", width=1, style=Qt.PenStyle.DashDotLine)
HANDLE_HOVER_PEN = pg.mkPen("#E69F00", width=3)
LEFT_AXIS_WIDTH = 62  # the same on every plot: linked views align by pixel
SCROLL_STEPS_PER_S = 10
MIN_BOUNDARY_PX = 8  # segment boundaries closer than this on average are hidden: they would cover the lanes


class TimeAxis(pg.AxisItem):
    """Seconds written as h:mm:ss(.f) at every zoom; never SI-prefixed ("ks" told nobody anything)."""

    def __init__(self, orientation: str = "bottom", **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values, scale, spacing) -> list[str]:  # noqa: N802 - pyqtgraph's name
        decimals = 0 if spacing >= 1 else 1 if spacing >= 0.1 else 2 if spacing >= 0.01 else 3
        return [format_time(v * scale, decimals) for v in values]


class SelectViewBox(pg.ViewBox):
    """The waveform detail: a left drag selects a time range (as in ELAN and Praat) instead of panning."""

    def __init__(self, on_select, **kwargs) -> None:
        super().__init__(**kwargs)
        self._on_select = on_select
        self._anchor: float | None = None

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 - Qt's name
        if ev.button() != Qt.MouseButton.LeftButton:
            return super().mouseDragEvent(ev, axis)
        ev.accept()
        x = float(self.mapSceneToView(ev.scenePos()).x())
        if ev.isStart():
            self._anchor = float(self.mapSceneToView(ev.buttonDownScenePos()).x())
        if self._anchor is not None:
            self._on_select(min(self._anchor, x), max(self._anchor, x), ev.isFinish())
        if ev.isFinish():
            self._anchor = None


class FileView(QWidget):
    seek_requested = Signal(float)
    segment_clicked = Signal(int)  # index into FileData's segments
    view_requested = Signal(float, float)  # the user panned, zoomed or scrolled
    range_selected = Signal(float, float)  # a finished drag-selection on the waveform
    handle_dragged = Signal(int, float)  # dimension index, value on 1-7
    speaker_menu_requested = Signal(float, object)  # time under the right click on the speaker lane, screen pos
    bounds_dragged = Signal(float, float)  # the selected segment's edges, dragged on the waveform

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=False, background="w", foreground="#333")
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.legend_label = QLabel("")  # outside the plots: a legend never covers data
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.hover_label = QLabel(" ")
        self.hover_label.setToolTip("Values under the mouse: each model's A/V/D and the current label")
        self.scrollbar = QScrollBar(Qt.Orientation.Horizontal)
        self.scrollbar.setToolTip("Scroll through the file (the view's width stays)")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(self.legend_label)
        layout.addWidget(self.layout_widget, 1)
        layout.addWidget(self.scrollbar)
        layout.addWidget(self.hover_label)
        lw = self.layout_widget
        self.overview = lw.addPlot(row=0, col=0, axisItems={"bottom": TimeAxis()})
        self.detail = lw.addPlot(row=1, col=0, viewBox=SelectViewBox(self._drag_select))
        # who speaks when: one row per speaker, names on the axis; right-click corrects a turn
        self.speaker_plot = lw.addPlot(row=2, col=0)
        self.lanes: dict[str, pg.PlotItem] = {}
        for i, dim in enumerate(DIMS):
            last = i == len(DIMS) - 1
            self.lanes[dim] = lw.addPlot(row=3 + acoustic_lanes.ROWS + i, col=0,
                                         axisItems={"bottom": TimeAxis()} if last else None)
        self.traj = self.lanes[DIMS[0]]  # the first lane (kept for callers that want "the trajectory plot")
        # spectrogram, F0 and loudness under the speakers (issue 26): gui/acoustic_lanes.py
        self.acoustic = acoustic_lanes.AcousticLanes(lw, 3, self.detail, LEFT_AXIS_WIDTH)
        stretch = (1, 2, 1, *acoustic_lanes.STRETCH, *([3] * len(DIMS)))
        for row, factor in enumerate(stretch):
            lw.ci.layout.setRowStretchFactor(row, factor)
        for plot in self.plots():
            axis = plot.getAxis("left")
            axis.setWidth(LEFT_AXIS_WIDTH)
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=True, y=False)
            plot.hideButtons()
        for plot in (self.overview, self.detail):
            plot.getAxis("left").setStyle(showValues=False)
            plot.getAxis("left").enableAutoSIPrefix(False)  # an unlabelled amplitude axis needs no "(x0.001)"
            plot.setYRange(-1, 1, padding=0.05)
            plot.addItem(pg.InfiniteLine(0.0, angle=0, pen=pg.mkPen("#7f8c8d")))  # silence draws as a line
        self.overview.getAxis("left").setLabel("file")
        self.detail.getAxis("left").setLabel("wave")
        self.detail.hideAxis("bottom")
        self.overview.setMouseEnabled(x=False, y=False)
        self.speaker_plot.setXLink(self.detail)
        self.speaker_plot.hideAxis("bottom")
        self.speaker_plot.getAxis("left").setLabel("who")
        self.speaker_plot.getAxis("left").enableAutoSIPrefix(False)  # names, not amounts: never "(x0.001)"
        self.speaker_plot.setYRange(-0.6, 0.6, padding=0)
        self.speaker_plot.setToolTip("Speaker turns (diarization, RTTM or your corrections). Right-click a turn to "
                                     "reassign, split, rename or merge; Jobs > Diarize speakers finds them.")
        self.speaker_bars: dict[str, pg.PlotDataItem] = {}
        self.trace_lines: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.speaker_filter: str | None = None  # draw only this speaker's windows (None: everyone's)
        # What the viewer may see: the one blind rule (core/workflows/annotation_jobs.py `Sight`), given by the
        # window for the open file and viewer; Sight() = nothing is blind.
        self.sight = Sight()
        self._last_models: list[int] = []  # the models asked for (model_ids: those of them with predictions here)
        self._trace_lod: dict[tuple[str, str], tuple] = {}
        for dim, plot in self.lanes.items():
            plot.setXLink(self.detail)
            plot.setYRange(SCALE.low, SCALE.high, padding=0.04)
            plot.getAxis("left").setLabel(dim.capitalize(), color=DIM_COLOURS[dim])
            plot.getAxis("left").setTicks([[(v, str(v)) for v in (1, 4, 7)], [(v, "") for v in range(2, 7)]])
            plot.addItem(pg.InfiniteLine(SCALE.neutral, angle=0, pen=pg.mkPen("#aaa", style=Qt.PenStyle.DotLine)))
            if dim != DIMS[-1]:
                plot.hideAxis("bottom")
        self.lanes[DIMS[-1]].setLabel("bottom", "time (h:mm:ss)")
        self.overview_curve = self.overview.plot(pen=pg.mkPen("#555"), connect="pairs")
        self.detail_curve = self.detail.plot(pen=pg.mkPen("#34495e"), connect="pairs")
        # The overview never changes while panning: paint it once into a pixmap, not on every frame.
        self.overview_curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.region = pg.LinearRegionItem(brush=(0, 114, 178, 50))
        self.region.setZValue(10)
        self.overview.addItem(self.region)
        self.time_selection = pg.LinearRegionItem(movable=True, brush=(230, 159, 0, 60))
        self.time_selection.setVisible(False)
        self.time_selection.setZValue(5)
        self.detail.addItem(self.time_selection)
        # The selected segment's edges on the waveform: drag one to resize the segment (its body does not move,
        # so a drag inside it still selects a range)
        self.segment_edges = pg.LinearRegionItem(brush=(0, 0, 0, 0), pen=pg.mkPen("#0072B2", width=2),
                                                 hoverPen=pg.mkPen("#E69F00", width=4))
        self.segment_edges.movable = False
        for line in self.segment_edges.lines:
            line.setToolTip("Drag to move this edge of the selected segment (I / O set it to the playhead)")
            line.sigPositionChangeFinished.connect(self._edges_dragged)
        self.segment_edges.setZValue(15)
        self.segment_edges.setVisible(False)
        self.detail.addItem(self.segment_edges)
        self.boundaries: dict[str, pg.PlotDataItem] = {}
        self.selections: dict[str, pg.LinearRegionItem] = {}
        self.label_bars: dict[str, pg.PlotDataItem] = {}
        self.superseded_bars: dict[str, pg.PlotDataItem] = {}  # labels of segments an edit replaced: kept, faint
        self.bands: dict[str, pg.FillBetweenItem] = {}
        self.handles: list[pg.InfiniteLine] = []
        for d_i, (dim, plot) in enumerate(self.lanes.items()):
            self.boundaries[dim] = plot.plot(pen=pg.mkPen(160, 160, 160, 110), connect="pairs")
            sel = pg.LinearRegionItem(movable=False, brush=(240, 228, 66, 45))
            sel.setVisible(False)
            plot.addItem(sel)
            self.selections[dim] = sel
            bar = pg.PlotDataItem(pen=pg.mkPen(DIM_COLOURS[dim], width=7), connect="pairs")
            bar.setOpacity(0.4)
            plot.addItem(bar)
            self.label_bars[dim] = bar
            old = pg.PlotDataItem(pen=pg.mkPen(DIM_COLOURS[dim], width=3, style=Qt.PenStyle.DashLine),
                                  connect="pairs")
            old.setOpacity(0.35)
            plot.addItem(old)
            self.superseded_bars[dim] = old
            handle = pg.InfiniteLine(SCALE.neutral, angle=0, movable=True, bounds=(SCALE.low, SCALE.high),
                                     pen=HANDLE_PEN, hoverPen=HANDLE_HOVER_PEN, label="drag {value:.2f}",
                                     labelOpts={"position": 0.93, "color": "#222", "fill": (255, 255, 255, 200)})
            handle.setZValue(20)
            handle.setVisible(False)
            handle.setToolTip(f"Drag to set the selected segment's {dim}; it is saved on release")
            handle.sigPositionChangeFinished.connect(lambda ln, i=d_i: self.handle_dragged.emit(i, ln.value()))
            plot.addItem(handle)
            self.handles.append(handle)
        self.playheads = [pg.InfiniteLine(0, pen=pg.mkPen("#CC79A7", width=2)) for _ in self.plots()]
        for plot, line in zip(self.plots(), self.playheads):
            line.setZValue(30)
            plot.addItem(line)
        self.pred_lines: dict[tuple[int, str], pg.PlotDataItem] = {}
        self.trust_shading = TrustShading(self.lanes)  # windows outside the model's training domain (issue 26)
        self.envelope: EnvelopePyramid | None = None
        self.data: FileData | None = None
        self.model_ids: list[int] = []
        self._state: TimeState | None = None
        self._applying = False  # a range change we make ourselves is not a user request
        self._selected: int | None = None  # the selected segment's index
        self.region.sigRegionChanged.connect(self._region_dragging)
        self.detail.sigXRangeChanged.connect(self._detail_range_changed)
        self.scrollbar.valueChanged.connect(self._scrolled)
        self.layout_widget.scene().sigMouseClicked.connect(self._clicked)
        self._hover_proxy = pg.SignalProxy(self.layout_widget.scene().sigMouseMoved, rateLimit=30,
                                           slot=self._hovered)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        QTimer.singleShot(0, self.fit_titles)  # after the plots have their new heights
        QTimer.singleShot(0, self._update_bands)

    def fit_titles(self) -> None:
        """A lane too low for its full title ("Dominance" beside "Valence" ran together at 1024x700) gets its
        initial; the tooltip keeps the name (issue 24, item 8)."""
        for dim, plot in self.lanes.items():
            axis = plot.getAxis("left")
            room = plot.getViewBox().height() if plot.getViewBox().height() > 0 else plot.height()
            need = QFontMetrics(axis.label.font()).horizontalAdvance(dim.capitalize())
            title = dim.capitalize() if room >= need + 8 else dim[0].upper()
            if axis.labelText != title:
                axis.setLabel(title, color=DIM_COLOURS[dim])
                axis.setToolTip(dim.capitalize())

    def plots(self) -> list[pg.PlotItem]:
        return [self.overview, self.detail, self.speaker_plot, *self.lanes.values()]

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
        for plot in (self.detail, self.speaker_plot, *self.lanes.values()):
            plot.setLimits(xMin=0, xMax=duration)
        self.region.setBounds((0, duration))
        if self.speaker_filter not in data.speakers:
            self.speaker_filter = None
        self.set_speakers()
        self.acoustic.show_file(data)
        self.set_traces()
        self.set_trajectories(model_ids)
        self.set_labels()
        self.set_segments()
        self._update_bands()
        self.scrollbar.setRange(0, int(duration * SCROLL_STEPS_PER_S))
        self.time_selection.setVisible(False)
        self.select_segment(None)
        self._state = None
        # The new file's waveform now: pyqtgraph emits no range change when the next file's first view equals
        # this one's (0-30 s both), and the detail lane kept drawing the previous file's audio (issue 24, item 5)
        self._draw_detail(*self.view_range())

    def set_trajectories(self, model_ids: list[int]) -> None:
        """The shown models' lines; a model without predictions on this file draws nothing and is left out of
        the legend (so the legend never promises curves that are not there)."""
        self._last_models = list(model_ids)
        for (_mv, dim), item in self.pred_lines.items():
            self.lanes[dim].removeItem(item)
        for dim, band in self.bands.items():
            self.lanes[dim].removeItem(band)
        self.pred_lines.clear()
        self.bands.clear()
        self.model_ids = []
        self.trust_shading.show(np.zeros((0, 2)), 0, 0)
        if self.data is None:
            self._update_legend()
            return
        for k, mv in enumerate(model_ids):
            t, values = self.data.trajectories.get(mv, (np.zeros(0), np.zeros((0, 3))))
            if not len(t):
                continue
            if self.speaker_filter is not None:  # one speaker's trajectory: the others' windows are gaps
                values = np.where(self.data.speaker_mask(t, self.speaker_filter)[:, None], values, np.nan)
            if self.sight.blind:  # blind: no model values where the viewer has not judged yet
                values = np.where(self._model_mask(t)[:, None], values, np.nan)
            self.model_ids.append(mv)
            for d_i, dim in enumerate(DIMS):
                pen = pg.mkPen(DIM_COLOURS[dim], width=2 if k == 0 else 1.5,
                               style=Qt.PenStyle.SolidLine if k == 0 else COMPARE_STYLE)
                plot = self.lanes[dim]
                # about one point per pixel: pyqtgraph's default lets 5 points per pixel through
                item = plot.plot(t, values[:, d_i], pen=pen, autoDownsampleFactor=1.0,
                                 connect="finite")  # a flagged window (NaN) is a gap, not a value
                if len(t) < 60:  # a short file has a handful of windows: show them as points too
                    item.setSymbol("o")
                    item.setSymbolSize(6)
                    item.setSymbolBrush(DIM_COLOURS[dim])
                    item.setSymbolPen(None)
                item.setClipToView(True)  # after it is in a view box: pyqtgraph needs the view to clip
                item.setDownsampling(auto=True, method="mean")
                self.pred_lines[(mv, dim)] = item
                if k == 0 and d_i == 0 and not self.sight.blind:  # blind: the model's verdicts stay hidden too
                    self.trust_shading.show(*self.data.outside(mv))
                if k == 0 and len(t) >= 2000:
                    self.bands[dim] = self._band(plot, t, values[:, d_i], DIM_COLOURS[dim])
        self._update_legend()
        self._update_bands()

    def _model_mask(self, times: np.ndarray) -> np.ndarray:
        return self.sight.model_mask(times, self.data.seg_bounds, self.data.seg_ids)

    def set_sight(self, sight: Sight) -> None:
        """What the viewer may see changed (another viewer, a label saved): redraw the model and the bars."""
        self.sight = sight
        if self.data is not None:
            self.set_trajectories(list(self._last_models))
            self.set_labels()

    def set_speakers(self) -> None:
        """Turns as bars, one row per speaker (names on the axis), in a palette apart from the A/V/D colours."""
        for item in self.speaker_bars.values():
            self.speaker_plot.removeItem(item)
        self.speaker_bars.clear()
        turns = self.data.turns if self.data is not None else []
        speakers = self.data.speakers if self.data is not None else []
        for row, name in enumerate(speakers):
            xs = np.array([[t.start, t.end] for t in turns if t.speaker == name]).reshape(-1)
            colour = SPEAKER_COLOURS[row % len(SPEAKER_COLOURS)]
            item = self.speaker_plot.plot(xs, np.full(len(xs), -row, dtype=float), connect="pairs",
                                          pen=pg.mkPen(colour, width=9))
            self.speaker_bars[name] = item
        axis = self.speaker_plot.getAxis("left")
        axis.setTicks([[(-row, name[:10]) for row, name in enumerate(speakers)]])
        self.speaker_plot.setYRange(-max(0, len(speakers) - 1) - 0.6, 0.6, padding=0)

    def set_traces(self) -> None:
        """Each annotator's trace in its dimension's lane beside the model's line: black (the model's line has
        the dimension's colour), solid for the first annotator and dashed for the next."""
        for (_ann, dim), item in self.trace_lines.items():
            self.lanes[dim].removeItem(item)
        self.trace_lines.clear()
        if self.data is None:
            return
        self._trace_lod = {}
        for k, ((annotator, dim), (t, v)) in enumerate(sorted(self.data.traces.items())):
            style = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine)[k % 2]
            item = self.lanes[dim].plot(t, v, pen=pg.mkPen("#000000", width=1.5, style=style), connect="finite")
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="mean")
            self.trace_lines[(annotator, dim)] = item
            # Level of detail: a 3-hour trace at 10 Hz is 108k points; zoomed out, 1 s or 10 s means (what a pixel
            # can show anyway) are drawn instead of re-downsampling 108k points on every frame.
            levels = [(t, v)]
            for factor in (10, 100):
                n = len(t) // factor * factor
                if n >= 2000:
                    levels.append((t[:n].reshape(-1, factor).mean(1), v[:n].reshape(-1, factor).mean(1)))
            self._trace_lod[(annotator, dim)] = (levels, 0)
        self._update_trace_lod()

    def _update_trace_lod(self) -> None:
        lod = self._trace_lod
        if not lod:
            return
        lo, hi = self.view_range()
        pixels = max(200, int(self.traj.getViewBox().width()))
        for key, (levels, shown) in lod.items():
            t = levels[0][0]
            visible = int(np.searchsorted(t, hi) - np.searchsorted(t, lo))
            want = 0
            while want + 1 < len(levels) and visible / (10 ** want) > 4 * pixels:
                want += 1  # each level holds a tenth of the points of the one before
            if want != shown:
                self.trace_lines[key].setData(*levels[want])
                lod[key] = (levels, want)

    def set_speaker_filter(self, speaker: str | None) -> None:
        if speaker == self.speaker_filter:
            return  # the lines already show this speaker (opening a file drew them once)
        self.speaker_filter = speaker
        self.set_trajectories(list(self._last_models))

    def _band(self, plot: pg.PlotItem, t: np.ndarray, v: np.ndarray, colour: str) -> pg.FillBetweenItem:
        """Min-max of the model line over ~2000 bins: what a zoomed-out mean line cannot show."""
        bins = 2000
        edges = np.linspace(0, len(t), bins + 1).astype(int)
        lo = np.array([np.nanmin(v[a:b]) if b > a and np.isfinite(v[a:b]).any() else np.nan
                       for a, b in zip(edges[:-1], edges[1:])])
        hi = np.array([np.nanmax(v[a:b]) if b > a and np.isfinite(v[a:b]).any() else np.nan
                       for a, b in zip(edges[:-1], edges[1:])])
        x = t[np.minimum(edges[:-1], len(t) - 1)]
        ok = np.isfinite(lo) & np.isfinite(hi)
        colour_q = pg.mkColor(colour)
        colour_q.setAlpha(55)
        band = pg.FillBetweenItem(pg.PlotDataItem(x[ok], lo[ok]), pg.PlotDataItem(x[ok], hi[ok]), brush=colour_q)
        band.setZValue(-5)
        plot.addItem(band)
        return band

    def _update_bands(self) -> None:
        """Level of detail. The min-max band shows when a pixel holds more than one window (zoomed out).
        Segment boundaries show while they are at least MIN_BOUNDARY_PX apart on average: denser, they are a
        grey wash that costs most of a zoomed-out frame and tells nothing (the labels' bars still show the
        segments; at 4 px, 189 segments of a 20-minute file still covered the whole-file view: issue 24)."""
        if self.data is None:
            return
        self._update_trace_lod()
        lo, hi = self.view_range()
        pixels = max(200, int(self.traj.getViewBox().width()))
        starts = self.data.seg_bounds[:, 0]
        dense = int(np.searchsorted(starts, hi) - np.searchsorted(starts, lo)) > pixels / MIN_BOUNDARY_PX
        for item in self.boundaries.values():
            item.setVisible(not dense)
        if not self.bands or not self.model_ids:
            return
        t = self.data.trajectories[self.model_ids[0]][0]
        n = int(np.searchsorted(t, hi) - np.searchsorted(t, lo))
        show = n > pixels
        for band in self.bands.values():
            band.setVisible(show)

    def _update_legend(self) -> None:
        parts = []
        for k, mv in enumerate(self.model_ids):
            parts.append(f"<b>{'—' if k == 0 else '···'}</b> v{mv} {'model' if k == 0 else 'compare'}")
        parts.append("<span style='color:#999'>▬</span> label (current)")
        if self.data is not None and not self.data.seg_live.all():
            parts.append("<span style='color:#bbb'>- -</span> label of a superseded segment (kept)")
        if self.trace_lines:
            parts.append("<b>—</b> (black) trace: " + ", ".join(sorted({a for a, _d in self.trace_lines})))
        if self.speaker_filter:
            parts.append(f"only {self.speaker_filter}'s windows")
        parts.append("<b>-·-</b> drag handle (selected segment)")
        if self.bands:
            parts.append("▒ min-max band when zoomed out")
        if self.trust_shading.legend():
            parts.append(self.trust_shading.legend())
        self.legend_entries = [f"v{mv}" for mv in self.model_ids]
        self.legend_label.setText("&nbsp;&nbsp;&nbsp;".join(parts))

    def set_segments(self) -> None:
        """Segment boundaries as one item per lane (10k segments cost 3 items)."""
        if self.data is None:
            return
        bx = np.repeat(self.data.seg_bounds.reshape(-1), 2)
        by = np.tile([SCALE.low, SCALE.high], len(bx) // 2)
        for item in self.boundaries.values():
            item.setData(bx, by)

    def set_labels(self) -> None:
        """Each segment's current label (the store's rule) as a thick bar in its dimension's lane; a superseded
        segment's (split, merged, resized or re-transcribed away, kept for its labels) as a faint dashed one."""
        data = self.data
        if data is None:
            return
        shown = []  # each segment's value once (the rule is not cheap), then a bar per dimension
        for (start, end), sid, live in zip(data.seg_bounds, data.seg_ids, data.seg_live):
            if not self.sight.shows(int(sid)):
                continue  # blind: not until the annotator's own label is saved
            row = data.segment_label(int(sid))
            if row is not None:
                shown.append((start, end, bool(live), row))
        for d_i, dim in enumerate(DIMS):
            bars: dict[bool, tuple[list, list]] = {True: ([], []), False: ([], [])}
            for start, end, live, row in shown:
                if row.values[d_i] is not None:
                    xs, ys = bars[live]
                    xs += [start, end]
                    ys += [row.values[d_i]] * 2
            self.label_bars[dim].setData(*bars[True])
            self.superseded_bars[dim].setData(*bars[False])

    def set_handles(self, values: tuple[float, ...] | None) -> None:
        """The drag handles show the editor's values (they follow typing, keys, undo and redo)."""
        for i, handle in enumerate(self.handles):
            # no blockSignals: the handle's value label listens to sigPositionChanged; a save listens only to
            # sigPositionChangeFinished, which a mouse drag emits and setValue does not
            handle.setVisible(values is not None)  # first: a hidden handle's label ignores value changes
            if values is not None:
                handle.setValue(float(values[i]))
                handle.label.valueChanged()

    def select_segment(self, index: int | None) -> None:
        """Mark the selected segment in every lane; moving the view is the view state's business."""
        show = self.data is not None and index is not None and 0 <= index < len(self.data.seg_ids)
        for sel in (*self.selections.values(), self.segment_edges):
            if show:
                sel.setRegion(tuple(float(x) for x in self.data.seg_bounds[index]))
            sel.setVisible(show)
        self._selected = index if show else None

    def _edges_dragged(self, _line=None) -> None:
        """A user drag of an edge (setRegion never emits the lines' finished signal)."""
        lo, hi = sorted(float(x) for x in self.segment_edges.getRegion())
        if self.data is not None and self._selected is not None:
            old = self.data.seg_bounds[self._selected]
            if abs(lo - old[0]) > 1e-3 or abs(hi - old[1]) > 1e-3:
                self.bounds_dragged.emit(max(0.0, lo), min(hi, self.data.duration))

    def show_time_selection(self, rng: tuple[float, float] | None) -> None:
        if rng is not None:
            self.time_selection.setRegion(rng)
        self.time_selection.setVisible(rng is not None)

    def time_selection_range(self) -> tuple[float, float] | None:
        return tuple(self.time_selection.getRegion()) if self.time_selection.isVisible() else None

    # -- time (the TimeView protocol) -------------------------------------------------------------
    def show_time(self, state: TimeState) -> None:
        old = self._state
        self._state = state
        if old is None or old.playhead != state.playhead:
            for line in self.playheads:
                line.setValue(state.playhead)
            self.acoustic.show_playhead(state.playhead)
        if old is None or old.view != state.view:
            lo, hi = state.view
            if hi > lo:
                self._applying = True
                try:
                    self.detail.setXRange(lo, hi, padding=0)
                finally:
                    self._applying = False
            self.scrollbar.blockSignals(True)
            self.scrollbar.setPageStep(max(1, int((hi - lo) * SCROLL_STEPS_PER_S)))
            self.scrollbar.setMaximum(max(0, int((state.duration - (hi - lo)) * SCROLL_STEPS_PER_S)))
            self.scrollbar.setValue(int(lo * SCROLL_STEPS_PER_S))
            self.scrollbar.blockSignals(False)

    def view_range(self) -> tuple[float, float]:
        return tuple(self.detail.viewRange()[0])

    # Kept for scripts and the bench: they ask the view; the window routes these through the view state.
    def set_view(self, start: float, end: float) -> None:
        self.view_requested.emit(float(start), float(end))

    def zoom(self, factor: float, center: float | None = None) -> None:
        lo, hi = self.view_range()
        c = (lo + hi) / 2 if center is None else center
        half = max((hi - lo) * factor / 2, 0.025)
        self.view_requested.emit(c - half, c + half)

    # -- user input -----------------------------------------------------------------------------
    def _draw_detail(self, lo: float, hi: float) -> None:
        if self.envelope is not None:
            width = max(200, int(self.detail.getViewBox().width()))
            x, y = self.envelope.view(max(0.0, lo), hi, width)
            self.detail_curve.setData(x, y)

    def _detail_range_changed(self, _plot, rng) -> None:
        lo, hi = rng
        self._draw_detail(lo, hi)
        self.region.blockSignals(True)
        self.region.setRegion((lo, hi))
        self.region.blockSignals(False)
        self._update_bands()
        self.acoustic.show_range(lo, hi)
        if not self._applying:  # a mouse pan or wheel zoom in a lane: tell the view state
            self.view_requested.emit(float(lo), float(hi))

    def _region_dragging(self) -> None:
        lo, hi = self.region.getRegion()
        self.view_requested.emit(float(lo), float(hi))

    def _scrolled(self, value: int) -> None:
        lo, hi = self.view_range()
        start = value / SCROLL_STEPS_PER_S
        self.view_requested.emit(start, start + (hi - lo))

    def _drag_select(self, lo: float, hi: float, finished: bool) -> None:
        self.show_time_selection((lo, hi))
        if finished and hi - lo > 0.01:
            self.range_selected.emit(lo, hi)

    def _clicked(self, event) -> None:
        if self.data is None:
            return
        if event.button() == Qt.MouseButton.RightButton:
            if self.speaker_plot.sceneBoundingRect().contains(event.scenePos()):
                t = float(self.speaker_plot.getViewBox().mapSceneToView(event.scenePos()).x())
                self.speaker_menu_requested.emit(t, event.screenPos().toPoint())
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        for plot in (*self.lanes.values(), self.detail, self.overview, *self.acoustic.plots.values()):
            if plot.sceneBoundingRect().contains(event.scenePos()):
                t = float(plot.getViewBox().mapSceneToView(event.scenePos()).x())
                t = min(max(t, 0.0), self.data.duration)
                self.seek_requested.emit(t)
                seg = self.data.segment_at(t)
                if seg is not None and plot in self.lanes.values():
                    self.segment_clicked.emit(seg)
                return

    def values_at(self, t: float) -> str:
        """The hover text: time, each shown model's A/V/D nearest t, and the label of the segment under t."""
        data = self.data
        if data is None:
            return " "
        parts = [format_time(t, 2)]
        turn = data.turn_at(t)
        if turn is not None:
            parts.append(data.turns[turn].speaker)
        seg = data.segment_at(t)
        hidden = seg is not None and not self.sight.shows(int(data.seg_ids[seg]))
        model_hidden = self.sight.blind and not bool(self._model_mask(np.array([t]))[0])
        for mv in [] if model_hidden else self.model_ids:
            times, values = data.trajectories[mv]
            if len(times):
                i = int(np.clip(np.searchsorted(times, t), 0, len(times) - 1))
                parts.append(f"v{mv}: " + " ".join(f"{d[0].upper()} {v:.2f}" for d, v in zip(DIMS, values[i])))
        if seg is not None and hidden:
            parts.append(f"{data.segment_name(seg)}: blind (save your label to see the model and the others)")
        elif seg is not None:
            row = data.segment_label(int(data.seg_ids[seg]))
            parts.append(f"{data.segment_name(seg)}: " + (" ".join(
                f"{d[0].upper()} {'-' if v is None else f'{v:.2f}'}" for d, v in zip(DIMS, row.values))
                if row is not None else "no label"))
        return "   ".join(parts)

    def _hovered(self, args) -> None:
        pos = args[0]
        for plot in (*self.lanes.values(), self.detail, self.speaker_plot):
            if plot.sceneBoundingRect().contains(pos):
                self.hover_label.setText(self.values_at(float(plot.getViewBox().mapSceneToView(pos).x())))
                return
