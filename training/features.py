"""Training's features: pooled audio features through the feature cache (`core/ser/feature_cache.py`, which
analysis fills too), and text features.

A retrain after a few corrections, or after `emotrace analyze`, reads the cache instead of running the encoders:
seconds, not minutes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch.distributed as dist

from emotrace.core.progress import CancelFn, ProgressFn, check_cancel, no_progress
from emotrace.core.ser.feature_cache import FeatureCache, cached_spans
from emotrace.core.ser.pooling import FileRequest, iter_pooled
from emotrace.training.data import Example

if TYPE_CHECKING:
    from emotrace.core.ser.config import EmoTraceConfig
    from emotrace.core.ser.pipeline import Encoders


def audio_features(encoder, examples: list[Example], *, cache: FeatureCache | None = None,
                   progress: ProgressFn = no_progress, cancel: CancelFn | None = None,
                   encoder_name: str | None = None) -> np.ndarray:
    """`[N, L, 2D]` for the examples; only files (or spans) missing from the cache are encoded. The cache holds
    every hidden state; an encoder that keeps a subset of layers gets its slice."""
    layers = getattr(encoder, "layers", None)
    if layers is not None:
        full = audio_features(encoder.all_layers(), examples, cache=cache, progress=progress, cancel=cancel,
                              encoder_name=encoder_name)
        return full[:, layers]
    cache = cache or FeatureCache(encoder_name or getattr(encoder, "cache_key", encoder.name))
    out: list[np.ndarray | None] = [None] * len(examples)
    todo: list[FileRequest] = []
    for fp, hit, found, missing in cached_spans(cache, examples):
        for i, x in found.items():
            out[i] = x
        if missing:
            new_spans = np.array([[examples[i].start, examples[i].end] for i in missing])
            todo.append(FileRequest((fp, tuple(missing), hit), examples[missing[0]].path, new_spans))
    done = 0
    partial: dict[str, dict[int, np.ndarray]] = defaultdict(dict)
    for key, part in iter_pooled(encoder, todo, batch_size=8, cancel=cancel):
        fp, missing, hit = key
        if isinstance(part, Exception):
            raise RuntimeError(f"cannot encode {examples[missing[0]].path}: {part}")
        partial[fp].update(part)
        if len(partial[fp]) == len(missing):
            got = partial.pop(fp)
            feats = np.stack([got[k] for k in range(len(missing))])
            for k, i in enumerate(missing):
                out[i] = feats[k]
            spans = np.array([[examples[i].start, examples[i].end] for i in missing])
            if hit:
                spans, feats = np.concatenate([hit[0], spans]), np.concatenate([hit[1], feats])
            cache.save(fp, spans, feats)
            done += 1
            progress(done, len(todo), "features")
        check_cancel(cancel)
    return np.stack(out) if out else np.zeros((0, 1, 1), np.float32)


def text_features(encoder, examples: list[Example]) -> tuple[np.ndarray, np.ndarray]:
    texts = [e.text for e in examples]
    return encoder.encode(texts).astype(np.float32), np.array([bool(t) for t in texts], np.float32)


def distributed():
    """torch.distributed when this process runs in an initialised group (torchrun), else None."""
    return dist if dist.is_available() and dist.is_initialized() else None


def prepare_features(config: EmoTraceConfig, encoders: Encoders, examples: list[Example],
                     on_event: Callable[[dict], None], cancel: CancelFn | None, audio: bool = True):
    """Audio features (from the cache; rank 0 fills it under torchrun) and text features, as training, the
    layer probe and evaluation read them."""
    want_audio, audio = audio, None
    if config.uses_audio and want_audio:
        group = distributed()
        if group is None or group.get_rank() == 0:
            audio = audio_features(encoders.audio, examples, cancel=cancel,
                                   progress=lambda d, t, m: on_event({"type": "features", "done": d, "total": t}))
        if group is not None:
            group.barrier()
            if group.get_rank() != 0:
                audio = audio_features(encoders.audio, examples, cancel=cancel)
    text = present = None
    if config.uses_text:
        text, present = text_features(encoders.text, examples)
    return audio, text, present
