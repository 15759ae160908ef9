"""Progress and cancel hooks shared by every long job (CLI bars, GUI panels, worker processes)."""

from __future__ import annotations

import re
from collections.abc import Callable

ProgressFn = Callable[[int, int, str], None]  # (done, total, message)
CancelFn = Callable[[], bool]


class Cancelled(RuntimeError):
    """Raised inside a job when its cancel hook says stop; what was committed stays committed."""


# How far a job is inside one file, as transcribe and analyze write it in the message: "talk.flac 37% (7:24 of
# 20:00)". An hour-long file is one step of a per-file count, so a bar needs this to move (issue 12, issue 24).
WITHIN_FILE = re.compile(r" (\d{1,3})% \(")


def fraction_in_file(message: str) -> float:
    """The share of the current file done, from a message written as above; 0 when it says none."""
    m = WITHIN_FILE.search(message)
    return min(int(m.group(1)), 100) / 100 if m else 0.0


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
