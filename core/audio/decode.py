"""Decode any common audio file to 16 kHz mono float32, in chunks, so hours-long files never sit whole in memory.

soundfile (libsndfile) reads WAV/FLAC/OGG/MP3 with exact seeking; PyAV (FFmpeg) takes the rest (M4A, Opus,
odd MP3s). Resampling is soxr's streaming resampler, so chunk edges leave no clicks.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

TARGET_SR = 16_000
AUDIO_EXTENSIONS = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".wma", ".aiff", ".aif"}


class AudioError(RuntimeError):
    """A file that cannot be decoded; the message is meant for the user."""


@dataclass(frozen=True)
class AudioInfo:
    sample_rate: int
    channels: int
    duration: float  # seconds, as the container claims (may be 0 for streams without a length)
    backend: str


def fingerprint(path: str | Path, block: int = 1 << 20) -> str:
    """Content hash: a moved or renamed file keeps it, so re-import relinks instead of duplicating."""
    h = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


MPEG_SUFFIXES = (".mp3", ".mp2", ".mpga")
_FD2_LOCK = threading.Lock()


@contextmanager
def _mpg123_quiet(path: Path, heard: list[str] | None = None) -> Iterator[None]:
    """libsndfile decodes MP3 with libmpg123, which prints its notes on a damaged file ("Illegal Audio-MPEG-Header",
    "Trying to resync", "Xing stream size off") straight to file descriptor 2, past Python: around each call into
    it fd 2 goes to a temporary file, and what was said lands in `heard` (the caller puts mpg123's reason into its
    one line when the decode fails). Only for MPEG files; output of other threads in that moment is lost too."""
    if path.suffix.lower() not in MPEG_SUFFIXES:
        yield
        return
    with _FD2_LOCK:
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 at all: nothing to protect
            yield
            return
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                said = sink.read(64 * 1024).decode("utf-8", "replace")
                if heard is not None and said.strip():
                    heard.append(said)


def _mpg123_reason(heard: list[str]) -> str:
    """mpg123's own error line, without its source location: `; mpg123: Giving up resync after 1024 bytes`."""
    for said in heard:
        for line in said.splitlines():
            if "error:" in line:
                return "; mpg123: " + line.split("error:", 1)[1].split(" - ")[0].strip()
    return ""


def check_unchanged(path: str | Path, size_bytes: int | None, digest: str) -> None:
    """Raise AudioError unless the file at `path` is the audio that was imported: it exists, has the size and the
    content hash import recorded. A file overwritten after import was transcribed as 0 words, analysed as
    `no_audio` and diarized as 0 speakers, all marked done; a job checks this first and reports the file instead.
    The hash costs one read of the file, far less than the decode every job does next."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise AudioError(f"{path.name} is no longer there (moved or deleted since it was imported): re-import its "
                         "folder") from None
    except OSError as exc:
        raise AudioError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    try:
        same = (not size_bytes or size == size_bytes) and fingerprint(path) == digest
    except OSError as exc:
        raise AudioError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    if not same:
        raise AudioError(f"{path.name} changed on disk since it was imported ({size} bytes, "
                         f"{size_bytes or '?'} at import): re-import its folder to take the new audio")


def _open_soundfile(path: Path) -> sf.SoundFile | None:
    try:
        with _mpg123_quiet(path):
            return sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return None


_AV_REASONS = {"End of file": "it ends before its audio does: truncated?"}


def _av_error(path: Path, exc: Exception) -> AudioError:
    """FFmpeg's reason without its plumbing: no `[Errno 541478725]` (an FFmpeg tag read as an errno), no
    repeated path."""
    detail = getattr(exc, "strerror", None) or str(exc).split(": '")[0]  # FFmpeg repeats the path
    detail = re.sub(r"\[Errno -?\d+\]\s*", "", str(detail)).strip() or type(exc).__name__
    detail = _AV_REASONS.get(detail, detail)
    return AudioError(f"cannot decode {path.name}: not a readable audio file ({detail})")


def probe(path: str | Path) -> AudioInfo:
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"no such file: {path}")
    if path.stat().st_size == 0:
        raise AudioError(f"empty file: {path.name}")
    snd = _open_soundfile(path)
    if snd is not None:
        with snd:
            return AudioInfo(snd.samplerate, snd.channels, snd.frames / snd.samplerate, "soundfile")
    # lazy: PyAV loads FFmpeg's libraries; only what soundfile cannot read needs it
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioError(f"no audio stream in {path.name}")
            stream = container.streams.audio[0]
            rate = stream.codec_context.sample_rate or stream.rate
            channels = stream.codec_context.channels if hasattr(stream.codec_context, "channels") else 1
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration:
                duration = container.duration / 1_000_000
            else:
                duration = 0.0
            return AudioInfo(int(rate), int(channels or 1), duration, "av")
    except AudioError:
        raise
    except Exception as exc:  # PyAV raises many FFmpeg error classes; all mean "not decodable"
        raise _av_error(path, exc) from exc


class AudioSource:
    """A decodable file seen as 16 kHz mono: `iter_chunks` streams it, `read` fetches one stretch."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.info = probe(self.path)

    @property
    def duration(self) -> float:
        return self.info.duration

    def time_to_index(self, seconds: float) -> int:
        return int(round(seconds * TARGET_SR))

    def iter_chunks(self, chunk_seconds: float = 30.0) -> Iterator[np.ndarray]:
        """Consecutive 16 kHz mono chunks of `chunk_seconds` (the last may be shorter)."""
        target = int(chunk_seconds * TARGET_SR)
        buffer: list[np.ndarray] = []
        held = 0
        for block in self._iter_16k_blocks():
            buffer.append(block)
            held += len(block)
            while held >= target:
                joined = np.concatenate(buffer)
                yield joined[:target]
                rest = joined[target:]
                buffer, held = ([rest] if len(rest) else []), len(rest)
        if held:
            yield np.concatenate(buffer)

    def read(self, start: float = 0.0, end: float | None = None) -> np.ndarray:
        """One stretch as 16 kHz mono (seeks where the format allows, else decodes up to it)."""
        if self.info.backend == "soundfile":
            with _mpg123_quiet(self.path), sf.SoundFile(str(self.path)) as snd:
                sr = snd.samplerate
                first = int(start * sr)
                frames = -1 if end is None else max(0, int(end * sr) - first)
                snd.seek(min(first, snd.frames))
                data = snd.read(frames, dtype="float32", always_2d=True)
            return _to_16k_mono(data, sr)
        out: list[np.ndarray] = []
        pos = 0
        first = self.time_to_index(start)
        last = None if end is None else self.time_to_index(end)
        for block in self._iter_16k_blocks():
            lo, hi = pos, pos + len(block)
            pos = hi
            if hi <= first:
                continue
            out.append(block[max(0, first - lo): None if last is None else max(0, last - lo)])
            if last is not None and hi >= last:
                break
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def forward_reader(self, block_seconds: float = 60.0) -> ForwardReader:
        """Reads stretches in increasing time order from one decode pass (see ForwardReader)."""
        return ForwardReader(self, block_seconds)

    def decode_all(self) -> np.ndarray:
        return np.concatenate(list(self.iter_chunks())) if self.duration else self.read()

    # -- backends -------------------------------------------------------------------------------
    def _iter_16k_blocks(self, block_frames: int = 1 << 16) -> Iterator[np.ndarray]:
        if self.info.backend == "soundfile":
            yield from self._soundfile_blocks(block_frames)
        else:
            yield from self._av_blocks()

    def _soundfile_blocks(self, block_frames: int) -> Iterator[np.ndarray]:
        heard: list[str] = []  # what libmpg123 said (see _mpg123_quiet); quiet per call, never across a yield
        try:
            with _mpg123_quiet(self.path, heard):
                snd = sf.SoundFile(str(self.path))
            with snd:
                sr = snd.samplerate
                stream = None if sr == TARGET_SR else soxr.ResampleStream(sr, TARGET_SR, 1, dtype="float32")
                while True:
                    with _mpg123_quiet(self.path, heard):
                        data = snd.read(block_frames, dtype="float32", always_2d=True)
                    last = len(data) < block_frames
                    mono = data.mean(axis=1, dtype=np.float32) if len(data) else np.zeros(0, np.float32)
                    out = mono if stream is None else stream.resample_chunk(mono, last=last)
                    if len(out):
                        yield out
                    if last:
                        break
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioError(f"cannot decode {self.path.name}: damaged or truncated ({exc}{_mpg123_reason(heard)})"
                             ) from exc

    def _av_blocks(self) -> Iterator[np.ndarray]:
        # lazy: PyAV loads FFmpeg's libraries; only what soundfile cannot read needs it
        import av

        try:
            with av.open(str(self.path)) as container:
                resampler = av.AudioResampler(format="flt", layout="mono", rate=TARGET_SR)
                for frame in container.decode(audio=0):
                    for out in resampler.resample(frame):
                        yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                for out in resampler.resample(None):
                    yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
        except Exception as exc:
            raise _av_error(self.path, exc) from exc


class ForwardReader:
    """`read(start, end)` where each start is at or after the previous start (stretches may overlap), served
    from one streaming decode.

    `AudioSource.read` seeks where libsndfile can, but PyAV formats (M4A, Opus) decode from the start on every
    call; a job that walks an hours-long file stretch by stretch would decode it again and again.
    """

    def __init__(self, source: AudioSource, block_seconds: float = 60.0) -> None:
        self._blocks = source.iter_chunks(block_seconds)
        self._buffer = np.zeros(0, np.float32)
        self._buffer_start = 0  # sample index of _buffer[0]
        self._done = False

    def read(self, start: float, end: float) -> np.ndarray:
        first, last = int(round(start * TARGET_SR)), int(round(end * TARGET_SR))
        if first < self._buffer_start:
            raise ValueError("ForwardReader only reads forward")
        drop = min(first - self._buffer_start, len(self._buffer))
        self._buffer, self._buffer_start = self._buffer[drop:], self._buffer_start + drop
        while not self._done and self._buffer_start + len(self._buffer) < last:
            block = next(self._blocks, None)
            if block is None:
                self._done = True
            else:
                self._buffer = np.concatenate([self._buffer, block])
        skip = first - self._buffer_start
        return self._buffer[max(0, skip): max(0, last - self._buffer_start)]


def _to_16k_mono(data: np.ndarray, sr: int) -> np.ndarray:
    mono = data.mean(axis=1, dtype=np.float32) if data.ndim == 2 else data.astype(np.float32)
    if sr == TARGET_SR or len(mono) == 0:
        return mono
    return soxr.resample(mono, sr, TARGET_SR).astype(np.float32, copy=False)


def _wav_declared_seconds(path: Path) -> float | None:
    """Seconds that a RIFF/WAVE header promises; libsndfile quietly trims to what is on disk."""
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        byte_rate = None
        while chunk := fh.read(8):
            if len(chunk) < 8:
                return None
            cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"fmt ":
                fmt = fh.read(size)
                byte_rate = struct.unpack("<I", fmt[8:12])[0] if len(fmt) >= 12 else None
                fh.seek(size % 2, 1)
            elif cid == b"data":
                if not byte_rate or size in (0, 0xFFFFFFFF):  # 0/-1: streaming writers leave it open
                    return None
                return size / byte_rate
            else:
                fh.seek(size + size % 2, 1)
    return None


def validate(path: str | Path, on_chunk=None) -> tuple[AudioInfo, float]:
    """Decode the whole file once (in chunks) and return its info and the decoded duration; `on_chunk` sees
    every 16 kHz chunk of that decode (import builds the waveform envelope from it).

    A header that claims more audio than the file holds means a truncated file: it is reported, since a
    label or a prediction past the real end would point at nothing.
    """
    source = AudioSource(path)
    samples = 0
    for chunk in source.iter_chunks(60.0):
        if not np.isfinite(chunk).all():  # every sample: one NaN poisons features, training and predictions
            at = (samples + int(np.argmin(np.isfinite(chunk)))) / TARGET_SR
            raise AudioError(f"{source.path.name}: decoded samples are not finite (NaN or infinity near {at:.2f} s)")
        samples += len(chunk)
        if on_chunk is not None:
            on_chunk(chunk)
    decoded = samples / TARGET_SR
    if decoded == 0:
        raise AudioError(f"{source.path.name}: no audio samples")
    claimed = max(source.info.duration, _wav_declared_seconds(source.path) or 0.0)
    if claimed and decoded < claimed - max(0.1, 0.01 * claimed):
        raise AudioError(
            f"{source.path.name}: truncated: the header says {claimed:.2f} s but only {decoded:.2f} s decode"
        )
    return source.info, decoded
