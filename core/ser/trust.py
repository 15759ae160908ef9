"""The trust indicator: how far a window's pooled audio features lie from what the model was trained on.

A model trained on acted RAVDESS clips puts a calm podcast chat at valence 1.1 on a 1-7 scale, and nothing told
the user that the audio was unlike anything it learned from. Here each span's pooled features (the model's own
view of them: standardised with its training statistics and mixed over layers with its learned layer weights,
averaged over A/V/D) are projected on the training features' first principal components; the distance is the
Mahalanobis distance there, under a Ledoit-Wolf shrinkage covariance (stable with few examples per dimension),
plus what the components leave out, in units of its training spread (probabilistic PCA's two terms).

The radius is calibrated on held-out training-domain examples (the development split, never seen by the fit):
95% of them fall inside. A span's `trust` is its distance over that radius: at most 1 inside, above 1 outside
(out of domain: read its A/V/D with care). The statistics are saved with the model version as
`trust.safetensors` (tensors, and the calibration in its metadata): never a pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load_file, save_file

TRUST_FILE = "trust.safetensors"
MIN_EXAMPLES = 8  # fewer training examples than this give no trust statistics
COVERAGE = 0.95  # held-out training-domain windows inside the radius
MAX_COMPONENTS = 32


@dataclass
class TrustModel:
    centre: np.ndarray  # [P]
    components: np.ndarray  # [P, K]
    precision: np.ndarray  # [K, K]
    residual_var: float  # per dimension, of what the K components leave out
    radius: float
    info: dict

    @classmethod
    def fit(cls, train: np.ndarray, held_out: np.ndarray, coverage: float = COVERAGE) -> TrustModel:
        """From `[N, P]` training features; the radius from `[M, P]` held-out ones."""
        # lazy: scikit-learn loads only where a model is trained
        from sklearn.covariance import LedoitWolf

        train = np.asarray(train, np.float64)
        centre = train.mean(0)
        # at most half the examples' rank: the training residuals must stay non-zero to scale the residual term
        k = int(max(1, min(MAX_COMPONENTS, (len(train) - 1) // 2, train.shape[1] - 1)))
        _u, _s, vt = np.linalg.svd(train - centre, full_matrices=False)
        components = np.ascontiguousarray(vt[:k].T)
        z = (train - centre) @ components
        cov = LedoitWolf().fit(z)
        residual = ((train - centre) - z @ components.T) ** 2
        residual_var = float(residual.sum(1).mean() / max(1, train.shape[1] - k)) + 1e-12
        model = cls(centre, components, cov.precision_, residual_var, 1.0, {})
        held = model.distance(held_out)
        radius = float(np.quantile(held, coverage)) if len(held) else float(np.quantile(model.distance(train), 0.99))
        model.radius = max(radius, 1e-6)
        model.info = {"coverage": coverage, "components": k, "train": len(train), "held_out": len(held_out),
                      "shrinkage": round(float(cov.shrinkage_), 4), "radius": round(model.radius, 4),
                      "method": "Mahalanobis (Ledoit-Wolf) on principal components + residual"}
        return model

    def distance(self, feats: np.ndarray) -> np.ndarray:
        """Mahalanobis distance within the components plus the residual off them in units of its training
        spread (probabilistic PCA's two terms): audio unlike the training data mostly differs off the
        components, which a distance within them alone would not see."""
        x = np.asarray(feats, np.float64) - self.centre
        z = x @ self.components
        inside = np.einsum("nk,kl,nl->n", z, self.precision, z)
        off = ((x - z @ self.components.T) ** 2).sum(1) / self.residual_var
        return np.sqrt(np.maximum(inside + off, 0.0))

    def score(self, feats: np.ndarray) -> np.ndarray:
        """Distance over the calibrated radius: <= 1 inside, > 1 outside the training domain."""
        return self.distance(feats) / self.radius

    def save(self, folder: str | Path) -> None:
        # C order: safetensors writes an array's buffer as it lies (a transposed view would come back scrambled)
        tensors = {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in (
            ("centre", self.centre), ("components", self.components), ("precision", self.precision),
            ("radius", np.array([self.radius])), ("residual_var", np.array([self.residual_var])))}
        path = Path(folder) / TRUST_FILE
        tmp = path.with_suffix(".partial")
        save_file(tensors, str(tmp), metadata={"emotrace_trust": json.dumps(self.info)})
        tmp.replace(path)

    @classmethod
    def load(cls, folder: str | Path) -> TrustModel | None:
        """The model version's trust statistics; None for a version trained without them (or a damaged file:
        analysis goes on without the indicator rather than fail)."""
        path = Path(folder) / TRUST_FILE
        if not path.is_file():
            return None
        try:
            t = load_file(str(path))
            with safe_open(str(path), framework="numpy") as fh:
                info = json.loads((fh.metadata() or {}).get("emotrace_trust", "{}"))
            model = cls(t["centre"].astype(np.float64), t["components"].astype(np.float64),
                        t["precision"].astype(np.float64), float(t["residual_var"][0]), float(t["radius"][0]), info)
        except (OSError, ValueError, KeyError, SafetensorError):  # JSONDecodeError is a ValueError
            return None
        k = model.components.shape[1] if model.components.ndim == 2 else -1
        if (model.centre.ndim != 1 or model.components.shape[0] != len(model.centre) or model.precision.shape != (k, k)
                or not np.isfinite(model.radius) or model.radius <= 0 or not model.residual_var > 0):
            return None
        return model


def model_features(model, audio: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """`[N, L, P]` pooled features -> `[N, P]` as `model` (an EmoTraceModel) sees them (`audio_view`)."""
    # lazy: the trust statistics themselves need no torch; only the model's view of features does
    import torch

    device = next(model.parameters()).device
    out = []
    with torch.inference_mode():
        for i in range(0, len(audio), batch_size):
            batch = torch.as_tensor(np.asarray(audio[i: i + batch_size], np.float32), device=device)
            out.append(model.audio_view(batch).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.config.audio_layers), np.float32)


def fit_for_model(model, train_audio: np.ndarray | None, held_audio: np.ndarray | None) -> TrustModel | None:
    """A trained model's trust statistics: fitted on its training features, calibrated on held-out ones.
    None when the model reads no audio or there are too few examples to say anything."""
    if (train_audio is None or held_audio is None or not model.config.uses_audio or len(train_audio) < MIN_EXAMPLES
            or len(held_audio) < 2):
        return None
    return TrustModel.fit(model_features(model, train_audio), model_features(model, held_audio))
