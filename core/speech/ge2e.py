"""resemblyzer's GE2E speaker encoder, run in large batches.

The network (3-layer LSTM, 256 units, a linear layer, ReLU, L2 norm) and its weights are resemblyzer's (the
weights ship inside its wheel). resemblyzer's `embed_utterance` embeds one stretch of speech per call, with
librosa's mel spectrogram: diarization called it once per VAD region, so the LSTM saw batches of a few windows
and every job paid librosa's import (seconds of numba). Here the mel frames come from one vectorised STFT per
region (the same Slaney filterbank and framing as librosa's `melspectrogram`), the 1.6 s partial windows of
every region of a stretch are cut by index, and the LSTM runs on `batch` windows at a time: the same windows and
the same embeddings, at the speed of large matrix products (issue 25, item 3).

The weights are read with `torch.load(weights_only=True)`: tensors only, never a pickle's code.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np

from emotrace.core.errors import ModelNotAvailable

SR = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
PARTIAL = 160  # frames in one partial window (1.6 s)
MIN_COVERAGE = 0.5  # a last window that is at least half speech is kept (zero-padded)
MIN_SAMPLES = int(SR * 0.2)  # shorter regions give no window


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (linear below 1 kHz, logarithmic above), librosa's default (htk=False)."""
    f = np.asarray(f, dtype=np.float64)
    mel = f / (200.0 / 3)
    log = f >= 1000.0
    return np.where(log, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), mel)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp(np.log(6.4) / 27.0 * (m - 15.0)), m * (200.0 / 3))


def mel_filters(sr: int = SR, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """`[n_mels, n_fft // 2 + 1]` triangular filters, Slaney-normalised: librosa.filters.mel's defaults."""
    fft_hz = np.linspace(0, sr / 2, n_fft // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def partial_starts(n_samples: int, rate: float, min_coverage: float = MIN_COVERAGE) -> np.ndarray:
    """First mel frame of each partial window of a stretch of `n_samples`, as resemblyzer's
    `compute_partial_slices` places them (a window every 1/rate s; the last one kept if it covers enough)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = int(np.round((SR / rate) / HOP))
    if not 0 < step <= PARTIAL:
        raise ValueError(f"embedding rate {rate}/s is outside {SR / HOP / PARTIAL:.3f}..{SR / HOP:.0f}")
    starts = np.arange(0, max(1, n_frames - PARTIAL + step + 1), step)
    if len(starts) > 1 and (n_samples - starts[-1] * HOP) / (PARTIAL * HOP) < min_coverage:
        starts = starts[:-1]
    return starts


class SpeakerEncoder:
    """The GE2E encoder, loaded once; `embed_regions` embeds every partial window of many regions in batches."""

    name = "resemblyzer-ge2e"

    def __init__(self, device: str = "cpu", batch: int = 512) -> None:
        # lazy: torch only when speakers are embedded
        import torch

        spec = importlib.util.find_spec("resemblyzer")
        weights = Path(spec.origin).parent / "pretrained.pt" if spec is not None and spec.origin else None
        if weights is None or not weights.is_file():
            raise ModelNotAvailable(
                "speaker diarization needs the packaged GE2E speaker encoder: "
                "pip install --no-deps resemblyzer && pip install 'emotrace[speakers]'"
                " (resemblyzer's pretrained.pt was not found)")
        self.torch, self.device, self.batch = torch, torch.device(device), batch
        self.lstm = torch.nn.LSTM(N_MELS, 256, 3, batch_first=True)
        self.linear = torch.nn.Linear(256, 256)
        state = torch.load(weights, map_location="cpu", weights_only=True)["model_state"]
        self.lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
        self.linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
        self.lstm.to(self.device).eval()
        self.linear.to(self.device).eval()
        self.filters = torch.from_numpy(mel_filters())
        self.window = torch.hann_window(N_FFT, periodic=True)

    def mel(self, audio: np.ndarray) -> np.ndarray:
        """`[frames, 40]` power mel frames (not log), as resemblyzer's `wav_to_mel_spectrogram` (librosa's
        `melspectrogram`: centred 400-sample Hann frames every 160 samples, zero padding at both ends)."""
        buffer = np.pad(np.asarray(audio, dtype=np.float32), N_FFT // 2)
        return self._mel_frames(buffer, np.arange(1 + len(audio) // HOP) * HOP)

    def _mel_frames(self, buffer: np.ndarray, firsts: np.ndarray, block: int = 8192) -> np.ndarray:
        """The mel frames whose 400 samples start at `firsts` in `buffer`: one FFT and one product per block of
        frames, whatever the regions they come from (a call per region cost more than the FFTs)."""
        torch = self.torch
        out = np.empty((len(firsts), N_MELS), np.float32)
        span = np.arange(N_FFT)
        with torch.inference_mode():
            for i in range(0, len(firsts), block):
                frames = torch.from_numpy(buffer[firsts[i: i + block, None] + span]) * self.window
                spec = torch.fft.rfft(frames)
                out[i: i + block] = ((spec.real.square() + spec.imag.square()) @ self.filters.T).numpy()
        return out

    def _forward(self, windows: np.ndarray) -> np.ndarray:
        torch = self.torch
        with torch.inference_mode():
            x = torch.from_numpy(windows).to(self.device)
            _, (hidden, _) = self.lstm(x)
            e = torch.relu(self.linear(hidden[-1]))
            e = e / torch.linalg.vector_norm(e, dim=1, keepdim=True).clamp_min(1e-12)
            return e.float().cpu().numpy()

    def windows(self, audio: np.ndarray, regions: list[tuple[int, int]], rate: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The partial windows of every region (sample bounds into `audio`): the regions' mel frames end to end,
        each window's first frame in them, and each window's centre (s from the start of `audio`). Each region is
        framed on its own, as resemblyzer frames an utterance (zero padded to its last window), so a window never
        hears audio outside its region."""
        pieces, firsts, index, centres = [], [], [], []
        buffered = frames = 0
        for a, b in regions:
            if b - a < MIN_SAMPLES:
                continue
            starts = partial_starts(b - a, rate)
            length = max(b - a, (int(starts[-1]) + PARTIAL) * HOP)  # zero padded to its last window's end
            pad = N_FFT // 2
            pieces += [np.zeros(pad, np.float32), audio[a:b], np.zeros(length - (b - a) + pad, np.float32)]
            count = 1 + length // HOP  # librosa's centred frames of the padded region
            firsts.append(buffered + np.arange(count) * HOP)
            index.append(frames + starts)
            centres.append((a + np.minimum((starts + PARTIAL / 2) * HOP, b - a)) / SR)
            buffered += length + 2 * pad
            frames += count
        if not pieces:
            return np.zeros((0, N_MELS), np.float32), np.zeros(0, int), np.zeros(0)
        buffer = np.concatenate(pieces).astype(np.float32, copy=False)
        return self._mel_frames(buffer, np.concatenate(firsts)), np.concatenate(index), np.concatenate(centres)

    def embed_regions(self, audio: np.ndarray, regions: list[tuple[int, int]], rate: float,
                      on_batch: Callable[[float], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Partial-window embeddings `[N, 256]` of every region (sample bounds into `audio`) and their centres (s
        from the start of `audio`). `on_batch(seconds)` after each batch: how far into `audio` it reaches."""
        queue = WindowQueue(self, on_batch)
        queue.add(*self.windows(audio, regions, rate))
        return queue.finish()

    def embed(self, audio: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray]:
        """Partial-window embeddings `[N, 256]` of one stretch of speech and their centres (s, from its start)."""
        return self.embed_regions(audio, [(0, len(audio))], rate)


class WindowQueue:
    """Windows of consecutive stretches of a file, embedded `encoder.batch` at a time: a batch may take the last
    windows of one 10-minute stretch and the first of the next, so the LSTM always sees full batches (its speed
    per window grows with the batch), while only the stretches whose windows wait are held (bounded memory)."""

    def __init__(self, encoder: SpeakerEncoder, on_batch: Callable[[float], None] | None = None) -> None:
        self.encoder, self.on_batch = encoder, on_batch
        self.pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (frames, first frames, centres)
        self.waiting = 0
        self.done: list[np.ndarray] = []
        self.centres: list[np.ndarray] = []

    def add(self, frames: np.ndarray, starts: np.ndarray, centres: np.ndarray) -> None:
        """Queue one stretch's windows (`SpeakerEncoder.windows`, centres already in file time)."""
        if len(starts):
            self.pending.append((frames, starts, centres))
            self.waiting += len(starts)
        while self.waiting >= self.encoder.batch:
            self._run(self.encoder.batch)

    def _run(self, n: int) -> None:
        span = np.arange(PARTIAL)
        parts, centres = [], []
        while n > 0:
            frames, starts, centre = self.pending[0]
            take = min(n, len(starts))
            parts.append(frames[starts[:take, None] + span])
            centres.append(centre[:take])
            if take == len(starts):
                self.pending.pop(0)
            else:
                self.pending[0] = (frames, starts[take:], centre[take:])
            n -= take
            self.waiting -= take
        self.done.append(self.encoder._forward(np.concatenate(parts)))
        self.centres += centres
        if self.on_batch is not None:
            self.on_batch(float(centres[-1][-1]))

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """Embed what still waits; every window's embedding `[N, 256]` and centre, in the order queued."""
        if self.waiting:
            self._run(self.waiting)
        if not self.done:
            return np.zeros((0, 256), np.float32), np.zeros(0)
        return np.concatenate(self.done), np.concatenate(self.centres)
