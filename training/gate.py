"""Whether a freshly trained model becomes the active one, and the sentence that says why.

Training used to activate whatever it produced, so a run that took no optimiser step (or learnt from a NaN)
replaced a good model silently. Now a valid model (the trainer refuses invalid ones before this point) is
activated under `auto` only when its development mean CCC over A/V/D is above the active model's on the
very same examples; when the active model cannot be scored on them (another backbone, a broken folder), the
verdict says so and a valid model is activated. `always` and `never` are the user overriding the comparison.
A tie is not an improvement (a retrain on constant labels scores 0.000, like the model it would replace).

Before any version becomes active, by the CLI's `models activate`, the app's Models panel and Retrain dialog, or
training's own activation, `check_outputs` runs it on a reference clip (the packaged demo speech) and refuses
non-finite, constant or out-of-scale outputs with one line: weights cast to int8 or scaled by 1e30 passed every
check on the folder and then predicted nothing but NaN.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from importlib.resources import files
from pathlib import Path

import numpy as np

from emotrace.core.ser.config import ModelFolderError
from emotrace.core.ser.pipeline import Encoders, SERPipeline
from emotrace.core.vocab import DIMENSIONS, SCALE
from emotrace.core.workflows.analyze import predict_spans

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
        return self.new_mean_ccc is not None and (not self.comparable or self.new_mean_ccc > self.parent_mean_ccc)

    def to_dict(self) -> dict:
        return {**asdict(self), "recommended": self.recommended}

    def refused(self, problem: str) -> Verdict:
        """The same comparison, not activated: the new model failed `check_outputs`."""
        return replace(self, activate=False, reason=f"not activated: {problem}; {self.comparison}")


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
        relation = ">" if new > old else "=" if new == old else "<"
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
    elif not comparable or new > old:
        activate, why = True, "activated"
    elif new == old:
        activate, why = False, ("not activated: not better than the active model (a tie), which stays active "
                                "(activate it anyway with `emotrace models activate` or --activate always)")
    else:
        activate, why = False, ("not activated: worse than the active model, which stays active (activate it "
                                "anyway with `emotrace models activate` or --activate always)")
    return Verdict(activate, f"{why}; {comparison}", mode, comparable, new, old, parent_id, comparison)


REFERENCE_CLIP = Path(str(files("emotrace.resources") / "demo" / "jfk_inaugural.flac"))  # 11 s of speech
REFERENCE_SPANS = np.array([[t, t + 2.0] for t in np.arange(0.0, 9.0, 1.0)])
REFERENCE_TEXTS = ["and so my fellow Americans", "ask not what your country can do for you",
                   "ask what you can do for your country", "my fellow citizens of the world"]
PINNED = 1e-3  # within this of a scale end on every span: an output saturated by huge weights


def check_outputs(folder: str | Path, device: str = "cpu", encoders: Encoders | None = None) -> None:
    """Run the model in `folder` on the reference clip, as analysis would; raise ModelFolderError (one line naming
    the folder) when it does not load on its backbone, or its outputs are not finite, lie off the 1-7 scale or
    pinned at its end, or do not change from one span to the next in some dimension (a model that hears
    nothing). `encoders` are already loaded ones of the same backbone (training passes its own)."""
    folder = Path(folder)
    try:
        pipeline = SERPipeline(str(folder), device=device, encoders=encoders)
        preds, missing = predict_spans(pipeline, str(REFERENCE_CLIP), REFERENCE_SPANS,
                                       [REFERENCE_TEXTS[k % len(REFERENCE_TEXTS)] for k in range(len(REFERENCE_SPANS))])
    except ModelFolderError:
        raise
    except (RuntimeError, ValueError) as exc:  # torch's shape and dtype errors inside a forward pass
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFolderError(f"model folder {folder}: does not run on the reference clip ({reason[:200]})") from exc
    fused = np.asarray(preds.fused, dtype=np.float64)
    if missing or not np.isfinite(fused).all():
        raise ModelFolderError(f"model folder {folder}: NaN or infinite outputs on the reference clip "
                               f"({REFERENCE_CLIP.name}); its weights are broken (not activated)")
    if (fused < SCALE.low).any() or (fused > SCALE.high).any():
        raise ModelFolderError(f"model folder {folder}: outputs off the {SCALE.low:g}-{SCALE.high:g} scale on the "
                               f"reference clip ({fused.min():.3g} to {fused.max():.3g}; not activated)")
    for d, dim in enumerate(DIMENSIONS):
        column = fused[:, d]
        if np.all(np.minimum(column - SCALE.low, SCALE.high - column) < PINNED):
            raise ModelFolderError(f"model folder {folder}: {dim} is pinned at the end of the scale on every span "
                                   f"of the reference clip (out of scale: its weights are broken; not activated)")
        if column.max() - column.min() < 1e-5:
            raise ModelFolderError(f"model folder {folder}: {dim} is constant ({column[0]:.3f}) on every span of the "
                                   f"reference clip: the model does not listen (not activated)")
