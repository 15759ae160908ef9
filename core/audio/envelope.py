"""Waveform min/max envelopes, computed once per file (streamed) and cached, at several resolutions.

The detail view asks for the level whose bins best match its pixel width and slices only the visible range,
so drawing an hours-long file costs the same as drawing a short one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from emotrace.core.audio.decode import TARGET_SR, AudioSource
from emotrace.core.paths import cache_dir

BASE_BIN = 128  # samples per finest bin: 8 ms at 16 kHz
FACTOR = 4


@dataclass
class EnvelopePyramid:
    levels: list[tuple[np.ndarray, np.ndarray]]  # per level (mins, maxs); level 0 finest
    duration: float

    def bin_seconds(self, level: int) -> float:
        return BASE_BIN * FACTOR ** level / TARGET_SR

    def level_for(self, seconds: float, pixels: int) -> int:
        """The level whose bin count over the visible seconds is closest to one bin per pixel."""
        level = 0
        while level + 1 < len(self.levels) and seconds / self.bin_seconds(level + 1) >= pixels / 2:
            level += 1
        return level

    def view(self, start: float, end: float, pixels: int = 2000) -> tuple[np.ndarray, np.ndarray]:
        """`(x, y)` as min/max pairs per bin, meant to be drawn with `connect="pairs"`: one vertical stroke per
        bin (about one per pixel), the classic waveform look at the cost of a few thousand short lines."""
        level = self.level_for(max(end - start, 1e-3), max(pixels, 1))
        mins, maxs = self.levels[level]
        step = self.bin_seconds(level)
        i0, i1 = max(0, int(start / step) - 1), min(len(mins), int(np.ceil(end / step)) + 1)
        t = (np.arange(i0, i1) + 0.5) * step
        x = np.repeat(t, 2)
        y = np.empty(2 * (i1 - i0), np.float32)
        y[0::2], y[1::2] = mins[i0:i1], maxs[i0:i1]
        return x, y


class EnvelopeBuilder:
    """Min/max per BASE_BIN samples, fed chunk by chunk: import feeds it from the decode it does anyway."""

    def __init__(self) -> None:
        self.mins: list[np.ndarray] = []
        self.maxs: list[np.ndarray] = []
        self.samples = 0
        self.carry = np.zeros(0, np.float32)

    def add(self, chunk: np.ndarray) -> None:
        self.samples += len(chunk)
        data = np.concatenate([self.carry, chunk]) if len(self.carry) else chunk
        usable = len(data) - len(data) % BASE_BIN
        blocks = data[:usable].reshape(-1, BASE_BIN)
        self.mins.append(blocks.min(1))
        self.maxs.append(blocks.max(1))
        self.carry = data[usable:]

    def finish(self) -> tuple[np.ndarray, np.ndarray, float]:
        if len(self.carry):
            self.mins.append(self.carry.min(keepdims=True))
            self.maxs.append(self.carry.max(keepdims=True))
            self.carry = np.zeros(0, np.float32)
        if not self.mins:
            return np.zeros(1, np.float32), np.zeros(1, np.float32), 0.0
        return np.concatenate(self.mins), np.concatenate(self.maxs), self.samples / TARGET_SR

    def save(self, fingerprint: str) -> None:
        mins, maxs, duration = self.finish()
        _save(_cache_path(fingerprint), mins, maxs, duration)


def _cache_path(fingerprint: str):
    return cache_dir() / "envelopes" / f"{fingerprint}.npz"


def _save(path, mins: np.ndarray, maxs: np.ndarray, duration: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial.npz")
    np.savez(tmp, mins=mins, maxs=maxs, duration=duration)
    os.replace(tmp, path)


def _pyramid(mins: np.ndarray, maxs: np.ndarray, duration: float) -> EnvelopePyramid:
    levels = [(mins, maxs)]
    while len(levels[-1][0]) > 2000:
        lo, hi = levels[-1]
        pad = (-len(lo)) % FACTOR
        lo = np.concatenate([lo, np.repeat(lo[-1:], pad)]).reshape(-1, FACTOR).min(1)
        hi = np.concatenate([hi, np.repeat(hi[-1:], pad)]).reshape(-1, FACTOR).max(1)
        levels.append((lo, hi))
    return EnvelopePyramid(levels, duration)


def envelope(path: str, fingerprint: str | None = None) -> EnvelopePyramid:
    """The file's envelope pyramid: from the cache (filled at import) when its fingerprint was seen before."""
    cached = _cache_path(fingerprint) if fingerprint else None
    if cached is not None and cached.is_file():
        try:
            with np.load(cached, allow_pickle=False) as data:
                return _pyramid(data["mins"], data["maxs"], float(data["duration"]))
        except (OSError, ValueError, KeyError):
            cached.unlink(missing_ok=True)
    builder = EnvelopeBuilder()
    for chunk in AudioSource(path).iter_chunks(60.0):
        builder.add(chunk)
    mins, maxs, duration = builder.finish()
    if cached is not None:
        _save(cached, mins, maxs, duration)
    return _pyramid(mins, maxs, duration)
