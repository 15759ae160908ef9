"""Progress and cancel hooks shared by every long job (CLI bars, GUI panels, worker processes)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from emotrace.core.timecode import format_time

ProgressFn = Callable[[int, int, str], None]  # (done, total, message)
CancelFn = Callable[[], bool]


class Cancelled(RuntimeError):
    """Raised inside a job when its cancel hook says stop; what was committed stays committed."""


# How far a job is inside one file, as transcribe, analyze and diarize write it in the message: "talk.flac 37% (7:24 of
# 20:00)". An hour-long file is one step of a per-file count, so a bar needs this to move (issue 12, issue 24). The
# message is the contract because it passes unchanged through every wrapper (analyze_everywhere prefixes "corpus
# (1/2 corpora): "), through the GUI's signal and through a worker's log; `in_file_message` writes it,
# `position_in_file` reads it back (issue 25, item 5).
WITHIN_FILE = re.compile(r" (\d{1,3})% \(")
_POSITION = re.compile(r"^(?:.*: )?(?P<name>.+?) (?P<pct>\d{1,3})% \((?P<at>\d+(?::\d\d){1,2}) of "
                       r"(?P<of>\d+(?::\d\d){1,2})\)")


def in_file_message(name: str, seconds: float, duration: float) -> str:
    """The progress message for `seconds` of `duration` done inside the file `name` (the one way to write it)."""
    duration = max(float(duration), float(seconds), 1e-9)
    return f"{name} {100 * min(seconds / duration, 1.0):.0f}% ({format_time(seconds, 0)} of {format_time(duration, 0)})"


@dataclass(frozen=True)
class Position:
    """Where a job is inside one file: its name, the seconds of audio done, the file's duration."""

    name: str
    seconds: float
    duration: float
    percent: int

    @property
    def fraction(self) -> float:
        return min(self.percent, 100) / 100


def _seconds(text: str) -> float:
    """Back from `format_time(x, 0)`'s m:ss or h:mm:ss."""
    total = 0.0
    for part in text.split(":"):
        total = total * 60 + int(part)
    return total


def position_in_file(message: str) -> Position | None:
    """The in-file position a message carries, or None (a file's start, "loading the model", "done")."""
    m = _POSITION.search(message)
    if m is None:
        return None
    return Position(m["name"], _seconds(m["at"]), _seconds(m["of"]), min(int(m["pct"]), 100))


def fraction_in_file(message: str) -> float:
    """The share of the current file done, from a message written as above; 0 when it says none."""
    m = WITHIN_FILE.search(message)
    return min(int(m.group(1)), 100) / 100 if m else 0.0


@dataclass(frozen=True)
class Estimate:
    """What a bar shows for one file: where it is, how fast (seconds of audio per second of wall time, "x real
    time"), and how long the rest of the file should take at that speed (None until a rate is known)."""

    position: Position
    elapsed: float  # wall seconds since the file started
    rate: float | None
    eta: float | None


class FileClock:
    """Rate and time left inside each file, from the progress messages as they come (the CLI's bars and the app's
    jobs dock share it). The rate is the audio done since the file's first position over the wall time since
    then: a model's loading and a resumed file's earlier part never count. Until a second position comes (a short
    file has one), it is the audio done over the time since the step began (the latest message without a
    position: the file's or its batch's start). `clock` is injectable, so the arithmetic is tested with a fake."""

    MIN_WALL = 0.5  # seconds of wall time before a rate is trusted (the first piece is noise)

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        # file name -> (when its step began or None, when and how far its first position was)
        self.started: dict[str, tuple[float | None, float, float]] = {}
        self.last_plain: float | None = None  # when the latest message without a position came
        self.last: dict[str, Estimate] = {}  # each unfinished file's latest estimate

    def update(self, message: str) -> Estimate | None:
        now = self.clock()
        pos = position_in_file(message)
        if pos is None:
            self.last_plain = now
            return None
        if pos.name not in self.started:
            self.started[pos.name] = (self.last_plain, now, pos.seconds)
        began, t1, s1 = self.started[pos.name]
        rate = None
        if now - t1 >= self.MIN_WALL and pos.seconds > s1:
            rate = (pos.seconds - s1) / (now - t1)
        elif began is not None and now - began >= self.MIN_WALL and pos.seconds > 0:
            rate = pos.seconds / (now - began)
        eta = max(pos.duration - pos.seconds, 0.0) / rate if rate else None
        self.last[pos.name] = Estimate(pos, now - (t1 if began is None else began), rate, eta)
        return self.last[pos.name]

    def finish(self, name: str, complete: bool = True) -> Estimate | None:
        """The file's last word, once the job has moved past it: all of it (`complete`; its last position may
        stop short of the end, at the last chunk with speech), or where it stopped (a failure, a cancel)."""
        est = self.last.pop(name, None)
        if name not in self.started or est is None:
            return est
        began, t1, s1 = self.started.pop(name)
        if not complete:
            return est
        now, p = self.clock(), est.position
        if now - t1 >= self.MIN_WALL and p.duration > s1:
            rate = (p.duration - s1) / (now - t1)
        elif began is not None and now - began > 0:
            rate = p.duration / (now - began)
        else:
            rate = est.rate
        return Estimate(Position(p.name, p.duration, p.duration, 100), now - (t1 if began is None else began), rate, 0.0)


def describe(estimate: Estimate) -> str:
    """"37% (7:24 of 20:00), 3.1x real time, 4:15 left": the words the CLI's bars show."""
    p = estimate.position
    pace = rate_text(estimate)
    return f"{p.percent}% ({format_time(p.seconds, 0)} of {format_time(p.duration, 0)})" + (", " + pace if pace else "")


def rate_text(estimate: Estimate) -> str:
    """"3.1x real time, 4:15 left" (what the jobs dock adds to the message), or "" while no rate is known."""
    if estimate.rate is None:
        return ""
    text = f"{estimate.rate:.1f}x real time"
    if estimate.eta is not None and estimate.position.percent < 100:
        text += f", {format_time(estimate.eta, 0)} left"
    return text


def no_progress(_done: int, _total: int, _message: str) -> None:
    return None


def check_cancel(cancel: CancelFn | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled("cancelled by the user")


class TqdmProgress:
    """A ProgressFn drawing a tqdm bar on stderr (the CLI's)."""

    def __init__(self, desc: str, disable: bool = False) -> None:
        self.desc, self.disable, self.bar = desc, disable, None

    def __call__(self, done: int, total: int, message: str) -> None:
        # lazy: tqdm only when a terminal bar is drawn (`emotrace --help` imports this module)
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.desc, unit="file", disable=self.disable, leave=True)
        self.bar.total = total
        self.bar.n = done
        self.bar.set_postfix_str(message[-40:], refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
