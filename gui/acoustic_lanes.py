"""The acoustic lanes of the file view: a mel spectrogram, F0 in semitones and loudness, on the lanes' time axis.

They show what affective-computing researchers check a model against (Praat, NOVA and Label Studio show a
spectrogram; F0 and loudness are eGeMAPS's first descriptors). The lanes are computed once per file off the GUI
thread (`core/audio/acoustic_tracks.py`: one decode, cached on disk, memory-mapped) and drawn from the level
of detail that gives about one frame per pixel, so a frame costs the same on a 3-hour file as on a 10 s one.

The spectrogram is in dB over the file's top 80 dB, coloured with viridis (perceptually uniform and readable
under the common colour-vision deficiencies, and in greyscale). F0 is in semitones above 27.5 Hz (eGeMAPS's
unit: 12 st is an octave), unvoiced frames are gaps; loudness is openSMILE's (sones).

The lanes live in the file view's plot layout, x-linked to the waveform detail; the file view forwards the
visible range and the playhead it gets through `show_time`. Each lane is toggled by a checkable action (the
View menu) and its visibility is remembered in the app's settings.
"""

from __future__ import annotations

import threading

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, QSettings, Signal
from PySide6.QtGui import QAction

from emotrace.core.audio.acoustic_tracks import N_MELS, AcousticTracks, load, tracks_for
from emotrace.gui.state.viewdata import FileData

LANES = {"spectrogram": "Spectrogram lane", "f0_st": "Pitch lane, F0", "loudness": "Loudness lane"}
ROWS = len(LANES)
STRETCH = (2, 1, 1)  # the spectrogram needs more height than a line
TOP_DB = 80.0
TRACK_COLOURS = {"f0_st": "#CC79A7", "loudness": "#555555"}  # Okabe-Ito reddish purple (apart from A/V/D), grey


class _Build:
    """Build (or load) one file's cache off the GUI thread: a daemon Python thread (a QThread still running when
    its owner is destroyed aborts the app; quitting mid-build must not), reporting through a queued signal."""

    def __init__(self, path: str, fingerprint: str, report: Signal) -> None:
        self.path, self.fingerprint, self._report = path, fingerprint, report
        self._stop = False
        self.thread = threading.Thread(target=self._run, name=f"acoustic-lanes-{fingerprint[:8]}", daemon=True)

    def cancel(self) -> None:
        self._stop = True

    def _check(self) -> None:
        if self._stop:
            raise InterruptedError("acoustic lanes: another file was opened")

    def _run(self) -> None:
        try:
            result = tracks_for(self.path, self.fingerprint, cancel=self._check)
        except InterruptedError:
            return
        except Exception as exc:  # noqa: BLE001 - any failure is shown in the lane, never a crash of the app
            result = f"{type(exc).__name__}: {exc}"
        try:
            self._report.emit(self.fingerprint, result)
        except RuntimeError:  # the view was closed meanwhile
            pass


class AcousticLanes(QObject):
    """Three plots in the file view's layout (rows `first_row` onward), x-linked to `link`."""

    ready = Signal()  # a file's lanes were loaded (tests and the bench wait for it)
    _built = Signal(str, object)  # from the build thread: fingerprint, AcousticTracks or an error message

    def __init__(self, layout: pg.GraphicsLayoutWidget, first_row: int, link: pg.PlotItem, axis_width: int) -> None:
        super().__init__()
        self.tracks: AcousticTracks | None = None
        self.fingerprint: str | None = None
        self._build: _Build | None = None
        self._data: FileData | None = None
        self._built.connect(self._loaded)
        self._range: tuple[float, float] | None = None
        self.plots: dict[str, pg.PlotItem] = {}
        self._layout, self._first_row = layout, first_row
        for k, name in enumerate(LANES):
            plot = layout.addPlot(row=first_row + k, col=0)
            layout.ci.layout.setRowStretchFactor(first_row + k, STRETCH[k])
            plot.setXLink(link)
            plot.hideAxis("bottom")
            plot.getAxis("left").setWidth(axis_width)
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=True, y=False)
            plot.hideButtons()
            self.plots[name] = plot
        spec = self.plots["spectrogram"]
        spec.getAxis("left").setLabel("mel")
        spec.getAxis("left").setTicks([[(0, "0"), (N_MELS / 2, ""), (N_MELS, "8k")]])
        spec.setYRange(0, N_MELS, padding=0)
        spec.setToolTip("Mel spectrogram (64 bands to 8 kHz, dB over the file's top 80 dB, viridis colours)")
        self.image = pg.ImageItem(axisOrder="col-major")  # [frames, bands]: x is time, y the mel band
        self.image.setColorMap(pg.colormap.get("viridis"))
        spec.addItem(self.image)
        self.curves: dict[str, pg.PlotDataItem] = {}
        for name, label, tip in (("f0_st", "F0 st", "Pitch: F0 in semitones above 27.5 Hz (12 st = an octave); "
                                                    "gaps are unvoiced"),
                                 ("loudness", "loud", "Loudness (openSMILE, sones)")):
            plot = self.plots[name]
            plot.getAxis("left").setLabel(label)
            plot.setToolTip(tip)
            curve = plot.plot(pen=pg.mkPen(TRACK_COLOURS[name], width=1.5), connect="finite")
            self.curves[name] = curve
        self.plots["f0_st"].setYRange(24, 60, padding=0)  # ~110 Hz-880 Hz: most speaking voices
        self.note = pg.TextItem("", color="#555", anchor=(0, 0))
        spec.addItem(self.note, ignoreBounds=True)
        self.playheads = []
        for plot in self.plots.values():
            line = pg.InfiniteLine(0, pen=pg.mkPen("#CC79A7", width=2))
            line.setZValue(30)
            plot.addItem(line)
            self.playheads.append(line)
        settings = QSettings()
        self.actions: list[QAction] = []
        for name, text in LANES.items():
            action = QAction(text)
            action.setCheckable(True)
            action.setChecked(settings.value(f"lanes/{name}", False, type=bool))  # off until asked for: see above
            action.toggled.connect(lambda on, n=name: self.set_visible(n, on))
            self.actions.append(action)
            self._show_plot(name, action.isChecked())

    # -- what is shown ------------------------------------------------------------------------------
    def any_visible(self) -> bool:
        return any(a.isChecked() for a in self.actions)

    def _show_plot(self, name: str, visible: bool) -> None:
        """A hidden item keeps its row in a QGraphicsGridLayout: a hidden lane also gets no height and no stretch."""
        plot = self.plots[name]
        plot.setVisible(visible)
        plot.setMaximumHeight(1e6 if visible else 0)
        plot.setMinimumHeight(0)
        self._layout.ci.layout.setRowStretchFactor(self._first_row + list(LANES).index(name),
                                                   STRETCH[list(LANES).index(name)] if visible else 0)

    def set_visible(self, name: str, visible: bool) -> None:
        self._show_plot(name, visible)
        QSettings().setValue(f"lanes/{name}", visible)
        if visible and self.tracks is None and self._data is not None and self._build is None:
            self._start(self._data)
        elif visible and self._range is not None:
            self.show_range(*self._range)

    def show_file(self, data: FileData) -> None:
        """Show the cached lanes at once, else start computing them if a lane is on (the lanes say so meanwhile)."""
        if self._build is not None:
            self._build.cancel()
            self._build = None
        self._data = data
        self.tracks, self.fingerprint = None, data.fingerprint
        self.image.clear()
        for curve in self.curves.values():
            curve.setData([], [])
        self._say("")
        for plot in self.plots.values():
            plot.setLimits(xMin=0, xMax=max(data.duration, 1e-3))
        cached = load(data.fingerprint)
        if cached is not None:
            self._loaded(data.fingerprint, cached)
            return
        if self.any_visible():
            self._start(data)

    def _start(self, data: FileData) -> None:
        self._say("computing the spectrogram, pitch and loudness...")
        self._build = _Build(data.path, data.fingerprint, self._built)
        self._build.thread.start()

    def _say(self, text: str) -> None:
        self.note.setText(text)
        lo = self._range[0] if self._range else 0.0
        self.note.setPos(lo, N_MELS)

    def _loaded(self, fingerprint: str, result) -> None:
        if fingerprint != self.fingerprint:
            return  # a file opened before this one
        self._build = None
        if isinstance(result, str):
            self._say(f"acoustic lanes unavailable: {result}")
            return
        self.tracks = result
        top = float(np.nanmax(np.asarray(result.mel[-1], dtype=np.float32))) if len(result.mel[-1]) else 0.0
        self.image.setLevels((top - TOP_DB, top))
        loud = np.asarray(result.tracks["loudness"][-1])
        peak = float(np.nanmax(loud)) if np.isfinite(loud).any() else 1.0
        self.plots["loudness"].setYRange(0, max(peak, 0.1) * 1.05, padding=0)
        self._say("" if result.has_tracks else "pitch and loudness need openSMILE: pip install 'emotrace[acoustics]'")
        if self._range is not None:
            self.show_range(*self._range)
        self.ready.emit()

    def show_range(self, lo: float, hi: float) -> None:
        """Slice the visible range from the level that gives about one frame per pixel."""
        self._range = (lo, hi)
        tracks = self.tracks
        if tracks is None or hi <= lo:
            return
        pixels = max(200, int(self.plots["spectrogram"].getViewBox().width()))
        if self.plots["spectrogram"].isVisible():
            img, t0, t1 = tracks.spectrogram(max(0.0, lo), hi, pixels)
            if len(img):
                self.image.setImage(img, autoLevels=False)
                self.image.setRect(QRectF(t0, 0.0, t1 - t0, float(N_MELS)))
        for name, curve in self.curves.items():
            if self.plots[name].isVisible():
                curve.setData(*tracks.track(name, max(0.0, lo), hi, pixels))
        if self.note.toPlainText():
            self.note.setPos(lo, N_MELS)

    def show_playhead(self, t: float) -> None:
        for line in self.playheads:
            line.setValue(t)
