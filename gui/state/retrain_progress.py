"""What the Retrain dialog's one progress bar says: the stage, how far into it, and an estimate of the time left.

Qt-free, so it is tested without a display. It reads the trainer's events (`stage`, `features`, `epoch`,
`finished`) and the dialog's own `activating`. The estimate is honest about what it knows: inside a stage it
extrapolates from that stage's own pace (files encoded, epochs run); the stages still to come are counted at
what they took the last time in this session, and when there was no last time the estimate says it covers
the current stage only. Early stopping can end training before its last epoch, so the training estimate is an
upper bound and says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable

STAGES = ("loading", "features", "training", "checking", "activating")
LABELS = {"loading": "loading", "features": "features", "training": "training", "checking": "checking",
          "activating": "activating"}
# share of the bar per stage before any run was timed (a first retrain with features to encode)
DEFAULT_SHARE = {"loading": 0.1, "features": 0.45, "training": 0.35, "checking": 0.07, "activating": 0.03}
LAST_SECONDS: dict[str, float] = {}  # per stage, what it took in the last complete run of this session


def format_left(seconds: float) -> str:
    if seconds < 1.5:
        return "about 1 s"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    return f"about {seconds / 60:.0f} min"


class RetrainProgress:
    """Feed `update(event)`; read `fraction()` (0-1 over the whole retrain), `seconds_left()` and `text()`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.stage = "loading"
        self.done, self.total = 0, 0
        self.started = self.stage_started = clock()
        self.seconds: dict[str, float] = {}  # this run's finished stages
        self.finished = False

    def _enter(self, stage: str) -> None:
        if stage != self.stage:
            now = self.clock()
            self.seconds[self.stage] = now - self.stage_started
            self.stage, self.stage_started, self.done, self.total = stage, now, 0, 0

    def update(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "stage":
            self._enter(event["stage"])
            self.done, self.total = int(event.get("done", 0)), int(event.get("total", 0))
        elif kind == "features":
            self._enter("features")
            self.done, self.total = int(event["done"]), int(event["total"])
        elif kind == "epoch":
            self._enter("training")
            self.done, self.total = int(event["epoch"]), int(event["epochs"])
        elif kind == "finished":
            self._enter("decide")  # trained and checked: what is left is the user's decision, then activating
            self.done, self.total = 0, 1

    def activated(self) -> None:
        """The model became active: the run is complete, and its stage times are the next estimate's."""
        self._enter("done")
        self.finished = True
        LAST_SECONDS.clear()
        LAST_SECONDS.update(self.seconds)

    def _within(self) -> float:
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0

    def fraction(self) -> float:
        if self.finished:
            return 1.0
        known = LAST_SECONDS if set(STAGES) <= set(LAST_SECONDS) and sum(LAST_SECONDS.values()) > 0 else None
        share = ({s: LAST_SECONDS[s] / sum(LAST_SECONDS[t] for t in STAGES) for s in STAGES} if known
                 else DEFAULT_SHARE)
        if self.stage == "decide":
            return 1.0 - share["activating"]
        if self.stage not in STAGES:
            return 1.0
        index = STAGES.index(self.stage)
        return sum(share[s] for s in STAGES[:index]) + share[self.stage] * self._within()

    def seconds_left(self) -> tuple[float | None, bool]:
        """(seconds, whether they cover every stage to come) or (None, False) before the pace is known."""
        if self.finished or self.stage not in STAGES:
            return 0.0, True
        elapsed = self.clock() - self.stage_started
        if self.total > 0 and self.done > 0:
            current = elapsed * (self.total - self.done) / self.done
        elif self.total > 0 and self.done >= self.total:
            current = 0.0
        elif self.stage in LAST_SECONDS:
            current = max(0.0, LAST_SECONDS[self.stage] - elapsed)
        else:
            return None, False
        later = STAGES[STAGES.index(self.stage) + 1:]
        if all(s in LAST_SECONDS for s in later):
            return current + sum(LAST_SECONDS[s] for s in later), True
        return current, False

    def text(self) -> str:
        if self.finished:
            return "done: the new model is active"
        what = LABELS.get(self.stage, self.stage)
        if self.stage == "features":
            what = f"features {self.done}/{self.total} files" if self.total else "features (from the cache)"
        elif self.stage == "training" and self.total:
            what = f"training epoch {self.done}/{self.total}"
        elif self.stage == "decide":
            return "trained and checked: activate it or keep the old one"
        left, complete = self.seconds_left()
        if left is None:
            return f"{what} · estimating the time left"
        bound = "at most " if self.stage == "training" else ""
        scope = "left" if complete else "left in this stage"
        return f"{what} · {bound}{format_left(left)} {scope}".replace("at most about", "at most")
