"""Pool encoder frames into per-span statistics, one encoder pass per chunk of a file.

Every span (segment or sliding window) gets the mean and standard deviation of its frames, per layer. The
statistics are accumulated from chunk-wise cumulative sums, so overlapping windows never re-encode audio, and
a span is handed out (and forgotten) as soon as the audio past its end has been encoded: memory stays bounded
on a 3-hour file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from emotrace.core.audio.decode import TARGET_SR, AudioSource
from emotrace.core.progress import check_cancel


class SpanPooler:
    """Feed `(frames [L,T,D], t0)` chunks of one file in order; `finished()` yields `(span_index, [L, 2D])`."""

    def __init__(self, spans: np.ndarray, frame_rate: float) -> None:
        self.spans = np.asarray(spans, dtype=np.float64).reshape(-1, 2)
        self.frame_rate = frame_rate
        self.order = np.argsort(self.spans[:, 0], kind="stable")
        self.opened = 0
        self.active: dict[int, list] = {}
        self.covered_until = 0.0
        self.ready: list[tuple[int, np.ndarray]] = []
        self.nearest: dict[int, np.ndarray] = {}

    def add(self, frames: np.ndarray, t0: float) -> None:
        layers, count, dim = frames.shape
        t_end = t0 + count / self.frame_rate
        while self.opened < len(self.order) and self.spans[self.order[self.opened], 0] < t_end:
            self.active[int(self.order[self.opened])] = [np.zeros((layers, dim)), np.zeros((layers, dim)), 0]
            self.opened += 1
        if self.active:
            f64 = frames.astype(np.float64)
            csum = np.concatenate([np.zeros((layers, 1, dim)), np.cumsum(f64, axis=1)], axis=1)
            csq = np.concatenate([np.zeros((layers, 1, dim)), np.cumsum(f64 * f64, axis=1)], axis=1)
            for idx, acc in self.active.items():
                s, e = self.spans[idx]
                k0 = int(np.clip(round((s - t0) * self.frame_rate), 0, count))
                k1 = int(np.clip(round((e - t0) * self.frame_rate), 0, count))
                if k1 > k0:
                    acc[0] += csum[:, k1] - csum[:, k0]
                    acc[1] += csq[:, k1] - csq[:, k0]
                    acc[2] += k1 - k0
                elif acc[2] == 0 and idx not in self.nearest:  # shorter than a frame: keep the closest one
                    k = int(np.clip(round((s + e) / 2 * self.frame_rate - t0 * self.frame_rate), 0, count - 1))
                    self.nearest[idx] = f64[:, k]
        self.covered_until = t_end
        for idx in [i for i in self.active if self.spans[i, 1] <= t_end + 1e-6]:
            self.ready.append((idx, self._finish(idx)))

    @property
    def complete(self) -> bool:
        """Every span has been handed out: no audio after this point changes any of them."""
        return self.opened == len(self.order) and not self.active

    def close(self) -> None:
        while self.opened < len(self.order):  # spans past the audio's end
            self.active[int(self.order[self.opened])] = None
            self.opened += 1
        for idx in list(self.active):
            self.ready.append((idx, self._finish(idx)))

    def _finish(self, idx: int) -> np.ndarray:
        acc = self.active.pop(idx)
        if acc is None or acc[2] == 0:
            near = self.nearest.pop(idx, None)
            if near is None:
                return np.full((1, 1), np.nan, np.float32)
            return np.concatenate([near, np.zeros_like(near)], axis=-1).astype(np.float32)
        mean = acc[0] / acc[2]
        std = np.sqrt(np.maximum(acc[1] / acc[2] - mean * mean, 0.0))
        return np.concatenate([mean, std], axis=-1).astype(np.float32)

    def finished(self) -> list[tuple[int, np.ndarray]]:
        out, self.ready = self.ready, []
        return out


@dataclass
class FileRequest:
    key: object
    path: str
    spans: np.ndarray


def iter_pooled(encoder, requests: list[FileRequest], batch_size: int = 8, cancel=None
                ) -> Iterator[tuple[object, list[tuple[int, np.ndarray]]]]:
    """Encode files chunk by chunk (short files batched together) and yield each file's pooled spans as
    `(key, [(span_index, [L, 2D]), ...])` in pieces, as soon as they are final; a file that fails to
    decode yields `(key, exception)` once and is dropped. A file is read only as far as its last span: a retrain
    on labels in the first minutes of a 3-hour file encodes those minutes, not three hours."""
    def chunks_of(req: FileRequest):
        last_end = float(np.max(req.spans[:, 1])) if len(req.spans) else 0.0
        if last_end <= 0:
            return
        source = AudioSource(req.path)
        t0 = 0.0
        for chunk in source.iter_chunks(encoder.chunk_seconds):
            yield chunk, t0
            t0 += len(chunk) / TARGET_SR
            if t0 >= last_end:  # nothing after the last span is decoded nor encoded
                return

    poolers: dict[int, SpanPooler] = {}
    pending = [(i, chunks_of(r)) for i, r in enumerate(requests)]
    complete: set[int] = set()
    while pending:
        check_cancel(cancel)
        batch, survivors = [], []
        # Chunks of every open file, several in a row from the same file, up to batch_size in all: a single
        # long file fills the batch too (one chunk per file encoded a 5-minute podcast at batch 1, 1.6x slower).
        share = max(1, batch_size // max(1, len(pending)))
        for i, stream in pending:
            if len(batch) >= batch_size:
                survivors.append((i, stream))
                continue
            try:
                for _ in range(min(share, batch_size - len(batch))):
                    chunk, t0 = next(stream)
                    batch.append((i, chunk, t0))
                survivors.append((i, stream))
            except StopIteration:
                if any(j == i for j, _, _ in batch):  # its last chunks are in this batch: closed next round
                    survivors.append((i, stream))
                    continue
                pooler = poolers.pop(i, None) or SpanPooler(requests[i].spans, encoder.frame_rate)
                pooler.close()
                yield requests[i].key, pooler.finished()
            except Exception as exc:  # noqa: BLE001 - a broken file is reported, the others go on
                poolers.pop(i, None)
                batch = [item for item in batch if item[0] != i]
                yield requests[i].key, exc
        pending = survivors
        if not batch:
            continue
        frames = encoder.encode_batch([c for _, c, _ in batch])
        for (i, _chunk, t0), fr in zip(batch, frames):  # in order: a file's chunks reach its pooler in time order
            if i in complete:
                continue
            pooler = poolers.setdefault(i, SpanPooler(requests[i].spans, encoder.frame_rate))
            pooler.add(fr, t0)
            ready = pooler.finished()
            if ready:
                yield requests[i].key, ready
            if pooler.complete:  # the rest of the file is neither decoded nor encoded
                del poolers[i]
                complete.add(i)
        pending = [(i, stream) for i, stream in pending if i not in complete]
