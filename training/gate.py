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

import hashlib
import math
from dataclasses import asdict, dataclass, replace
from importlib.resources import files
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from emotrace.core.audio.decode import fingerprint
from emotrace.core.ser.config import CONFIG_NAME, ModelFolderError
from emotrace.core.ser.encoders import featurizer_key
from emotrace.core.ser.feature_cache import FeatureCache, lookup
from emotrace.core.ser.modeling import EmoTraceModel
from emotrace.core.ser.pipeline import Encoders, check_fit, pick_device
from emotrace.core.ser.pooling import FileRequest, iter_pooled
from emotrace.core.ser.trust import TrustModel
from emotrace.core.vocab import DIMENSIONS, SCALE
from emotrace.core.workflows.analyze import stack_pooled

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


def reference_features(config, device: str = "cpu", encoders: Encoders | None = None
                       ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The reference clip's pooled audio features `[spans, L, 2D]` (every layer: the model slices its own) and
    its texts' embeddings, as `config`'s backbones give them: from the feature cache when a model on the same
    backbones was checked before, else encoded once (with `encoders` when given) and cached. The gate's cost used
    to be loading both encoders again for every activation (about 12 s on CPU); now it is the heads' (issue 25)."""
    audio = text = None
    texts = [REFERENCE_TEXTS[k % len(REFERENCE_TEXTS)] for k in range(len(REFERENCE_SPANS))]
    if config.uses_audio:
        cache = FeatureCache(featurizer_key(config.audio_backbone))
        fp = _reference_fingerprint()
        hit = cache.load(fp)
        rows = [lookup(*hit, s, e) for s, e in REFERENCE_SPANS] if hit is not None else [None]
        if any(r is None for r in rows):
            encoders = encoders or Encoders(replace(config, modalities="audio"), device)
            enc = encoders.audio.all_layers()
            feats: list[np.ndarray | None] = [None] * len(REFERENCE_SPANS)
            for _key, part in iter_pooled(enc, [FileRequest(0, str(REFERENCE_CLIP), REFERENCE_SPANS)]):
                if isinstance(part, Exception):
                    raise RuntimeError(str(part))
                for k, x in part:
                    feats[k] = x
            audio, missing = stack_pooled(feats, enc.num_layers, enc.dim)
            if missing.any():  # no audio under a span: refused below as non-finite, as analysis would flag it
                audio[missing] = np.nan
            else:
                cache.save(fp, REFERENCE_SPANS, audio)
        else:
            audio = np.stack(rows)
    if config.uses_text:
        cache = FeatureCache(f"text:{config.text_backbone}")
        key = "reference-texts-" + hashlib.sha1("\n".join(texts).encode()).hexdigest()[:16]
        hit = cache.load(key)
        if hit is None or len(hit[1]) != len(texts):
            encoders = encoders if encoders is not None and encoders.text is not None else Encoders(
                replace(config, modalities="text"), device)
            emb = encoders.text.encode(texts).astype(np.float32)
            cache.save(key, np.array([[k, k + 1] for k in range(len(texts))], np.float64), emb)
            text = emb
        else:
            text = hit[1]
    return audio, text


def _reference_fingerprint() -> str:
    global _REFERENCE_FP
    if _REFERENCE_FP is None:
        _REFERENCE_FP = "reference-" + fingerprint(REFERENCE_CLIP)
    return _REFERENCE_FP


_REFERENCE_FP: str | None = None


def check_outputs(folder: str | Path, device: str = "cpu", encoders: Encoders | None = None) -> None:
    """Run the model in `folder` on the reference clip, as analysis would; raise ModelFolderError (one line naming
    the folder) when it does not load on its backbone, or its outputs are not finite, lie off the 1-7 scale or
    pinned at its end, or do not change from one span to the next in some dimension (a model that hears
    nothing). `encoders` are already loaded ones of the same backbone (training passes its own); the reference
    features come from the feature cache once any model on these backbones was checked."""
    folder = Path(folder)
    device = pick_device(device)
    try:
        model = EmoTraceModel.from_pretrained(folder).to(device).eval()
        config = model.config
        if config.uses_audio:
            TrustModel.load(folder)  # analysis loads it too: a damaged trust file fails here, not there
        audio, text = reference_features(config, device, encoders)
        if audio is not None and config.audio_layer_ids is not None:
            audio = audio[:, config.audio_layer_ids]
        check_fit(config, SimpleNamespace(
            audio=None if audio is None else SimpleNamespace(num_layers=audio.shape[1], dim=audio.shape[2] // 2),
            text=None if text is None else SimpleNamespace(dim=text.shape[1])), folder / CONFIG_NAME)
        with torch.inference_mode():
            fused = model(None if audio is None else torch.as_tensor(audio, device=device),
                          None if text is None else torch.as_tensor(text, device=device),
                          text_present=None if text is None else torch.ones(len(text), device=device)
                          ).float().cpu().numpy()
    except ModelFolderError:
        raise
    except OSError as exc:  # a folder without its weights
        raise ModelFolderError(f"model folder {folder}: {str(exc).splitlines()[0][:200]}") from exc
    except (RuntimeError, ValueError) as exc:  # torch's shape and dtype errors inside a forward pass
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFolderError(f"model folder {folder}: does not run on the reference clip ({reason[:200]})") from exc
    fused = np.asarray(fused, dtype=np.float64)
    if not np.isfinite(fused).all():
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
