"""Trace mode: continuous annotation of one dimension while the audio plays (CARMA's and NOVA's live mode).

T starts and stops a pass. While it runs, the value comes from the mouse's height in the chosen dimension's
lane, from Up/Down (a configurable step) or from the keys 1-7. Samples are taken on the audio clock, not the
event loop's: each tick reads the player's position and emits every grid time `k / rate` passed since the last
one, so a late tick still yields exact, evenly spaced sample times. Every second of audio is committed to the
store as one chunk (a killed app loses at most that second). Rewinding during a pass closes it and starts a
new one there: the newest pass wins where it re-traced; earlier passes stay.

Model-assisted: with "start from model", the value follows the shown model's trajectory until the annotator
takes over (any mouse move in the lane or key); a second without input hands control back. Only the stretches
the annotator controlled are stored, so what was left untouched stays the model's.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from emotrace.core.stats.traces import trace_agreement
from emotrace.core.vocab import DIMENSIONS, SCALE
from emotrace.gui.shortcuts import assign
from emotrace.gui.state import keymap
from emotrace.gui.state.viewdata import load_traces

CHUNK_SECONDS = 1.0
HAND_BACK_SECONDS = 1.0


def _value_keys() -> str:
    """The keys that set the traced value, as the keymap names them ("Up / Down or 1-7")."""
    return f"{keymap.key_text('up')} / {keymap.key_text('down')} or {keymap.key_text('set_value')}"


class TraceControls:
    def __init__(self, window) -> None:
        self.window = window
        self.trace_id: int | None = None
        self.rate = 10.0
        self.value = SCALE.neutral
        self.buffer: list[tuple[float, float]] = []
        self.next_index = 0  # the next sample time is next_index / rate
        self.last_input = -math.inf  # audio time of the annotator's last input (model-assisted mode)
        self.live_t: list[float] = []
        self.live_v: list[float] = []
        self.act_trace = assign(QAction("Trace", window, triggered=self.toggle), "trace")
        self.act_trace.setCheckable(True)
        self.act_trace.setToolTip("Trace the chosen dimension while the audio plays: mouse height in its lane, "
                                  f"{_value_keys()} set the value; {keymap.key_text('trace')} stops")
        window.addAction(self.act_trace)
        self.dimension = QComboBox()
        for dim in DIMENSIONS:
            self.dimension.addItem(dim, dim)
        self.dimension.setToolTip("The dimension traced")
        self.rate_box = QDoubleSpinBox()
        self.rate_box.setRange(1, 50)
        self.rate_box.setValue(10)
        self.rate_box.setSuffix(" Hz")
        self.rate_box.setToolTip("Samples per second of audio (CARMA uses 10-30, NOVA's live mode 25)")
        self.step_box = QDoubleSpinBox()
        self.step_box.setRange(0.05, 1.0)
        self.step_box.setSingleStep(0.05)
        self.step_box.setValue(0.25)
        self.step_box.setToolTip(f"How far {keymap.key_text('up')} / {keymap.key_text('down')} move the value "
                                 "while tracing")
        self.assisted = QCheckBox("start from model")
        self.assisted.setToolTip("Follow the shown model's trajectory until you take over; only your changes "
                                 "are stored as your trace")
        tb = window.addToolBar("Trace")
        tb.setObjectName("toolbar-trace")
        tb.addAction(self.act_trace)
        for widget in (self.dimension, self.rate_box, QLabel(" step "), self.step_box, self.assisted):
            tb.addWidget(widget)
        window.jobs_menu.addAction(self.act_trace)
        self.act_agreement = QAction("Trace agreement...", window, triggered=self.show_agreement)
        self.act_agreement.setToolTip("CCC between annotators' traces and against the model, at lag 0 and at the "
                                      "lag (0-4 s) that maximises it, per file and for the corpus")
        window.jobs_menu.addAction(self.act_agreement)
        self.timer = QTimer(window)
        self.timer.setInterval(20)  # 50 Hz of ticks; samples come from the audio clock, not from these
        self.timer.timeout.connect(self.tick)
        window.file_view.layout_widget.scene().sigMouseMoved.connect(self._mouse_moved)

    @property
    def active(self) -> bool:
        return self.trace_id is not None

    @property
    def dim(self) -> str:
        return self.dimension.currentData()

    # -- starting and stopping ------------------------------------------------------------------------
    def toggle(self) -> None:
        if self.active:
            self.stop()
        else:
            self.start()

    def start(self) -> bool:
        w = self.window
        if w.data is None:
            w.statusBar().showMessage("Open a file to trace it", 5000)
            self.act_trace.setChecked(False)
            return False
        annotator = w.editor.annotator
        if not annotator:
            w.statusBar().showMessage("Set your annotator name (Settings) before tracing", 8000)
            self.act_trace.setChecked(False)
            return False
        self.rate = float(self.rate_box.value())
        self._open_pass(w.player.position())
        self.act_trace.setChecked(True)
        if not w.player.playing:
            w.toggle_play()
        self.timer.start()
        w.statusBar().showMessage(f"Tracing {self.dim} at {self.rate:g} Hz: move the mouse in its lane, "
                                  f"{_value_keys()}; {keymap.key_text('trace')} stops", 8000)
        return True

    def _open_pass(self, at: float) -> None:
        w = self.window
        model = w.shown_models[0] if (self.assisted.isChecked() and w.shown_models) else None
        self.trace_id = w.store.traces.start_trace(w.data.file_id, annotator=w.editor.annotator, dimension=self.dim,
                                                   rate=self.rate, assisted_by=model)
        self.next_index = math.ceil(at * self.rate - 1e-9)
        self.buffer, self.live_t, self.live_v = [], [], []
        self.last_input = -math.inf
        model_value = self._model_value(at)
        if model_value is not None:
            self.value = model_value

    def stop(self) -> None:
        if not self.active:
            return
        self.tick()
        self.flush()
        self.timer.stop()
        self.trace_id = None
        self.act_trace.setChecked(False)
        w = self.window
        if w.player.playing:
            w.toggle_play()
        if w.data is not None:
            w.data.traces = load_traces(w.store, w.data.file_id)
            w.file_view.set_traces()
        w.statusBar().showMessage("Trace saved", 5000)

    def show_agreement(self) -> None:
        w = self.window
        corpus_id = w.browser.corpus_id()
        rows = trace_agreement(w.store, corpus_id) if corpus_id else []
        dialog = QDialog(w)
        dialog.setWindowTitle("Agreement of traces (CCC; annotators trail the audio, so also at the best lag)")
        columns = ["file", "dimension", "reference", "other", "n", "ccc", "icc21", "best_lag", "ccc_at_best_lag"]
        table = QTableWidget(len(rows), len(columns))
        table.setHorizontalHeaderLabels(["file", "dim.", "reference", "other", "points", "CCC (lag 0)",
                                         "ICC(2,1) (lag 0)", "best lag (s)", "CCC at best lag"])
        for r, row in enumerate(rows):
            for c, key in enumerate(columns):
                table.setItem(r, c, QTableWidgetItem("-" if row.get(key) is None else str(row[key])))
        layout = QVBoxLayout(dialog)
        layout.addWidget(QLabel(f"{len(rows)} comparisons" if rows else "No two traces of one dimension overlap "
                                "in this corpus yet."))
        layout.addWidget(table)
        dialog.resize(820, 360)
        dialog.show()
        self.agreement_dialog = dialog
        self.agreement_rows = rows

    # -- input ------------------------------------------------------------------------------------------
    def set_value(self, value: float) -> None:
        self.value = float(min(SCALE.high, max(SCALE.low, value)))
        self.last_input = self.window.player.position()

    def nudge(self, direction: int) -> None:
        self.set_value(self.value + direction * self.step_box.value())

    def _mouse_moved(self, pos) -> None:
        if not self.active:
            return
        lane = self.window.file_view.lanes[self.dim]
        if lane.sceneBoundingRect().contains(pos):
            self.set_value(float(lane.getViewBox().mapSceneToView(pos).y()))

    def _model_value(self, t: float) -> float | None:
        w = self.window
        if not self.assisted.isChecked() or not w.shown_models or w.data is None:
            return None
        times, values = w.data.trajectories.get(w.shown_models[0], (np.zeros(0), None))
        if not len(times):
            return None
        i = int(np.clip(np.searchsorted(times, t), 0, len(times) - 1))
        v = values[i, DIMENSIONS.index(self.dim)]
        return float(v) if np.isfinite(v) else None

    # -- sampling on the audio clock ------------------------------------------------------------------
    def tick(self) -> None:
        if not self.active:
            return
        now = self.window.player.position()
        if now < (self.next_index - 1) / self.rate - 0.5 / self.rate:  # rewound: a new pass from here
            self.flush()
            self._open_pass(now)
            return
        assisted = self.assisted.isChecked()
        while self.next_index / self.rate <= now + 1e-9:
            t = self.next_index / self.rate
            self.next_index += 1
            if assisted and t - self.last_input > HAND_BACK_SECONDS:
                model_value = self._model_value(t)  # the model's stretch: not stored as the annotator's
                if model_value is not None:
                    self.value = model_value
                continue
            self.buffer.append((round(t, 6), self.value))
            self.live_t.append(t)
            self.live_v.append(self.value)
        if self.buffer and self.buffer[-1][0] - self.buffer[0][0] >= CHUNK_SECONDS - 1e-9:
            self.flush()
        self._draw_live()

    def flush(self) -> None:
        """Commit what was traced since the last chunk."""
        if self.trace_id is None or not self.buffer:
            return
        times, values = zip(*self.buffer)
        self.window.store.traces.append_trace(self.trace_id, times, values)
        self.buffer = []

    def _draw_live(self) -> None:
        fv = self.window.file_view
        key = ("(tracing)", self.dim)
        line = fv.trace_lines.get(key)
        if line is None:
            line = fv.lanes[self.dim].plot(pen=pg.mkPen("#000000", width=2.5), connect="finite")
            fv.trace_lines[key] = line
        line.setData(np.asarray(self.live_t), np.asarray(self.live_v))
