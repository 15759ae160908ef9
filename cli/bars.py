"""The CLI's progress display for corpus jobs: one bar per file with its percent, rate (x real time) and time left
on a terminal, sparse plain lines when stderr is a log (issue 25, item 5).

A job reports through the one `ProgressFn` (`core/progress.py`): `(done, total, message)`, the message carrying
the position inside the current file ("talk.flac 37% (7:24 of 20:00)"). The arithmetic (rate, time left) is
`core.progress.FileClock`, shared with the app's jobs dock; this module only decides what to write and when."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from emotrace.core.progress import Estimate, FileClock, describe
from emotrace.core.timecode import format_time

BAR_WIDTH = 24


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """`|#########               |`: a bar in plain ASCII (a log or an old terminal shows it as drawn)."""
    filled = int(round(max(0.0, min(fraction, 1.0)) * width))
    return "|" + "#" * filled + " " * (width - filled) + "|"


class FileBars:
    """A `ProgressFn` for the CLI. On a terminal: the current file's bar is redrawn in place (at most
    `redraw_every` seconds apart) and left on screen when the file is finished, with its rate. In a log (stderr
    not a terminal): a line when the job starts, at most one line every `log_every` seconds while it works, and
    one line per finished file (its audio, wall time and rate), so an overnight log stays readable.

    A file is finished when a later message moves the file count past the count it was first seen at (analysis
    works on a few files at once, whose positions interleave), or when the job closes; its line then says all of
    its audio (the last position may stop at the last chunk with speech), unless the job failed or was
    cancelled."""

    def __init__(self, desc: str, *, disable: bool = False, stream: TextIO | None = None, tty: bool | None = None,
                 clock: Callable[[], float] = time.monotonic, redraw_every: float = 0.1, log_every: float = 30.0) -> None:
        self.desc, self.disable = desc, disable
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.clock = clock
        self.files = FileClock(clock)
        self.redraw_every, self.log_every = redraw_every, log_every
        self.last_write = float("-inf")
        self.drawn = False  # a line is drawn in place on the terminal and not ended yet
        self.open: dict[str, tuple[int, int, Estimate]] = {}  # unfinished files: done count when first seen, number
        self.total = self.done = 0
        self.started = False
        self.ordinal = 0  # the number of the file seen last (files of one analysis batch share a done count)

    def __call__(self, done: int, total: int, message: str) -> None:
        if self.disable:
            return
        estimate = self.files.update(message)
        if total != self.total or done < self.done:  # the next corpus of `analyze` after activating a model
            self.ordinal = 0
        self.total, self.done = total, done
        self._finish(lambda seen: done > seen, complete=True)
        now = self.clock()
        if estimate is not None:
            name = estimate.position.name
            if name in self.open:
                seen, ordinal = self.open[name][0], self.open[name][1]
            else:
                seen, self.ordinal = done, min(max(done + 1, self.ordinal + 1), total)
                ordinal = self.ordinal
            self.open[name] = (seen, ordinal, estimate)
            line = f"{self.desc} {ordinal}/{total} {name} {bar(estimate.position.fraction)} " \
                   f"{describe(estimate)}"
        else:
            line = f"{self.desc}: {message} ({done}/{total} done)" if done < total else f"{self.desc}: {message}"
        first = not self.started
        self.started = True
        if self.tty:
            if first or now - self.last_write >= self.redraw_every or done >= total:
                self._draw(line, now)
        elif first or now - self.last_write >= self.log_every:
            self._line(line, now)

    def close(self) -> None:
        """Finish the files still open (the job ended or failed) and end the terminal's line."""
        if self.disable:
            return
        self._finish(lambda _seen: True, complete=self.done >= self.total > 0)  # else it failed or was cancelled
        if self.drawn:
            self.stream.write("\n")
            self.drawn = False
        self.stream.flush()

    # -- writing ---------------------------------------------------------------------------------------
    def _finish(self, finished: Callable[[int], bool], complete: bool) -> None:
        for name, (seen, ordinal, est) in list(self.open.items()):
            if finished(seen):
                del self.open[name]
                est = self.files.finish(name, complete) or est
                rate = f" ({est.rate:.1f}x real time)" if est.rate is not None else ""
                self._line(f"{self.desc} {ordinal}/{self.total} {name} {bar(est.position.fraction)} "
                           f"{format_time(est.position.seconds, 0)} of {format_time(est.position.duration, 0)} "
                           f"in {format_time(est.elapsed, 0)}{rate}", self.clock())

    def _draw(self, line: str, now: float) -> None:
        self.stream.write("\r" + line + "\x1b[K")  # back to the line's start, clear what a longer line left
        self.stream.flush()
        self.drawn, self.last_write = True, now

    def _line(self, line: str, now: float) -> None:
        if self.drawn:  # a finished file's line replaces the bar drawn in place; the next bar starts below
            self.stream.write("\r" + line + "\x1b[K\n")
            self.drawn = False
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        if not self.tty:  # a log's lines are what its sparseness counts; a terminal's next bar draws at once
            self.last_write = now
