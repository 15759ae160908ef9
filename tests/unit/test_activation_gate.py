"""Issue 16, the activation gate: its decision when the parent cannot be compared, and the training and
analysis options it relies on refused by the API (real training runs and the CLI:
tests/integration/test_activation_gate.py)."""

from __future__ import annotations

import pytest


def test_the_api_refuses_them_too(store):
    from emotrace.core.errors import UserFacingError
    from emotrace.core.workflows.analyze import analyze_corpus
    from emotrace.training.trainer import TrainConfig

    for bad in ({"epochs": 0}, {"batch_size": 1}, {"grad_accum": 0}, {"activate": "maybe"}):
        with pytest.raises(UserFacingError):
            TrainConfig(corpus="x", **bad)
    with pytest.raises(UserFacingError, match="hop"):
        analyze_corpus(store, "x", hop=0.0001)
    assert TrainConfig(corpus="x", activate=False).activate == "never"


def test_gate_when_the_parent_cannot_be_compared():
    from emotrace.training.gate import decide

    ccc = {"arousal": 0.5, "valence": 0.1, "dominance": 0.3}
    v = decide("auto", ccc, 12, 3, None, "it reads other features (x + y)")
    assert v.activate and not v.comparable and "could not be compared (it reads other features" in v.reason
    v = decide("auto", ccc, 12, None, None)
    assert v.activate and "no active model" in v.reason
    v = decide("auto", {"arousal": float("nan"), "valence": 0.1, "dominance": 0.3}, 12, 3,
               {"arousal": 0.2, "valence": 0.2, "dominance": 0.2})
    assert not v.activate and "not a number" in v.reason
    v = decide("auto", ccc, 12, 3, dict(ccc))
    assert v.activate and ">=" in v.reason  # equal is not worse
