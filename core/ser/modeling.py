"""EmoTraceModel: per-dimension softmax layer weights over pooled audio layers + text, fused by small heads.

Input is what the frozen encoders produce: `audio` `[B, L, 2D]` (mean+std of every layer's frames) and `text`
`[B, Dt]`. Pooling each layer before weighting keeps the layer weights exact on cached features, so `heads`
and `layers` training need no encoder pass. Outputs lie on the 1-7 scale.

A saved model is a folder: config.json (core.ser.config) and model.safetensors, never a pickle. The folder is
checked against the model its config describes (`check_model_folder`) before it is registered, activated or
loaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from emotrace.core.ser.config import CONFIG_NAME, WEIGHTS_NAME, EmoTraceConfig, ModelFolderError
from emotrace.core.ser.hub import PICKLE_SUFFIXES
from emotrace.core.vocab import DIMENSIONS

HUBERT_LARGE_PARAMS = 315_400_000
SAFETENSORS_DTYPES = {"I8": "int8", "U8": "uint8", "I16": "int16", "I32": "int32", "I64": "int64", "BOOL": "bool"}


class EmoTraceModel(nn.Module):
    config_class = EmoTraceConfig
    main_input_name = "audio"

    def __init__(self, config: EmoTraceConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        pooled = 2 * c.audio_dim
        n_dims = len(DIMENSIONS)
        # Zero-initialised: training starts from a uniform mix of layers (s3prl's Featurizer).
        self.layer_logits = nn.Parameter(torch.zeros(n_dims, c.audio_layers))
        self.register_buffer("audio_mean", torch.zeros(c.audio_layers, pooled))
        self.register_buffer("audio_std", torch.ones(c.audio_layers, pooled))
        self.register_buffer("text_mean", torch.zeros(c.text_dim))
        self.register_buffer("text_std", torch.ones(c.text_dim))
        self.audio_proj = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(pooled, c.hidden_size), nn.GELU())
        self.text_proj = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(c.text_dim, c.hidden_size), nn.GELU())
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(2 * c.hidden_size + 2, c.hidden_size), nn.GELU(), nn.Dropout(c.dropout),
                          nn.Linear(c.hidden_size, 1))
            for _ in DIMENSIONS
        )

    # -- normalisation statistics from the training data -----------------------------------------
    def set_feature_stats(self, audio: np.ndarray | None, text: np.ndarray | None,
                          text_present: np.ndarray | None = None) -> None:
        """Standardise inputs with training statistics; text statistics come from segments that have words."""
        if audio is not None and len(audio):
            self.audio_mean.copy_(torch.as_tensor(audio.mean(0)))
            self.audio_std.copy_(torch.as_tensor(audio.std(0) + 1e-5))
        if text is not None and text_present is not None:
            text = text[np.asarray(text_present) > 0]
        if text is not None and len(text) > 1:
            self.text_mean.copy_(torch.as_tensor(text.mean(0)))
            self.text_std.copy_(torch.as_tensor(text.std(0) + 1e-5))

    def layer_weights(self) -> np.ndarray:
        """`[3, L]` softmax weights: which layers arousal, valence and dominance rely on."""
        return torch.softmax(self.layer_logits.detach().float(), dim=-1).cpu().numpy()

    def normalise_audio(self, audio: torch.Tensor) -> torch.Tensor:
        """`[B, L, P]` pooled features as the heads see them: standardised with the training statistics."""
        audio_n = (audio - self.audio_mean) / self.audio_std
        if self.config.layer_norm_layers:
            audio_n = nn.functional.layer_norm(audio_n, audio_n.shape[-1:])
        return audio_n

    def audio_view(self, audio: torch.Tensor) -> torch.Tensor:
        """`[B, P]`: the model's own view of the audio, normalised and mixed with its layer weights averaged over
        A/V/D; what the trust indicator (`core/ser/trust.py`) measures distances in."""
        weights = torch.softmax(self.layer_logits, dim=-1).mean(0)
        return torch.einsum("blp,l->bp", self.normalise_audio(audio), weights)

    def forward(
        self,
        audio: torch.Tensor | None = None,
        text: torch.Tensor | None = None,
        audio_present: torch.Tensor | None = None,
        text_present: torch.Tensor | None = None,
        repeats: int = 1,
    ) -> torch.Tensor:
        """`[B, 3]` predictions on the 1-7 scale. A missing modality (no words, or switched off) is zeroed and
        flagged; modality dropout trains the model for exactly that. `repeats` > 1: `[repeats * B, 3]`, the batch
        passed through the projections and heads that many times in one call (their dropout draws differ per row),
        while the deterministic part (normalising, mixing the layers) is computed once: MC dropout's passes."""
        c = self.config
        ref = audio if audio is not None else text
        batch, device = ref.shape[0], ref.device
        mixed = None
        if audio is not None and c.uses_audio:
            mixed = torch.einsum("blp,dl->dbp", self.normalise_audio(audio), torch.softmax(self.layer_logits, dim=-1))
        if repeats > 1:
            mixed = mixed.repeat(1, repeats, 1) if mixed is not None else None
            text = text.repeat(repeats, 1) if text is not None else None
            audio_present = audio_present.repeat(repeats) if audio_present is not None else None
            text_present = text_present.repeat(repeats) if text_present is not None else None
            batch *= repeats
        return self._heads(mixed, text, audio_present, text_present, batch, device)

    def _heads(self, mixed: torch.Tensor | None, text: torch.Tensor | None, audio_present: torch.Tensor | None,
               text_present: torch.Tensor | None, batch: int, device) -> torch.Tensor:
        """The projections and heads on `[3, B, P]` layer mixes (one per dimension) and `[B, T]` text."""
        c = self.config
        ones = torch.ones(batch, device=device)
        a_on = (audio_present.float() if audio_present is not None else ones) * float(c.uses_audio and mixed is not None)
        t_on = (text_present.float() if text_present is not None else ones) * float(c.uses_text and text is not None)
        if self.training and c.modality_dropout > 0 and c.modalities == "both":
            drop = torch.rand(batch, device=device) < c.modality_dropout
            which = torch.rand(batch, device=device) < 0.5
            a_on = torch.where(drop & which & (t_on > 0), torch.zeros_like(a_on), a_on)
            t_on = torch.where(drop & ~which & (a_on > 0), torch.zeros_like(t_on), t_on)
        hidden = c.hidden_size
        t_h = torch.zeros(batch, hidden, device=device)
        if text is not None and c.uses_text:
            t_h = self.text_proj((text - self.text_mean) / self.text_std) * t_on[:, None]
        outputs = []
        for d, head in enumerate(self.heads):
            a_h = torch.zeros(batch, hidden, device=device)
            if mixed is not None:
                a_h = self.audio_proj(mixed[d]) * a_on[:, None]
            z = torch.cat([a_h, t_h, a_on[:, None], t_on[:, None]], dim=-1)
            outputs.append(head(z))
        return 4.0 + 3.0 * torch.tanh(torch.cat(outputs, dim=-1))

    # -- save / load: config.json + model.safetensors, never a pickle ------------------------------
    def save_pretrained(self, folder: str | Path) -> None:
        """config.json, then the weights through a `.partial` file renamed into place. A write that fails (disk
        full: safetensors raises its own SafetensorError) is one ModelFolderError naming the folder, with the
        partial file removed; the caller removes the folder it made and registers nothing."""
        folder = Path(folder)
        tmp = folder / (WEIGHTS_NAME + ".partial")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self.config.save_pretrained(folder)
            state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
            save_file(state, str(tmp), metadata={"format": "pt", "model_type": "emotrace"})
            tmp.replace(folder / WEIGHTS_NAME)
        except (OSError, SafetensorError) as exc:
            tmp.unlink(missing_ok=True)
            raise ModelFolderError(f"cannot save the model to {folder}: {io_reason(exc)}") from exc

    @classmethod
    def from_pretrained(cls, folder: str | Path, map_location: str = "cpu") -> EmoTraceModel:
        folder = Path(folder)
        weights = folder / WEIGHTS_NAME
        if not weights.is_file():
            pickled = [p.name for p in folder.glob("*") if p.suffix in PICKLE_SUFFIXES]
            if pickled:
                raise ValueError(f"{folder} holds only pickled weights ({', '.join(pickled)}); EmoTrace loads "
                                 f"safetensors only, since unpickling can run arbitrary code")
            raise FileNotFoundError(f"no {WEIGHTS_NAME} in {folder}")
        config = check_model_folder(folder)  # one line naming the file, never a load_state_dict traceback
        model = cls(config)
        model.load_state_dict(load_file(str(weights), device=map_location))
        return model.eval()


def io_reason(exc: BaseException) -> str:
    """The OS's reason for a failed write, without safetensors' wrapping ("Error while serializing: I/O error:
    No space left on device (os error 28)" -> "No space left on device")."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.rsplit("I/O error: ", 1)[-1].split(" (os error")[0]


def expected_shapes(config: EmoTraceConfig) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes the config's model has, built on the meta device (no memory, no init cost)."""
    with torch.device("meta"):
        model = EmoTraceModel(config)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def check_model_folder(folder: str | Path, *, values: bool = True) -> EmoTraceConfig:
    """Config parses; the safetensors header is readable; tensor names and shapes match the config's model;
    with `values`, every tensor is read and must be finite. Returns the config; raises ModelFolderError.

    A folder that only failed deep inside `load_state_dict` (a truncated safetensors file, tensors of the wrong
    shape, a hand-edited config) gave a traceback far from its cause, and NaN weights only showed up as NaN
    predictions the store then refused: this turns each into one line naming the file, so `models activate`
    refuses it and `analyze` / `train` say what is wrong. `from_pretrained` runs it before every load."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFolderError(f"model folder {folder} does not exist")
    config = EmoTraceConfig.from_pretrained(folder)
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise ModelFolderError(f"model folder {folder}: no {WEIGHTS_NAME}")
    expected = expected_shapes(config)
    try:
        with safe_open(str(weights), framework="pt", device="cpu") as fh:
            names = set(fh.keys())
            missing, extra = sorted(set(expected) - names), sorted(names - set(expected))
            if missing or extra:
                raise ModelFolderError(
                    f"{weights}: tensors do not match {CONFIG_NAME} (missing {missing[:4]}, unexpected {extra[:4]})")
            for name in sorted(names):
                shape = tuple(fh.get_slice(name).get_shape())
                if shape != expected[name]:
                    raise ModelFolderError(f"{weights}: tensor {name} has shape {list(shape)}, the config's model "
                                           f"needs {list(expected[name])}")
                dtype = fh.get_slice(name).get_dtype()
                if not dtype.startswith(("F", "BF")):  # F32, F16, BF16, F64: an int8 cast loads as zeros and NaN
                    raise ModelFolderError(f"{weights}: tensor {name} is {SAFETENSORS_DTYPES.get(dtype, dtype)}, "
                                           "the model's weights are floating point")
                if values:
                    tensor = fh.get_tensor(name)
                    if tensor.is_floating_point() and not torch.isfinite(tensor).all():
                        raise ModelFolderError(f"{weights}: tensor {name} holds NaN or infinite values")
    except ModelFolderError:
        raise
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types for every kind of damage
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFolderError(f"{weights}: unreadable or truncated safetensors file ({reason})") from exc
    return config


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def parameter_report(head: EmoTraceModel, audio_encoder: nn.Module | None, text_encoder: nn.Module | None,
                     train_encoders: bool = True) -> dict:
    """Total and trainable parameters, and trainable as a share of HuBERT-large (315.4M)."""
    head_n = count_parameters(head)
    audio_n = count_parameters(audio_encoder) if audio_encoder is not None else 0
    text_n = count_parameters(text_encoder) if text_encoder is not None else 0
    trainable = head_n + (audio_n + text_n if train_encoders else 0)
    return {
        "audio_encoder": audio_n, "text_encoder": text_n, "heads": head_n, "total": head_n + audio_n + text_n,
        "trainable": trainable, "trainable_share_of_hubert_large": round(trainable / HUBERT_LARGE_PARAMS, 4),
    }


__all__ = ["CONFIG_NAME", "EmoTraceModel", "ModelFolderError", "check_model_folder", "count_parameters",
           "expected_shapes", "parameter_report"]
