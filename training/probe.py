"""Layer relevance: a ridge probe per encoder layer and dimension, fitted on Train and scored (CCC) on a split.

This is the paper's layer analysis on the user's own corpus: which hidden states carry arousal, valence and
dominance. The probes read the same cached pooled features (mean + std of each layer's frames) that training
reads, so they cost one encoder pass at most. Ridge in its kernel form (n x n, n = training segments), with the
penalty chosen per target by exact leave-one-out error on Train (no peeking at the evaluated split).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from emotrace.core.errors import UserFacingError
from emotrace.core.ser.config import EmoTraceConfig
from emotrace.core.ser.pipeline import Encoders, pick_device
from emotrace.core.stats.metrics import ccc_per_dimension
from emotrace.core.store import Store
from emotrace.core.vocab import DIMENSIONS
from emotrace.training.data import DEV, TRAIN, labels_array, load_examples
from emotrace.training.features import prepare_features

ALPHAS = np.logspace(-1, 5, 13)


def _standardise(train: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = train.mean(0), train.std(0) + 1e-6
    return (train - mean) / std, (other - mean) / std


_SPECTRA: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
SPECTRA_BYTES = 512 << 20  # eigendecompositions kept in memory (a warm worker probes the same features again)


def _spectrum(x_train: np.ndarray, x_test: np.ndarray):
    """The standardised features' Gram eigendecomposition, its squared eigenvectors and the test cross-kernel.
    They depend on the features only, not on the labels: a retrain after corrections in a warm worker reads
    them back instead of an n x n `eigh` per layer (7.6 s of a 22 s warm retrain on ravdess-dev)."""
    key = hashlib.blake2b(x_train.tobytes(), digest_size=16, key=str(x_train.shape).encode())
    key.update(x_test.tobytes())
    digest = key.digest()
    if digest in _SPECTRA:
        return _SPECTRA[digest]
    xt, xs = _standardise(x_train.astype(np.float64), x_test.astype(np.float64))
    gram = xt @ xt.T / xt.shape[1]
    evals, evecs = np.linalg.eigh(gram)
    evals = np.clip(evals, 0.0, None)
    cross = xs @ xt.T / xt.shape[1]
    item = (evals, evecs, evecs ** 2, cross)
    size = evecs.nbytes * 2 + cross.nbytes
    while _SPECTRA and size + sum(v[1].nbytes * 2 + v[3].nbytes for v in _SPECTRA.values()) > SPECTRA_BYTES:
        _SPECTRA.pop(next(iter(_SPECTRA)))
    if size <= SPECTRA_BYTES:
        _SPECTRA[digest] = item
    return item


def ridge_predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                  alphas: np.ndarray = ALPHAS) -> np.ndarray:
    """Kernel ridge (linear kernel) per target column; each column's penalty by exact leave-one-out MSE."""
    evals, evecs, evecs2, cross = _spectrum(x_train, x_test)
    y_mean = y_train.mean(0)
    y = y_train - y_mean
    proj = evecs.T @ y  # [n, targets]
    best = np.full(y.shape[1], np.inf)
    best_alpha = np.full(y.shape[1], alphas[0] / len(y))
    for a in alphas / len(y):  # the hat matrix's diagonal depends on the penalty only: once for every target
        shrink = evals / (evals + a)
        fitted = evecs @ (shrink[:, None] * proj)
        hat_diag = evecs2 @ shrink
        loo = (y - fitted) / np.clip(1 - hat_diag, 1e-6, None)[:, None]
        err = np.mean(loo ** 2, axis=0)
        better = err < best
        best, best_alpha = np.where(better, err, best), np.where(better, a, best_alpha)
    dual = evecs @ (proj / (evals[:, None] + best_alpha[None, :]))
    return cross @ dual + y_mean


@dataclass
class LayerReport:
    backbone: str
    split: str
    n_train: int
    n_eval: int
    probe_ccc: list[dict[str, float]]  # one dict per hidden state (0 = the embeddings before layer 1)
    all_layers_ccc: dict[str, float]
    layer_weights: list[list[float]] | None = None  # [3, L] from a trained model, when one is given
    weights_source: str | None = None
    best_layer: dict[str, int] = field(default_factory=dict)
    baseline: dict | None = None  # eGeMAPS + ridge on the same split (training/baseline.py, set by its caller)

    def to_dict(self) -> dict:
        return {"backbone": self.backbone, "split": self.split, "n_train": self.n_train, "n_eval": self.n_eval,
                "dimensions": list(DIMENSIONS), "probe_ccc": self.probe_ccc, "all_layers_ccc": self.all_layers_ccc,
                "best_layer": self.best_layer, "layer_weights": self.layer_weights,
                "weights_source": self.weights_source, "egemaps_ridge": self.baseline}


def probe_layers(train_feats: np.ndarray, train_gold: np.ndarray, eval_feats: np.ndarray, eval_gold: np.ndarray,
                 all_layers: bool = True) -> tuple[list[dict[str, float]], dict[str, float] | None]:
    """Per-layer probe CCCs and the all-layers probe (all layers' pooled features concatenated)."""
    per_layer = [ccc_per_dimension(ridge_predict(train_feats[:, k], train_gold, eval_feats[:, k]), eval_gold)
                 for k in range(train_feats.shape[1])]
    if not all_layers:
        return per_layer, None
    flat = ridge_predict(train_feats.reshape(len(train_feats), -1), train_gold,
                         eval_feats.reshape(len(eval_feats), -1))
    return per_layer, ccc_per_dimension(flat, eval_gold)


def layer_relevance(store: Store, corpus: str, backbone: str, split: str = DEV, device: str = "auto",
                    weights: tuple[list[list[float]], str] | None = None, progress=None) -> LayerReport:
    """Probe every hidden state of `backbone` on `corpus` (fit on Train, score on `split`)."""
    examples = load_examples(store, corpus)
    train_ex = [e for e in examples if e.split == TRAIN]
    eval_ex = [e for e in examples if e.split == split]
    if len(train_ex) < 8 or len(eval_ex) < 4:
        raise UserFacingError(f"not enough labelled segments to probe layers: {len(train_ex)} in {TRAIN}, "
                              f"{len(eval_ex)} in {split} (need at least 8 and 4)")
    config = EmoTraceConfig(audio_backbone=backbone, modalities="audio")
    encoders = Encoders(config, pick_device(device))
    events = (lambda e: progress(e.get("done", 0), e.get("total", 0), "features")) if progress else (lambda e: None)
    tr, _, _ = prepare_features(config, encoders, train_ex, events, None)
    ev, _, _ = prepare_features(config, encoders, eval_ex, events, None)
    per_layer, flat = probe_layers(tr, labels_array(train_ex), ev, labels_array(eval_ex))
    best = {d: int(np.nanargmax([p[d] for p in per_layer])) for d in DIMENSIONS}
    return LayerReport(backbone, split, len(train_ex), len(eval_ex), per_layer, flat,
                       weights[0] if weights else None, weights[1] if weights else None, best)


def format_table(report: LayerReport) -> str:
    """Plain-text table: one row per hidden state, probe CCC per dimension, then the learned weights."""
    has_w = report.layer_weights is not None
    head = f"{'layer':>5}  " + "  ".join(f"{d[:3]:>6}" for d in DIMENSIONS)
    if has_w:
        head += "  |  weights " + " ".join(f"{d[:3]:>5}" for d in DIMENSIONS)
    lines = [f"{report.backbone}: ridge probe CCC on {report.split} (fit on {TRAIN}, n={report.n_train}/"
             f"{report.n_eval}); layer 0 = embeddings", head]
    for k, row in enumerate(report.probe_ccc):
        line = f"{k:>5}  " + "  ".join(f"{row[d]:6.3f}" for d in DIMENSIONS)
        if has_w and k < len(report.layer_weights[0]):
            line += "  |          " + " ".join(f"{report.layer_weights[i][k]:5.3f}" for i in range(len(DIMENSIONS)))
        lines.append(line)
    lines.append("  all  " + "  ".join(f"{report.all_layers_ccc[d]:6.3f}" for d in DIMENSIONS))
    if report.baseline and "ccc" in report.baseline:
        lines.append("eGeMAPS+ridge " + "  ".join(f"{report.baseline['ccc'][d]:6.3f}" for d in DIMENSIONS)
                     + "  (88 openSMILE functionals, the field's baseline, same split)")
    elif report.baseline:
        lines.append(f"eGeMAPS + ridge baseline: not computed ({report.baseline['unavailable']})")
    if has_w:
        lines.append(f"weights: {report.weights_source}")
    return "\n".join(lines)


__all__ = ["LayerReport", "format_table", "layer_relevance", "probe_layers", "ridge_predict"]
