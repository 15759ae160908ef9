"""The Retrain dialog's one progress bar (issue 25, item 4): the stage, how far into it, an honest estimate."""

from __future__ import annotations

from emotrace.gui.state import retrain_progress
from emotrace.gui.state.retrain_progress import RetrainProgress


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _run(p: RetrainProgress, clock: Clock, seen: list) -> None:
    def step(event: dict, seconds: float) -> None:
        clock.t += seconds
        p.update(event)
        seen.append((p.fraction(), p.text()))

    step({"type": "stage", "stage": "loading", "done": 0, "total": 1}, 0.0)
    step({"type": "stage", "stage": "features", "done": 0, "total": 0}, 2.0)
    for k in range(1, 5):
        step({"type": "features", "done": k, "total": 4}, 1.0)
    for k in range(1, 11):
        step({"type": "epoch", "epoch": k, "epochs": 10}, 0.5)
    step({"type": "stage", "stage": "checking", "done": 0, "total": 1}, 0.0)
    step({"type": "finished"}, 1.0)
    clock.t += 30.0  # the user reads the table
    p.update({"type": "stage", "stage": "activating", "done": 0, "total": 1})
    clock.t += 0.2
    p.activated()
    seen.append((p.fraction(), p.text()))


def test_one_bar_with_stage_and_estimate(monkeypatch):
    monkeypatch.setattr(retrain_progress, "LAST_SECONDS", {})
    clock, seen = Clock(), []
    p = RetrainProgress(clock)
    _run(p, clock, seen)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0  # it never goes back
    texts = [t for _, t in seen]
    assert texts[0] == "loading · estimating the time left"
    assert "features 1/4 files · about 3 s left in this stage" in texts  # its own pace; later stages unknown yet
    assert "training epoch 5/10 · at most 2 s left in this stage" in texts  # early stopping may end it sooner
    assert "trained and checked: activate it or keep the old one" in texts
    assert texts[-1] == "done: the new model is active"
    # the next run in this session knows what the later stages took (the user's 30 s are not counted)
    assert retrain_progress.LAST_SECONDS["activating"] < 1.0
    clock2 = Clock()
    p2 = RetrainProgress(clock2)
    p2.update({"type": "stage", "stage": "features", "done": 0, "total": 0})
    clock2.t += 1.0
    p2.update({"type": "features", "done": 1, "total": 4})
    assert p2.text() == "features 1/4 files · about 9 s left"  # 3 s of features, 5 s of training, 1.2 s after
