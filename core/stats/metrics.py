"""Concordance correlation coefficient: the metric everywhere, and 1 - CCC the training loss."""

from __future__ import annotations

import numpy as np

from emotrace.core.vocab import DIMENSIONS


def ccc(pred: np.ndarray, gold: np.ndarray) -> float:
    pred, gold = np.asarray(pred, np.float64), np.asarray(gold, np.float64)
    if len(pred) < 2:
        return float("nan")
    mp, mg = pred.mean(), gold.mean()
    vp, vg = pred.var(), gold.var()
    cov = ((pred - mp) * (gold - mg)).mean()
    denom = vp + vg + (mp - mg) ** 2
    return float(2 * cov / denom) if denom > 0 else float("nan")


def ccc_per_dimension(pred: np.ndarray, gold: np.ndarray, names=DIMENSIONS) -> dict:
    return {n: round(ccc(pred[:, i], gold[:, i]), 4) for i, n in enumerate(names)}


def ccc_loss(pred, gold):
    """Torch: mean over dimensions of 1 - CCC (batch statistics)."""
    mp, mg = pred.mean(0), gold.mean(0)
    vp, vg = pred.var(0, unbiased=False), gold.var(0, unbiased=False)
    cov = ((pred - mp) * (gold - mg)).mean(0)
    return (1 - 2 * cov / (vp + vg + (mp - mg) ** 2 + 1e-8)).mean()
