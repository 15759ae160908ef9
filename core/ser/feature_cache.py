"""The on-disk cache of pooled encoder features per file and span, keyed by featurizer and audio fingerprint.

One home for the features analysis pools and training reads (issue 25, item 4): `emotrace analyze` leaves each
segment's pooled `[L, 2D]` statistics here, and a retrain reads them instead of running the encoder again,
so the first retrain after an analysis encodes nothing. Its home is core (not training) because analysis, in
core, writes it. Each file's entry is written atomically, so an interrupted cache build resumes where it
stopped; entries read once stay in memory (bounded, re-read when the file on disk changed), so a warm
training worker reads a thousand segments' features in milliseconds rather than from a thousand files.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from emotrace.core.paths import cache_dir

MEMO_BYTES = 1 << 30  # features kept in memory across retrains in one process (a warm worker): at most 1 GiB


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[-80:] + "-" + hashlib.sha1(name.encode()).hexdigest()[:8]


class _Memo:
    """Entries already read, by path, with the (mtime, size) they were read at: a file rewritten by another
    process (analysis in the app, a CLI train) is read again; the least recently used go past `MEMO_BYTES`."""

    def __init__(self, limit: int = MEMO_BYTES) -> None:
        self.limit, self.bytes = limit, 0
        self.items: OrderedDict[Path, tuple[tuple[int, int], np.ndarray, np.ndarray]] = OrderedDict()

    def get(self, path: Path, stamp: tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
        item = self.items.get(path)
        if item is None or item[0] != stamp:
            return None
        self.items.move_to_end(path)
        return item[1], item[2]

    def put(self, path: Path, stamp: tuple[int, int], spans: np.ndarray, feats: np.ndarray) -> None:
        self.drop(path)
        self.items[path] = (stamp, spans, feats)
        self.bytes += spans.nbytes + feats.nbytes
        while self.bytes > self.limit and len(self.items) > 1:
            _, (_, s, f) = self.items.popitem(last=False)
            self.bytes -= s.nbytes + f.nbytes

    def drop(self, path: Path) -> None:
        old = self.items.pop(path, None)
        if old is not None:
            self.bytes -= old[1].nbytes + old[2].nbytes


_MEMO = _Memo()


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


class FeatureCache:
    def __init__(self, encoder_name: str, root: Path | None = None) -> None:
        self.dir = (root or cache_dir() / "features") / _slug(encoder_name)
        self.dir.mkdir(parents=True, exist_ok=True)

    def _path(self, fingerprint: str) -> Path:
        return self.dir / f"{fingerprint}.npz"

    def load(self, fingerprint: str) -> tuple[np.ndarray, np.ndarray] | None:
        path = self._path(fingerprint)
        stamp = _stamp(path)
        if stamp is None:
            _MEMO.drop(path)
            return None
        hit = _MEMO.get(path, stamp)
        if hit is not None:
            return hit
        try:
            with np.load(path, allow_pickle=False) as data:
                spans, feats = data["spans"], data["feats"]
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)  # a damaged entry is rebuilt
            _MEMO.drop(path)
            return None
        _MEMO.put(path, stamp, spans, feats)
        return spans, feats

    def save(self, fingerprint: str, spans: np.ndarray, feats: np.ndarray) -> None:
        path = self._path(fingerprint)
        tmp = path.with_suffix(".partial.npz")
        spans, feats = spans.astype(np.float64), feats.astype(np.float32)
        np.savez(tmp, spans=spans, feats=feats)
        os.replace(tmp, path)
        stamp = _stamp(path)
        if stamp is not None:
            _MEMO.put(path, stamp, spans, feats)

    def add(self, fingerprint: str, spans: np.ndarray, feats: np.ndarray) -> None:
        """Merge rows into a file's entry: spans the entry lacks are appended, the others keep their row."""
        hit = self.load(fingerprint)
        if hit is not None:
            new = [k for k, (s, e) in enumerate(spans) if lookup(*hit, s, e) is None]
            if not new:
                return
            spans, feats = np.concatenate([hit[0], spans[new]]), np.concatenate([hit[1], feats[new]])
        self.save(fingerprint, spans, feats)


def lookup(spans: np.ndarray, feats: np.ndarray, start: float, end: float) -> np.ndarray | None:
    """The cached row of the span `[start, end)` (within 1 ms), or None."""
    hit = np.where((np.abs(spans[:, 0] - start) < 1e-3) & (np.abs(spans[:, 1] - end) < 1e-3))[0]
    return feats[hit[0]] if len(hit) else None


class SpanRef(Protocol):
    fingerprint: str
    start: float
    end: float


def cached_spans(cache: FeatureCache, examples: list[SpanRef]
                 ) -> Iterator[tuple[str, tuple[np.ndarray, np.ndarray] | None, dict[int, np.ndarray], list[int]]]:
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
            x = lookup(*hit, examples[i].start, examples[i].end) if hit else None
            if x is None:
                missing.append(i)
            else:
                found[i] = x
        yield fp, hit, found, missing


def keep_pooled(encoder, fingerprint: str, rows: Iterable[tuple[float, float, np.ndarray]]) -> None:
    """Analysis hands over the segments it pooled, `(start, end, [L, 2D])`: they go into the cache under the
    featurizer's key, so training reads them instead of encoding the audio again. Only an all-layer featurizer's
    rows are the cache's (a model reading a subset of layers pools only those); rows that are not finite are
    left out (training would re-encode them and say why)."""
    if getattr(encoder, "layers", None) is not None or not hasattr(encoder, "cache_key"):
        return
    rows = [(s, e, x) for s, e, x in rows if x.shape == (encoder.num_layers, 2 * encoder.dim) and np.isfinite(x).all()]
    if rows:
        FeatureCache(encoder.cache_key).add(fingerprint, np.array([[s, e] for s, e, _ in rows]),
                                            np.stack([x for _, _, x in rows]))


__all__ = ["FeatureCache", "cached_spans", "keep_pooled", "lookup"]
