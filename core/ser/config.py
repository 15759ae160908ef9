"""EmoTraceConfig: everything needed to rebuild the model, saved as JSON next to its safetensors weights."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from emotrace.core.errors import UserFacingError
from emotrace.core.ser.hub import DEFAULT_AUDIO, DEFAULT_TEXT
from emotrace.core.vocab import DIMENSIONS

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


class ModelFolderError(UserFacingError, ValueError):
    """A model folder that cannot be used as it is; the message names the folder or file and the reason."""


MIN_WINDOW, MIN_HOP, MAX_SPAN = 0.5, 0.1, 600.0  # a 0.0001 s hop once asked for 140,002 windows on a 14 s file
# Sizes a hand-edited config may ask for: far above any real encoder, far below what would exhaust memory.
SIZE_BOUNDS = {"audio_layers": 1024, "audio_dim": 16384, "text_dim": 16384, "hidden_size": 16384}


@dataclass
class EmoTraceConfig:
    model_type: str = "emotrace"
    audio_backbone: str = DEFAULT_AUDIO  # hub id, folder, or "whisper:<asr model>"
    text_backbone: str = DEFAULT_TEXT
    modalities: str = "both"  # audio | text | both
    audio_layers: int = 3  # hidden states incl. the CNN output (DistilHuBERT: 2 layers + 1)
    # which hidden states the model reads (None: all; [-1]: the last layer only, the pre-issue-11 offline model)
    audio_layer_ids: list[int] | None = None
    audio_dim: int = 768  # per-layer frame dimension; pooled features are mean+std, 2x this
    text_dim: int = 384
    hidden_size: int = 256
    dropout: float = 0.2
    modality_dropout: float = 0.3
    layer_norm_layers: bool = True
    id2label: dict[str, str] = field(default_factory=lambda: {str(i): d for i, d in enumerate(DIMENSIONS)})
    window_seconds: float = 4.0
    hop_seconds: float = 1.0

    def __post_init__(self) -> None:
        """Every value bounded: a config is a file a user can hand us (`dropout: NaN`, `hidden_size: 0` and a
        negative window were all accepted, and only failed, or silently predicted nothing, later)."""
        if self.modalities not in ("audio", "text", "both"):
            raise ValueError(f"modalities must be audio, text or both, not {self.modalities!r}")
        for name, high in SIZE_BOUNDS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
                raise ValueError(f"{name} must be a whole number from 1 to {high}, not {value!r}")
        for name in ("dropout", "modality_dropout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
                raise ValueError(f"{name} must be a number in [0, 1), not {value!r}")
        for name, low in (("window_seconds", MIN_WINDOW), ("hop_seconds", MIN_HOP)):
            value = getattr(self, name)
            if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
                    or not low <= value <= MAX_SPAN):
                raise ValueError(f"{name} must be from {low} to {MAX_SPAN:g} s, not {value!r}")
        if not isinstance(self.layer_norm_layers, bool):
            raise ValueError(f"layer_norm_layers must be true or false, not {self.layer_norm_layers!r}")
        ids = self.audio_layer_ids
        if ids is not None and (not isinstance(ids, list | tuple) or not ids or len(ids) > self.audio_layers
                                or any(isinstance(i, bool) or not isinstance(i, int) or abs(i) > 1024 for i in ids)):
            raise ValueError(f"audio_layer_ids must be null or a list of at most audio_layers layer numbers, "
                             f"not {ids!r}")

    @property
    def uses_audio(self) -> bool:
        return self.modalities in ("audio", "both")

    @property
    def uses_text(self) -> bool:
        return self.modalities in ("text", "both")

    def to_dict(self) -> dict:
        return asdict(self)

    def save_pretrained(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG_NAME).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_dict(cls, data: dict) -> EmoTraceConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if ("audio_layer_ids" not in known and str(known.get("audio_backbone", "")).startswith("whisper:")
                and known.get("audio_layers") == 1):
            known["audio_layer_ids"] = [-1]  # saved when the offline backbone gave CTranslate2's last layer only
        if known.get("model_type", "emotrace") != "emotrace":
            raise ValueError(f"not an EmoTrace config (model_type={known['model_type']!r})")
        return cls(**known)

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> EmoTraceConfig:
        """The folder's config, or a ModelFolderError naming config.json and what is wrong with it."""
        path = Path(folder) / CONFIG_NAME
        if not path.is_file():
            raise ModelFolderError(f"model folder {folder}: no {CONFIG_NAME}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFolderError(f"{path}: not a readable JSON config ({exc})") from exc
        if not isinstance(data, dict):
            raise ModelFolderError(f"{path}: not an EmoTrace config (a JSON object is expected)")
        try:
            return cls.from_dict(data)
        except (TypeError, ValueError) as exc:
            raise ModelFolderError(f"{path}: not a valid EmoTrace config ({exc})") from exc
