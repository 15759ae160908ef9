"""The field's interpretable baseline beside the SER model: eGeMAPS v02 functionals + ridge regression.

`emotrace evaluate` and `emotrace layers` report it on the same split as the model (fit on Train, scored on the
split asked for), so a user sees what the deep model adds over 88 hand-crafted acoustic parameters. The ridge
is the layer probe's (`probe.ridge_predict`: standardised features, penalty per dimension by exact
leave-one-out error on Train). A feature openSMILE leaves undefined (an unvoiced segment has no F0 mean) is
filled with its Train median. Functionals are cached per file like the encoder features (`FeatureCache`
under the name `egemaps-v02`), so a second evaluation costs no openSMILE pass.
"""

from __future__ import annotations

import warnings

import numpy as np

from emotrace.core.audio.acoustics import N_FUNCTIONALS, AcousticsUnavailable, span_functionals
from emotrace.core.audio.decode import AudioError
from emotrace.core.ser.feature_cache import FeatureCache, cached_spans
from emotrace.core.stats.metrics import ccc_per_dimension
from emotrace.training.data import TRAIN, Example, labels_array
from emotrace.training.probe import ridge_predict

CACHE_NAME = "egemaps-v02"
MIN_TRAIN = 8


def egemaps_features(examples: list[Example], cache: FeatureCache | None = None) -> np.ndarray:
    """`[N, 88]` eGeMAPS functionals of the examples' spans (NaN where undefined)."""
    cache = cache or FeatureCache(CACHE_NAME)
    out = np.full((len(examples), N_FUNCTIONALS), np.nan, np.float32)
    for fp, hit, found, missing in cached_spans(cache, examples):
        for i, x in found.items():
            out[i] = x
        if not missing:
            continue
        spans = np.array([[examples[i].start, examples[i].end] for i in missing])
        feats = span_functionals(examples[missing[0]].path, spans)
        out[missing] = feats
        if hit:
            spans, feats = np.concatenate([hit[0], spans]), np.concatenate([hit[1], feats])
        cache.save(fp, spans, feats)
    return out


def egemaps_ridge(examples: list[Example], split: str) -> dict:
    """CCC per dimension of eGeMAPS + ridge fitted on Train and scored on `split`; or why it is not there."""
    train_ex = [e for e in examples if e.split == TRAIN]
    eval_ex = [e for e in examples if e.split == split]
    if len(train_ex) < MIN_TRAIN or len(eval_ex) < 2:
        return {"unavailable": f"needs at least {MIN_TRAIN} {TRAIN} and 2 {split} segments "
                               f"({len(train_ex)} and {len(eval_ex)})"}
    try:
        x_train, x_eval = egemaps_features(train_ex), egemaps_features(eval_ex)
    except AcousticsUnavailable as exc:
        return {"unavailable": str(exc)}
    except AudioError as exc:
        return {"unavailable": f"a file could not be read: {exc}"}
    with warnings.catch_warnings():  # a feature undefined on every Train segment: filled with 0 below
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(np.where(np.isfinite(x_train), x_train, np.nan), axis=0)
    median = np.where(np.isfinite(median), median, 0.0)
    x_train = np.where(np.isfinite(x_train), x_train, median)
    x_eval = np.where(np.isfinite(x_eval), x_eval, median)
    pred = ridge_predict(x_train, labels_array(train_ex), x_eval)
    return {"model": "eGeMAPS v02 + ridge", "fit_on": TRAIN, "n_train": len(train_ex), "split": split,
            "n": len(eval_ex), "ccc": ccc_per_dimension(pred, labels_array(eval_ex))}


def format_baseline(result: dict) -> str:
    if "unavailable" in result:
        return f"eGeMAPS + ridge baseline: not computed ({result['unavailable']})"
    return (f"eGeMAPS v02 + ridge baseline (fit on {result['fit_on']}, n={result['n_train']}) on {result['split']} "
            f"(n={result['n']}): " + "  ".join(f"{k} {v:.3f}" for k, v in result["ccc"].items()))
