"""A file's acoustic lanes (mel spectrogram, F0, loudness, HNR), computed once, cached on disk, read by level.

One decode pass streams the file in 60 s chunks: each chunk's mel frames are appended to a memory-mapped
`.npy` (float16, 64 bands, 10 ms frames) and its F0/loudness/HNR frames (openSMILE's eGeMAPS descriptors,
`acoustics.frame_tracks`) to three more, so memory stays at a chunk's worth on a 3-hour file (the finest
spectrogram level of 3 hours is 138 MB on disk, never in memory). Coarser levels (each 4x fewer frames, means
of the level below) are written after it, again chunk by chunk. The app asks `AcousticTracks.spectrogram` and
`track` for the visible range at about one frame per pixel, so a frame costs the same at any zoom.

The cache folder is named by the file's content fingerprint and a version; it is written beside and renamed
into place when complete, so a killed build leaves nothing half-written that could be read as complete.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emotrace.core.audio.acoustics import FRAME_HOP, TRACKS, AcousticsUnavailable, frame_tracks
from emotrace.core.audio.decode import TARGET_SR, AudioSource
from emotrace.core.paths import cache_dir

VERSION = 2  # change when what is cached changes
N_MELS, N_FFT, HOP = 64, 400, 160  # 25 ms windows, 10 ms hop at 16 kHz
FACTOR = 4  # each level has FACTOR times fewer frames than the one below
TOP_FRAMES = 2000  # levels stop once one holds at most this many frames
DB_FLOOR = -100.0


def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, sr: int = TARGET_SR, fmax: float = 8000.0) -> np.ndarray:
    """`[n_fft // 2 + 1, n_mels]` triangular filters on the HTK mel scale (Slaney-normalised by area)."""
    def mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def hz(m):
        return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(0.0), mel(fmax), n_mels + 2))
    bins = np.linspace(0, sr / 2, n_fft // 2 + 1)
    lower = (bins[:, None] - edges[None, :-2]) / (edges[1:-1] - edges[:-2])[None, :]
    upper = (edges[None, 2:] - bins[:, None]) / (edges[2:] - edges[1:-1])[None, :]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    return (weights * (2.0 / (edges[2:] - edges[:-2]))[None, :]).astype(np.float32)


class MelFrames:
    """Mel power in dB, 10 ms frames centred at k x 10 ms, fed chunk by chunk (the STFT continues across chunks)."""

    def __init__(self) -> None:
        self._buffer = np.zeros(N_FFT // 2, np.float32)  # centre padding: frame 0 is centred on sample 0
        self._window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)
        self._bank = mel_filterbank()

    def add(self, chunk: np.ndarray, last: bool = False) -> np.ndarray:
        data = np.concatenate([self._buffer, chunk.astype(np.float32)])
        if last:
            data = np.concatenate([data, np.zeros(N_FFT // 2, np.float32)])
        n = max(0, (len(data) - N_FFT) // HOP + 1)
        if n == 0:
            self._buffer = data
            return np.zeros((0, N_MELS), np.float32)
        frames = np.lib.stride_tricks.sliding_window_view(data, N_FFT)[::HOP][:n] * self._window
        power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        db = 10.0 * np.log10(np.maximum(power @ self._bank, 1e-10))
        self._buffer = data[n * HOP:]
        return np.maximum(db, DB_FLOOR).astype(np.float32)


@dataclass
class AcousticTracks:
    """The cached lanes of one file, opened read-only (memory-mapped)."""

    folder: Path
    mel: list[np.ndarray]  # per level [frames, N_MELS] float16 dB, level 0 finest
    tracks: dict[str, list[np.ndarray]]  # track -> per level [frames] float32, NaN where undefined
    has_tracks: bool  # False when openSMILE was missing: F0 and loudness are all NaN
    duration: float

    @staticmethod
    def frame_seconds(level: int) -> float:
        return FRAME_HOP * FACTOR ** level

    def level_for(self, seconds: float, pixels: int) -> int:
        """The coarsest level with at least one frame per two pixels over the visible seconds: between half a
        frame and two frames per pixel, so a redraw never handles more than twice the pixels' worth of points."""
        level = 0
        while level + 1 < len(self.mel) and seconds / self.frame_seconds(level + 1) >= pixels / 2:
            level += 1
        return level

    def _slice(self, level: int, start: float, end: float, n: int) -> tuple[int, int]:
        step = self.frame_seconds(level)
        return max(0, int(start / step) - 1), min(n, int(np.ceil(end / step)) + 1)

    def spectrogram(self, start: float, end: float, pixels: int = 1000) -> tuple[np.ndarray, float, float]:
        """`([frames, N_MELS] dB as float32, t0, t1)`: the visible frames of the level that matches the width."""
        level = self.level_for(max(end - start, 1e-3), max(pixels, 1))
        mel = self.mel[level]
        i0, i1 = self._slice(level, start, end, len(mel))
        step = self.frame_seconds(level)
        return np.asarray(mel[i0:i1], dtype=np.float32), (i0 - 0.5) * step, (i1 - 0.5) * step

    def track(self, name: str, start: float, end: float, pixels: int = 1000) -> tuple[np.ndarray, np.ndarray]:
        """`(t, values)` of one track over the visible range, about one point per pixel (NaN: a gap)."""
        levels = self.tracks[name]
        level = min(self.level_for(max(end - start, 1e-3), max(pixels, 1)), len(levels) - 1)
        values = levels[level]
        i0, i1 = self._slice(level, start, end, len(values))
        step = self.frame_seconds(level)
        return (np.arange(i0, i1) * step + (step - FRAME_HOP) / 2), np.asarray(values[i0:i1])


def cache_folder(fingerprint: str) -> Path:
    return cache_dir() / "acoustics" / f"{fingerprint}-v{VERSION}"


class _NpyWriter:
    """An .npy written row block by row block with plain writes (no memory map: written pages of a map count
    as the process's memory until the kernel writes them back), its header fixed once the row count is known."""

    HEADER = 128  # bytes: magic, version, length, and the header dict padded with spaces

    def __init__(self, path: Path, width: int, dtype=np.float16) -> None:
        self.path, self.width, self.dtype, self.rows = path, width, np.dtype(dtype), 0
        self._fh = open(path, "wb")
        self._fh.write(b"\0" * self.HEADER)

    def write(self, block: np.ndarray) -> None:
        self._fh.write(np.ascontiguousarray(block, dtype=self.dtype).tobytes())
        self.rows += len(block)

    def close(self) -> None:
        shape = f"({self.rows}, {self.width})" if self.width else f"({self.rows},)"
        text = f"{{'descr': '{self.dtype.str}', 'fortran_order': False, 'shape': {shape}, }}"
        body = text.ljust(self.HEADER - 10 - 1) + "\n"
        self._fh.seek(0)
        self._fh.write(b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body.encode("latin1"))
        self._fh.close()


def _read_rows(path: Path, start: int, count: int, width: int, dtype=np.float16) -> np.ndarray:
    """Rows of an .npy written by `_NpyWriter`, read with a plain read (no memory map)."""
    itemsize = np.dtype(dtype).itemsize * max(width, 1)
    with open(path, "rb") as fh:
        fh.seek(_NpyWriter.HEADER + start * itemsize)
        data = np.frombuffer(fh.read(count * itemsize), dtype=dtype)
    return data.reshape(-1, width) if width else data


def _coarse(part: np.ndarray) -> np.ndarray:
    """Means of FACTOR consecutive frames (NaN-aware for the tracks); the last group repeats its last frame."""
    part = np.asarray(part, dtype=np.float32)
    pad = (-len(part)) % FACTOR
    if pad:
        part = np.concatenate([part, np.repeat(part[-1:], pad, axis=0)])
    part = part.reshape(len(part) // FACTOR, FACTOR, *part.shape[1:])
    if part.ndim == 2:
        with np.errstate(all="ignore"):
            counts = np.isfinite(part).sum(1)
            return np.where(counts > 0, np.nansum(part, 1) / np.maximum(counts, 1), np.nan).astype(np.float32)
    return part.mean(1)


def build(path: str, fingerprint: str, progress=None, cancel=None) -> Path:
    """Compute and cache a file's lanes (one decode); returns the cache folder. `progress(seconds_done)`;
    `cancel()` raises to stop (nothing is left behind)."""
    final = cache_folder(fingerprint)
    tmp = final.with_name(final.name + f".partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    writer = _NpyWriter(tmp / "mel_0.npy", N_MELS)
    try:
        source = AudioSource(path)
        frames = int(np.ceil(max(source.duration, 0.0) / FRAME_HOP)) + 2  # the header's length, trimmed below
        tracks = {name: np.full(frames, np.nan, np.float32) for name in TRACKS}  # 4 bytes x 1.08M for 3 h
        mels = MelFrames()
        samples = 0

        def chunks():
            nonlocal samples
            for chunk in source.iter_chunks(60.0):
                samples += len(chunk)
                yield chunk

        def mel_feed(stream):
            for chunk in stream:
                writer.write(mels.add(chunk))
                if cancel is not None:
                    cancel()
                if progress is not None:
                    progress(samples / TARGET_SR)
                yield chunk

        has_tracks = True
        try:
            for first, part in frame_tracks(mel_feed(chunks())):
                if first + len(next(iter(part.values()))) > len(tracks["f0_st"]):  # longer than its header said
                    grow = first + len(next(iter(part.values()))) - len(tracks["f0_st"])
                    tracks = {k: np.concatenate([v, np.full(grow, np.nan, np.float32)]) for k, v in tracks.items()}
                for name, values in part.items():
                    tracks[name][first: first + len(values)] = values
        except AcousticsUnavailable:
            has_tracks = False
            for _chunk in mel_feed(chunks()):
                pass
        writer.write(mels.add(np.zeros(0, np.float32), last=True))
        used = max(1, min(writer.rows, int(np.ceil(samples / HOP)) + 1))
        writer.close()
        tracks = {k: (v[:used] if len(v) >= used else np.concatenate([v, np.full(used - len(v), np.nan, np.float32)]))
                  for k, v in tracks.items()}
        counts = [used]
        level, n = 0, used
        block = (1 << 16) - (1 << 16) % FACTOR
        while True:
            for name, values in tracks.items():
                np.save(tmp / f"{name}_{level}.npy", values)
            if n <= TOP_FRAMES:
                break
            out = _NpyWriter(tmp / f"mel_{level + 1}.npy", N_MELS)
            for a in range(0, n, block):  # mel rows beyond `used` (a header longer than the audio) are never read
                out.write(_coarse(_read_rows(tmp / f"mel_{level}.npy", a, min(block, n - a), N_MELS)).astype(np.float16))
            out.close()
            tracks = {k: _coarse(v) for k, v in tracks.items()}
            level, n = level + 1, out.rows
            counts.append(n)
        (tmp / "meta.json").write_text(json.dumps({"version": VERSION, "duration": samples / TARGET_SR,
                                                   "has_tracks": has_tracks, "levels": level + 1, "frames": counts}))
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    finally:
        if not writer._fh.closed:
            writer._fh.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def load(fingerprint: str) -> AcousticTracks | None:
    """The cached lanes, memory-mapped; None when not built yet (or unreadable: then it is removed)."""
    folder = cache_folder(fingerprint)
    try:
        meta = json.loads((folder / "meta.json").read_text())
        levels = int(meta["levels"])
        frames = [int(n) for n in meta["frames"]]
        mel = [np.load(folder / f"mel_{k}.npy", mmap_mode="r", allow_pickle=False)[: frames[k]] for k in range(levels)]
        tracks = {name: [np.load(folder / f"{name}_{k}.npy", allow_pickle=False) for k in range(levels)]
                  for name in TRACKS}
    except (OSError, ValueError, KeyError):
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        return None
    return AcousticTracks(folder, mel, tracks, bool(meta["has_tracks"]), float(meta["duration"]))


def tracks_for(path: str, fingerprint: str, progress=None, cancel=None) -> AcousticTracks:
    """From the cache, else built now (call off the GUI thread)."""
    cached = load(fingerprint)
    if cached is not None:
        return cached
    build(path, fingerprint, progress, cancel)
    loaded = load(fingerprint)
    if loaded is None:
        raise OSError(f"the acoustic cache of {Path(path).name} could not be read back")
    return loaded
