"""Whether a freshly trained model becomes the active one, and the sentence that says why.

Training used to activate whatever it produced, so a run that took no optimiser step (or learnt from a NaN)
replaced a good model silently. Now a valid model (the trainer refuses invalid ones before this point) is
activated under `auto` only when its development mean CCC over A/V/D is not below the active model's on the
very same examples; when the active model cannot be scored on them (another backbone, a broken folder), the
verdict says so and a valid model is activated. `always` and `never` are the user overriding the comparison.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from emotrace.core.vocab import DIMENSIONS

ACTIVATE_MODES = ("auto", "always", "never")


@dataclass(frozen=True)
class Verdict:
    activate: bool
    reason: str
    mode: str
    comparable: bool
    new_mean_ccc: float | None
    parent_mean_ccc: float | None
    parent_id: int | None
    comparison: str = ""  # the reason without the decision: what the Retrain dialog shows next to its advice

    @property
    def recommended(self) -> bool:
        """What `auto` would do: the advice the Retrain dialog shows when the user decides."""
        return self.new_mean_ccc is not None and (not self.comparable or self.new_mean_ccc >= self.parent_mean_ccc)

    def to_dict(self) -> dict:
        return {**asdict(self), "recommended": self.recommended}


def mean_ccc(ccc: dict | None) -> float | None:
    """Mean CCC over arousal, valence and dominance; None when any is missing or not a number."""
    if not ccc:
        return None
    values = [ccc.get(d) for d in DIMENSIONS]
    if any(v is None or not math.isfinite(float(v)) for v in values):
        return None
    return round(sum(float(v) for v in values) / len(values), 4)


def decide(mode: str, new_ccc: dict, n_dev: int, parent_id: int | None, parent_ccc: dict | None,
           parent_problem: str | None = None) -> Verdict:
    """`parent_ccc` is the active model scored on the same `n_dev` development examples as the new one, or None
    with `parent_problem` saying why it could not be (None for both when there is no active model)."""
    if mode not in ACTIVATE_MODES:
        raise ValueError(f"activate must be one of {', '.join(ACTIVATE_MODES)}, not {mode!r}")
    new, old = mean_ccc(new_ccc), mean_ccc(parent_ccc)
    comparable = parent_id is not None and new is not None and old is not None

    def fmt(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    if parent_id is None:
        comparison = "there is no active model to compare with"
    elif comparable:
        relation = ">=" if new >= old else "<"
        comparison = (f"development mean CCC {fmt(new)} {relation} active v{parent_id}'s {fmt(old)} "
                      f"on the same {n_dev} segments")
    elif old is None:
        comparison = f"the active v{parent_id} could not be compared ({parent_problem or 'no score on these data'})"
    else:
        comparison = f"the new model's development CCC is not a number (active v{parent_id}: {fmt(old)})"

    if mode == "never":
        activate, why = False, "not activated (--activate never)"
    elif mode == "always":
        activate, why = True, "activated (--activate always)"
    elif new is None:
        activate, why = False, "not activated: its development CCC is not a number"
    elif not comparable or new >= old:
        activate, why = True, "activated"
    else:
        activate, why = False, ("not activated: worse than the active model, which stays active (activate it "
                                "anyway with `emotrace models activate` or --activate always)")
    return Verdict(activate, f"{why}; {comparison}", mode, comparable, new, old, parent_id, comparison)
