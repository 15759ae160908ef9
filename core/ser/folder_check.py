"""Check a saved model folder before it is registered, activated or loaded.

A folder that only fails deep inside `load_state_dict` (a truncated safetensors file, tensors of the wrong
shape, a hand-edited config) gives a traceback far from its cause, and NaN weights only show up as NaN
predictions that the store then refuses. Checking the folder up front turns each of these into one line that
names the file, so `models activate` refuses it and `analyze` / `train` can say what is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from emotrace.core.errors import UserFacingError
from emotrace.core.ser.config import CONFIG_NAME, WEIGHTS_NAME, EmoTraceConfig


class ModelFolderError(UserFacingError):
    """A model folder that cannot be used as it is; the message names the folder or file and the reason."""


def read_config(folder: str | Path) -> EmoTraceConfig:
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
        return EmoTraceConfig.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise ModelFolderError(f"{path}: not a valid EmoTrace config ({exc})") from exc


def expected_shapes(config: EmoTraceConfig) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes the config's model has, built on the meta device (no memory, no init cost)."""
    from emotrace.core.ser.modeling import EmoTraceModel

    with torch.device("meta"):
        model = EmoTraceModel(config)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def check_model_folder(folder: str | Path, *, values: bool = True) -> EmoTraceConfig:
    """Config parses; the safetensors header is readable; tensor names and shapes match the config's model;
    with `values`, every tensor is read and must be finite. Returns the config; raises ModelFolderError."""
    from safetensors import safe_open

    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFolderError(f"model folder {folder} does not exist")
    config = read_config(folder)
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
