"""Speech recognition with faster-whisper: word timestamps and VAD, written to the store as it comes.

Small public API in faster-whisper's spirit: `Transcriber(...)` loads one model once; `transcribe()` yields
segments lazily. The resumable corpus job behind `emotrace transcribe` is `emotrace.core.workflows.transcribe`.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from emotrace.core.errors import UserFacingError
from emotrace.core.speech.whisper_models import resolve_whisper_model

log = logging.getLogger(__name__)
CHUNK_SECONDS = 600.0  # hours-long files are transcribed 10 minutes at a time, so memory stays bounded
# The defaults of every front end (CLI, app, worker): greedy decoding of VAD chunks in batches of 8
# (faster-whisper's BatchedInferencePipeline). On a 5-minute podcast on 2 cores it ran about 10x faster than
# sequential beam 5 (which re-decodes repeated phrases at rising temperatures) at the same word error rate on
# the reference speech (bench/README.md, "The whole pipeline against faster-whisper alone"). Beam 5 and
# sequential decoding stay one flag away (`--beam-size 5 --batch-size 0`).
DEFAULT_ASR_MODEL = "base"
DEFAULT_BEAM_SIZE = 1
DEFAULT_BATCH_SIZE = 8


@dataclass(frozen=True)
class AsrWord:
    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class AsrSegment:
    start: float
    end: float
    text: str
    words: list[AsrWord] = field(default_factory=list)


def cuda_usable() -> tuple[bool, str]:
    """CTranslate2 from PyPI needs CUDA 12's cuBLAS; a GPU with only CUDA 13 libraries cannot run it."""
    try:
        # lazy: CTranslate2 is heavy and its CUDA build may not load; only faster-whisper needs it
        import ctranslate2

        if ctranslate2.get_cuda_device_count() == 0:
            return False, "no CUDA device"
    except Exception as exc:  # noqa: BLE001
        return False, f"CTranslate2 cannot query CUDA: {exc}"
    try:
        ctypes.CDLL("libcublas.so.12")
    except OSError:
        return False, ("a GPU is present but libcublas.so.12 (CUDA 12 cuBLAS) is not found; "
                       "`pip install nvidia-cublas-cu12 nvidia-cudnn-cu12` (and put their lib folders on "
                       "LD_LIBRARY_PATH) to use it. Transcribing on the CPU instead")
    return True, "CUDA"


class Transcriber:
    """One Whisper model, loaded once. device 'auto' = CUDA float16 when usable, else CPU int8."""

    def __init__(
        self, model: str = DEFAULT_ASR_MODEL, *, device: str = "auto", compute_type: str | None = None,
        beam_size: int = DEFAULT_BEAM_SIZE, batch_size: int = DEFAULT_BATCH_SIZE, cpu_threads: int = 0,
    ) -> None:
        # lazy: faster-whisper loads CTranslate2; only this path needs it
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        self.model_name = model
        self.model_path = resolve_whisper_model(model)
        self.notice = ""
        device_index = 0
        if device.startswith("cuda:"):  # one worker per GPU: cuda:N
            device, device_index = "cuda", int(device.split(":", 1)[1])
        if device == "auto":
            ok, why = cuda_usable()
            device = "cuda" if ok else "cpu"
            if not ok and "GPU is present" in why:
                self.notice = why
                log.warning(why)
        elif device == "cuda":
            ok, why = cuda_usable()
            if not ok:
                raise UserFacingError(f"--device cuda: {why}")
        self.device = device
        self.compute_type = compute_type or ("float16" if device == "cuda" else "int8")
        try:
            self.model = WhisperModel(self.model_path, device=device, device_index=device_index,
                                      compute_type=self.compute_type, cpu_threads=cpu_threads)
        except RuntimeError as exc:
            if device == "cuda" and "libcublas" in str(exc):
                self.notice = f"{exc}; transcribing on the CPU instead"
                self.device, self.compute_type = "cpu", "int8"
                self.model = WhisperModel(self.model_path, device="cpu", compute_type="int8", cpu_threads=cpu_threads)
            else:
                raise UserFacingError(f"cannot load Whisper model {model!r}: {exc}") from exc
        self.beam_size = beam_size
        self.batch_size = batch_size
        self.pipeline = BatchedInferencePipeline(self.model) if batch_size > 1 else None
        self.english_only = self.model.model.is_multilingual is False

    @property
    def label(self) -> str:
        return f"faster-whisper:{self.model_name}"

    def transcribe(self, audio: np.ndarray, offset: float = 0.0) -> Iterator[AsrSegment]:
        """Lazily yield segments of 16 kHz mono audio; times are shifted by `offset` seconds."""
        kwargs = dict(beam_size=self.beam_size, word_timestamps=True, vad_filter=True,
                      language="en" if self.english_only else None, condition_on_previous_text=False)
        if self.pipeline is not None:
            segments, _info = self.pipeline.transcribe(audio, batch_size=self.batch_size, **kwargs)
        else:
            segments, _info = self.model.transcribe(audio, **kwargs)
        for seg in segments:
            if self.pipeline is not None and looped(seg.words or []):
                # Batched decoding has no temperature fallback: a chunk it decoded into a loop (words repeated at
                # the same instants; 39 invented words in a minute of counting) is decoded again sequentially,
                # whose compression-ratio check and fallback break such loops. Only that chunk pays for it.
                # 16 kHz written out: importing core.audio's TARGET_SR here would load soundfile and PyAV into
                # `emotrace --help`, whose parsers read this module's defaults
                a = max(0, int((float(seg.start) - 0.3) * 16000))
                b = min(len(audio), int((float(seg.end) + 0.3) * 16000))
                again, _info = self.model.transcribe(audio[a:b], **kwargs)
                lo, hi = float(seg.start) + offset, float(seg.end) + offset
                for redone in self._segments(again, offset + a / 16000):  # the margin's words are the neighbours'
                    kept = [w for w in redone.words if lo <= (w.start + w.end) / 2 <= hi]
                    if kept:
                        yield AsrSegment(redone.start, redone.end, "".join(w.text for w in kept), kept)
                continue
            yield from self._segments([seg], offset)

    @staticmethod
    def _segments(segments, offset: float) -> Iterator[AsrSegment]:
        for seg in segments:
            words = [AsrWord(float(w.start) + offset, float(w.end) + offset, w.word, float(w.probability))
                     for w in (seg.words or [])]
            yield AsrSegment(float(seg.start) + offset, float(seg.end) + offset, seg.text, words)


def looped(words) -> bool:
    """Whisper looping: at least two words that repeat an earlier word of the segment at the same instant (its
    alignment piles invented repeats onto one time; words said again are said later, at their own times)."""
    seen: set[tuple[float, str]] = set()
    repeats = 0
    for w in words:
        key = (round(float(w.start), 2), w.word.strip().lower())
        repeats += key in seen
        seen.add(key)
    return repeats >= 2


MIN_WORD_SECONDS = 0.1


def repair_word_times(words: list[AsrWord], segment_end: float) -> list[AsrWord]:
    """Whisper's alignment gives some words no duration (13% of tiny.en's on a 20-minute podcast): such a word
    cannot be clicked, highlighted or cut at. It gets up to MIN_WORD_SECONDS, never past the next word's start
    or the ASR segment's end; words with a duration are left as they are."""
    out = []
    for k, w in enumerate(words):
        if w.end - w.start >= 0.02:
            out.append(w)
            continue
        limit = words[k + 1].start if k + 1 < len(words) else max(segment_end, w.end)
        end = max(w.end, min(w.start + MIN_WORD_SECONDS, limit))
        out.append(AsrWord(w.start, end, w.text, w.probability))
    return out
