"""The transport bar: play/pause, the time as h:mm:ss.mmm, loop the selection, playback speed, follow playhead.

A `TimeView` like the plots: it shows the view state's time and only emits what the user asked for.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QToolButton, QWidget

from emotrace.core.timecode import format_time
from emotrace.gui.state import keymap
from emotrace.gui.state.view_state import TimeState

SPEEDS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


class TransportBar(QWidget):
    play_toggled = Signal()
    speed_changed = Signal(float)
    follow_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play_button = QToolButton()
        self.play_button.setText("▶ Play")
        self.play_button.setToolTip(f"Play / pause ({keymap.key_text('play_pause')})")
        self.play_button.clicked.connect(self.play_toggled)
        self.time_label = QLabel(format_time(0.0))
        self.time_label.setToolTip("Playhead / file length (h:mm:ss.mmm)")
        self.view_label = QLabel("")
        self.view_label.setToolTip("The stretch in view (zoom: + / -, Z: zoom to the selection, 0: whole file)")
        self.loop = QCheckBox(f"Loop selection ({keymap.key_text('loop')})")
        self.loop.setToolTip("Play the drag-selected range (or the selected segment) over and over")
        self.speed = QComboBox()
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}x", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("Playback speed ([ and ] in the label editor change the dimension, not this)")
        self.speed.currentIndexChanged.connect(lambda _i: self.speed_changed.emit(float(self.speed.currentData())))
        self.follow = QCheckBox("Follow playhead")
        self.follow.setChecked(True)
        self.follow.setToolTip("While playing, the view pages along when the playhead leaves it")
        self.follow.toggled.connect(self.follow_changed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        for w in (self.play_button, self.time_label, self.view_label):
            layout.addWidget(w)
        layout.addStretch(1)
        self.speed_label = QLabel("Speed")
        for w in (self.loop, self.speed_label, self.speed, self.follow):
            layout.addWidget(w)
        self._shown: tuple | None = None
        self._full = {self.loop: self.loop.text(), self.follow: self.follow.text()}
        self._short = {self.loop: f"Loop ({keymap.key_text('loop')})", self.follow: "Follow"}
        self.compact = True  # measured once: the least width the bar needs, laid out compact
        self._apply()
        self._compact_width = self.layout().minimumSize().width()
        self.compact = False
        self._apply()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """The compact bar's width: a narrow window lays the bar out compact rather than refusing to shrink."""
        return QSize(self._compact_width, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Narrow (a 1024-pixel window): the view range goes to the tooltip and the boxes say less, so nothing is
        drawn over anything (issue 24, item 8)."""
        super().resizeEvent(event)
        self._fit(event.size().width())

    def _fit(self, width: int) -> None:
        self.compact = False
        self._apply()
        compact = self.sizeHint().width() > width
        if compact:
            self.compact = True
            self._apply()

    def _apply(self) -> None:
        for box, text in (self._short if self.compact else self._full).items():
            box.setText(text)
        self.view_label.setVisible(not self.compact)
        self.speed_label.setVisible(not self.compact)
        metrics = self.time_label.fontMetrics()  # compact: room for the time as it reads under an hour
        self.time_label.setMinimumWidth(metrics.horizontalAdvance("0:00.000 / 00:00.000 " if self.compact
                                                                 else "0:00:00.000 / 0:00:00.000 "))
        self.time_label.setToolTip("Playhead / file length (h:mm:ss.mmm)" + (f"; {self.view_label.text()}"
                                                                             if self.compact else ""))

    def show_time(self, state: TimeState) -> None:
        # ms resolution is what the label shows: skip relayout when nothing visible changed
        key = (round(state.playhead, 3), state.playing, round(state.view[0], 2), round(state.view[1], 2),
               round(state.duration, 3))
        if key == self._shown:
            return
        self._shown = key
        self.time_label.setText(f"{format_time(state.playhead)} / {format_time(state.duration)}")
        lo, hi = state.view
        self.view_label.setText(f"view {format_time(lo, 1)}-{format_time(hi, 1)}")
        self.play_button.setText("❚❚ Pause" if state.playing else "▶ Play")
