"""On-disk cache of frozen-encoder features, keyed by encoder and audio fingerprint.

A retrain after a few corrections reads these instead of running the encoders: seconds, not minutes. Each
file's entry is written atomically, so an interrupted cache build resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch.distributed as dist

from emotrace.core.paths import cache_dir
from emotrace.core.progress import CancelFn, ProgressFn, check_cancel, no_progress
from emotrace.core.ser.pooling import FileRequest, iter_pooled
from emotrace.training.data import Example

if TYPE_CHECKING:
    from emotrace.core.ser.config import EmoTraceConfig
    from emotrace.core.ser.pipeline import Encoders


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[-80:] + "-" + hashlib.sha1(name.encode()).hexdigest()[:8]


class FeatureCache:
    def __init__(self, encoder_name: str, root: Path | None = None) -> None:
        self.dir = (root or cache_dir() / "features") / _slug(encoder_name)
        self.dir.mkdir(parents=True, exist_ok=True)

    def _path(self, fingerprint: str) -> Path:
        return self.dir / f"{fingerprint}.npz"

    def load(self, fingerprint: str) -> tuple[np.ndarray, np.ndarray] | None:
        path = self._path(fingerprint)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                return data["spans"], data["feats"]
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)  # a damaged entry is rebuilt
            return None

    def save(self, fingerprint: str, spans: np.ndarray, feats: np.ndarray) -> None:
        path = self._path(fingerprint)
        tmp = path.with_suffix(".partial.npz")
        np.savez(tmp, spans=spans.astype(np.float64), feats=feats.astype(np.float32))
        os.replace(tmp, path)


def _lookup(spans: np.ndarray, feats: np.ndarray, start: float, end: float) -> np.ndarray | None:
    hit = np.where((np.abs(spans[:, 0] - start) < 1e-3) & (np.abs(spans[:, 1] - end) < 1e-3))[0]
    return feats[hit[0]] if len(hit) else None


def cached_spans(cache: FeatureCache, examples: list[Example]):
    """Per file of the examples: (fingerprint, the cache's (spans, feats) or None, {example index: cached row},
    the indices the cache lacks). The one lookup every feature cache user walks (audio encoders, eGeMAPS)."""
    by_file: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        by_file[e.fingerprint].append(i)
    for fp, idxs in by_file.items():
        hit = cache.load(fp)
        found: dict[int, np.ndarray] = {}
        missing = []
        for i in idxs:
            x = _lookup(*hit, examples[i].start, examples[i].end) if hit else None
            if x is None:
                missing.append(i)
            else:
                found[i] = x
        yield fp, hit, found, missing


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
