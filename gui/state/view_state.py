"""What the user is looking at, Qt-free: corpus, file, selected segment, playhead, view range, shown models.

The GUI's views observe this state instead of the main window reaching into each of them (napari's model/view
split). Every time-linked view (waveforms, A/V/D lanes, transcript, transport bar) receives the time through
one method, `show_time(TimeState)` (ephyviewer's protocol), so adding a view is a local change: implement the
method and `add_time_view` it. The rules that are not about drawing (which segment N/P goes to from the
playhead, paging the view to follow playback, clamping a range to the file) live here, testable without Qt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

MIN_VIEW_S = 0.05  # the narrowest view range: a few samples of waveform still read as a line
EPSILON_S = 1e-3  # "at a segment's start" tolerance, so N from a segment's start goes to the next one


class Event:
    """A tiny synchronous emitter: `connect(fn)` returns the function that disconnects it."""

    def __init__(self) -> None:
        self._slots: list[Callable[..., Any]] = []

    def connect(self, slot: Callable[..., Any]) -> Callable[[], None]:
        self._slots.append(slot)
        return lambda: self.disconnect(slot)

    def disconnect(self, slot: Callable[..., Any]) -> None:
        if slot in self._slots:
            self._slots.remove(slot)

    def emit(self, *args: Any) -> None:
        for slot in list(self._slots):
            slot(*args)


@dataclass(frozen=True)
class TimeState:
    """Everything a time-linked view needs: where the playhead is, which stretch is shown, of how long a file."""

    playhead: float
    view: tuple[float, float]
    duration: float
    playing: bool = False


@runtime_checkable
class TimeView(Protocol):
    """A view that shows something along the file's time axis. It gets the time through this one method only;
    it must return fast (it runs on every ~30 Hz playhead tick) and skip work when nothing it shows changed."""

    def show_time(self, state: TimeState) -> None: ...


def step_segment(starts: Sequence[float] | np.ndarray, playhead: float, step: int) -> int | None:
    """The segment N (step +1) or P (step -1) goes to, counted from the playhead, not from an old selection:
    after a seek or a word click the user means "the next one from here". N: the first segment starting after
    the playhead; P: the last one starting before it (the current segment's start first, as media players do)."""
    starts = np.asarray(starts, dtype=np.float64)
    if not len(starts):
        return None
    if step > 0:
        i = int(np.searchsorted(starts, playhead + EPSILON_S, side="right"))
        return i if i < len(starts) else None
    i = int(np.searchsorted(starts, playhead - EPSILON_S, side="left")) - 1
    return i if i >= 0 else None


class ViewState:
    """The evented state of one app window. Setters emit only on a real change; views connect to the events."""

    def __init__(self) -> None:
        self.corpus_id: int | None = None
        self.file_id: int | None = None
        self.duration = 0.0
        self.segment_index: int | None = None
        self.playhead = 0.0
        self.view: tuple[float, float] = (0.0, 0.0)
        self.playing = False
        self.follow_playhead = True
        self.shown_models: list[int] = []
        self.viewer: str | None = None  # who is looking (the annotator): what is blind to them depends on it
        self.corpus_changed = Event()  # (corpus_id)
        self.file_changed = Event()  # (file_id)
        self.selection_changed = Event()  # (segment_index or None)
        self.models_changed = Event()  # (shown model ids)
        self.time_changed = Event()  # (TimeState)
        self.viewer_changed = Event()  # (viewer): every view redraws what that viewer may see, at once
        self._time_views: list[TimeView] = []

    # -- time -------------------------------------------------------------------------------------
    @property
    def time(self) -> TimeState:
        return TimeState(self.playhead, self.view, self.duration, self.playing)

    def add_time_view(self, view: TimeView) -> None:
        """Register a time-linked view; it is shown the current time at once."""
        if not isinstance(view, TimeView):
            raise TypeError(f"{type(view).__name__} has no show_time(TimeState)")
        self._time_views.append(view)
        view.show_time(self.time)

    def _broadcast(self) -> None:
        state = self.time
        for view in self._time_views:
            view.show_time(state)
        self.time_changed.emit(state)

    def clamp_view(self, start: float, end: float) -> tuple[float, float]:
        """A range inside the file, at least MIN_VIEW_S wide, keeping its width where it can."""
        width = max(float(end) - float(start), MIN_VIEW_S)
        if self.duration > 0:
            width = min(width, self.duration)
            start = min(max(float(start), 0.0), self.duration - width)
        return (float(start), float(start) + width)

    def set_view(self, start: float, end: float) -> None:
        view = self.clamp_view(start, end)
        if abs(view[0] - self.view[0]) < 1e-9 and abs(view[1] - self.view[1]) < 1e-9:
            return
        self.view = view
        self._broadcast()

    def zoom(self, factor: float, center: float | None = None) -> None:
        lo, hi = self.view
        c = (lo + hi) / 2 if center is None else center
        half = max((hi - lo) * factor / 2, MIN_VIEW_S / 2)
        # keep the centre's place on screen where the factor allows (zooming about the playhead)
        frac = 0.5 if hi <= lo else min(max((c - lo) / (hi - lo), 0.0), 1.0)
        width = 2 * half
        self.set_view(c - frac * width, c - frac * width + width)

    def set_playhead(self, seconds: float, playing: bool | None = None) -> None:
        """A playback tick or a seek. While playing, the view pages along when the playhead leaves it (view
        follows playhead); a seek outside the view centres the view on it."""
        seconds = min(max(float(seconds), 0.0), self.duration) if self.duration > 0 else max(float(seconds), 0.0)
        if playing is not None:
            self.playing = playing
        changed = abs(seconds - self.playhead) > 1e-9 or playing is not None
        self.playhead = seconds
        lo, hi = self.view
        if hi > lo and self.follow_playhead and not lo <= seconds <= hi:
            width = hi - lo
            start = seconds - 0.05 * width if self.playing else seconds - width / 2
            self.view = self.clamp_view(start, start + width)
            changed = True
        if changed:
            self._broadcast()

    # -- what is open -------------------------------------------------------------------------------
    def set_corpus(self, corpus_id: int | None) -> None:
        if corpus_id != self.corpus_id:
            self.corpus_id = corpus_id
            self.corpus_changed.emit(corpus_id)

    def open_file(self, file_id: int | None, duration: float, view_width: float = 30.0) -> None:
        """A new file: playhead at 0, the first `view_width` seconds in view, nothing selected yet."""
        self.file_id, self.duration = file_id, max(float(duration), 0.0)
        self.playhead, self.playing, self.segment_index = 0.0, False, None
        self.view = self.clamp_view(0.0, min(self.duration, view_width) if self.duration else view_width)
        self.file_changed.emit(file_id)
        self._broadcast()

    def select(self, index: int | None) -> None:
        if index != self.segment_index:
            self.segment_index = index
            self.selection_changed.emit(index)

    def set_shown_models(self, model_ids: Sequence[int]) -> None:
        ids = list(dict.fromkeys(int(m) for m in model_ids))
        if ids != self.shown_models:
            self.shown_models = ids
            self.models_changed.emit(ids)

    def set_viewer(self, viewer: str | None) -> None:
        """Another annotator now looks (Settings): the blind rule's answers change for every view at once."""
        viewer = (viewer or "").strip() or None
        if viewer != self.viewer:
            self.viewer = viewer
            self.viewer_changed.emit(viewer)
