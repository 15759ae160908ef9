"""Playback with QtMultimedia. Without an audio output device it plays silently on a clock, so the
playhead and the transcript still follow and nothing crashes."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QObject, QTimer, QUrl, Signal


class Player(QObject):
    position_changed = Signal(float)  # seconds
    state_changed = Signal(bool)  # playing?
    message = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._media = None
        self._duration = 0.0
        self._stop_at: float | None = None
        self._loop_from: float | None = None  # play(..., loop=True): at stop_at, start over from here
        self._rate = 1.0
        self._playing = False
        self._clock = QElapsedTimer()
        self._clock_origin = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(33)  # ~30 Hz playhead
        self._timer.timeout.connect(self._tick)
        try:
            # lazy: QtMultimedia may be missing or have no backend; playback then runs silently
            from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer

            if QMediaDevices.audioOutputs():
                self._media = QMediaPlayer(self)
                self._output = QAudioOutput(self)
                self._media.setAudioOutput(self._output)
                self._media.errorOccurred.connect(self._on_error)
        except Exception as exc:  # noqa: BLE001 - a missing multimedia backend means silent playback
            self._media = None
            self.message.emit(f"audio playback unavailable: {exc}")
        self.silent = self._media is None

    def _on_error(self, _error, text: str) -> None:
        self.message.emit(f"playback error: {text}; playing silently")
        self._media = None
        self.silent = True

    def load(self, path: str, duration: float) -> None:
        self.pause()
        self._duration = duration
        self._clock_origin = 0.0
        if self._media is not None:
            self._media.setSource(QUrl.fromLocalFile(path))
        self.position_changed.emit(0.0)

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def rate(self) -> float:
        return self._rate

    def set_rate(self, rate: float) -> None:
        """Playback speed (0.5x for hard passages, 2x to skim); the silent clock runs at the same rate."""
        pos = self.position()
        self._rate = float(rate)
        self._clock_origin = pos
        self._clock.restart()
        if self._media is not None:
            self._media.setPlaybackRate(self._rate)

    def position(self) -> float:
        if self._media is not None:
            return self._media.position() / 1000.0
        if self._playing:
            return self._clock_origin + self._rate * self._clock.elapsed() / 1000.0
        return self._clock_origin

    def seek(self, seconds: float) -> None:
        seconds = max(0.0, min(seconds, self._duration))
        if self._media is not None:
            self._media.setPosition(int(seconds * 1000))
        self._clock_origin = seconds
        self._clock.restart()
        self.position_changed.emit(seconds)

    def play(self, start: float | None = None, stop_at: float | None = None, loop: bool = False,
             loop_start: float | None = None) -> None:
        """Play from `start` (or where it is) to `stop_at` (or the end); with `loop`, from `stop_at` back to
        `loop_start` (default `start`) until paused."""
        if start is not None:
            self.seek(start)
        self._stop_at = stop_at
        back = loop_start if loop_start is not None else start
        self._loop_from = back if loop and back is not None and stop_at is not None else None
        if self._media is not None:
            self._media.play()
        self._clock_origin = self.position() if self._media is not None else self._clock_origin
        self._clock.restart()
        self._playing = True
        self._timer.start()
        self.state_changed.emit(True)

    def pause(self) -> None:
        self._loop_from = None
        if not self._playing:
            return
        pos = self.position()
        if self._media is not None:
            self._media.pause()
        self._clock_origin = pos
        self._playing = False
        self._timer.stop()
        self.state_changed.emit(False)
        self.position_changed.emit(pos)

    def toggle(self) -> None:
        self.pause() if self._playing else self.play()

    def _tick(self) -> None:
        pos = self.position()
        if self._loop_from is not None and self._stop_at is not None and pos >= self._stop_at:
            self.seek(self._loop_from)  # looping a selection: start over, keep playing
            return
        if (self._stop_at is not None and pos >= self._stop_at) or pos >= self._duration:
            self.pause()
            self._stop_at = None
            return
        self.position_changed.emit(pos)
