"""Whisper weights from a CTranslate2 `model.bin` (what faster-whisper runs) as transformers state dicts, and the
converted copy cached once as safetensors. The ASR on PyTorch and the SER's Whisper encoder both load these.

`model.bin` layout (ctranslate2/specs/model_spec.py `_serialize`): uint32 binary version, name, uint32
revision, uint32 variable count, then per variable: name (uint16 length incl. NUL + bytes), uint8 rank,
uint32 dims, uint8 dtype id (float32, int8, int16, int32, float16, bfloat16), uint32 byte count, raw data;
then aliases. Attention projections are fused: `self_attention/linear_0` is [q; k; v] (the key bias is zero,
Whisper's k_proj has none) and `linear_1` the output projection.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import torch

from emotrace.core.paths import cache_dir

_CT2_DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16, None)  # bfloat16 is not read
CONVERTED_FORMAT = 1  # bump when the conversion changes, so stale caches are rebuilt


def read_ct2_variables(model_bin: str | Path, prefix: str = "encoder/") -> dict[str, np.ndarray]:
    """The variables of a CTranslate2 `model.bin` whose names start with `prefix` (others are skipped)."""
    out: dict[str, np.ndarray] = {}
    with open(model_bin, "rb") as fh:
        def string() -> str:
            (n,) = struct.unpack("<H", fh.read(2))
            return fh.read(n)[:-1].decode("utf-8")

        (version,) = struct.unpack("<I", fh.read(4))
        if version < 2:
            raise ValueError(f"{model_bin}: CTranslate2 binary version {version} is too old to read")
        string()  # spec name
        fh.read(4)  # revision
        (count,) = struct.unpack("<I", fh.read(4))
        for _ in range(count):
            name = string()
            (rank,) = struct.unpack("<B", fh.read(1))
            shape = struct.unpack(f"<{rank}I", fh.read(4 * rank)) if rank else ()
            (dtype_id,) = struct.unpack("<B", fh.read(1))
            (nbytes,) = struct.unpack("<I", fh.read(4))
            if not name.startswith(prefix):
                fh.seek(nbytes, os.SEEK_CUR)
                continue
            dtype = _CT2_DTYPES[dtype_id] if dtype_id < len(_CT2_DTYPES) else None
            if dtype is None:
                raise ValueError(f"{model_bin}: {name} has dtype id {dtype_id}, which this reader does not handle "
                                 f"(quantised or bfloat16 models: convert with float16 weights)")
            out[name] = np.frombuffer(fh.read(nbytes), dtype=dtype).reshape(shape).copy()
    return out


def ct2_encoder_state(variables: dict[str, np.ndarray]):
    """`(WhisperConfig, state_dict)` of transformers' `WhisperEncoder` from CTranslate2 encoder variables."""
    # lazy: transformers takes seconds to import; only building or loading a model needs it
    from transformers import WhisperConfig

    def t(name: str) -> torch.Tensor:
        return torch.from_numpy(variables[f"encoder/{name}"].astype(np.float32))

    d_model, n_mels, _ = variables["encoder/conv1/weight"].shape
    layers = 1 + max(int(k.split("/")[1][len("layer_"):]) for k in variables
                     if k.split("/")[1].startswith("layer_") and k.split("/")[1][len("layer_"):].isdigit())
    heads = int(variables["encoder/num_heads"]) if "encoder/num_heads" in variables else d_model // 64
    positions = variables["encoder/position_encodings/encodings"].shape[0]
    ffn = variables["encoder/layer_0/ffn/linear_0/weight"].shape[0]
    config = WhisperConfig(num_mel_bins=int(n_mels), d_model=int(d_model), encoder_layers=layers,
                           encoder_attention_heads=heads, encoder_ffn_dim=int(ffn), max_source_positions=positions,
                           decoder_layers=layers, decoder_attention_heads=heads, decoder_ffn_dim=int(ffn))
    state = {"conv1.weight": t("conv1/weight"), "conv1.bias": t("conv1/bias"),
             "conv2.weight": t("conv2/weight"), "conv2.bias": t("conv2/bias"),
             "embed_positions.weight": t("position_encodings/encodings"),
             "layer_norm.weight": t("layer_norm/gamma"), "layer_norm.bias": t("layer_norm/beta")}
    for i in range(layers):
        p, q = f"layer_{i}/", f"layers.{i}."
        split_fused(state, f"{q}self_attn.", ("q_proj", "k_proj", "v_proj"), t(p + "self_attention/linear_0/weight"),
                    t(p + "self_attention/linear_0/bias"), d_model)
        state.update(self_attention_and_ffn(t, p, q))
    return config, state


def split_fused(state: dict, prefix: str, names: tuple[str, ...], weight: torch.Tensor, bias: torch.Tensor,
                d: int) -> None:
    """CTranslate2 fuses projections ([q; k; v] or [k; v]) into one matrix; transformers keeps them apart, and
    Whisper's key projection has no bias (CTranslate2 stores zeros there)."""
    for k, proj in enumerate(names):
        state[f"{prefix}{proj}.weight"] = weight[k * d:(k + 1) * d].clone()
        if proj != "k_proj":
            state[f"{prefix}{proj}.bias"] = bias[k * d:(k + 1) * d].clone()


def self_attention_and_ffn(t, p: str, q: str) -> dict[str, torch.Tensor]:
    """The output projection, norms and feed-forward of one CTranslate2 layer `p` as transformers' layer `q`
    (shared by the encoder here and the decoder in core.asr_torch)."""
    return {
        f"{q}self_attn.out_proj.weight": t(p + "self_attention/linear_1/weight"),
        f"{q}self_attn.out_proj.bias": t(p + "self_attention/linear_1/bias"),
        f"{q}self_attn_layer_norm.weight": t(p + "self_attention/layer_norm/gamma"),
        f"{q}self_attn_layer_norm.bias": t(p + "self_attention/layer_norm/beta"),
        f"{q}fc1.weight": t(p + "ffn/linear_0/weight"), f"{q}fc1.bias": t(p + "ffn/linear_0/bias"),
        f"{q}fc2.weight": t(p + "ffn/linear_1/weight"), f"{q}fc2.bias": t(p + "ffn/linear_1/bias"),
        f"{q}final_layer_norm.weight": t(p + "ffn/layer_norm/gamma"),
        f"{q}final_layer_norm.bias": t(p + "ffn/layer_norm/beta"),
    }


def convert_ct2_encoder(ct2_dir: str | Path, out_dir: str | Path) -> Path:
    """Convert a CTranslate2 Whisper folder's encoder into `out_dir` (config.json + model.safetensors, float16
    as stored), atomically; returns `out_dir`."""
    # lazy: with transformers, only when Whisper weights are read or converted
    from safetensors.torch import save_file

    ct2_dir, out_dir = Path(ct2_dir), Path(out_dir)
    config, state = ct2_encoder_state(read_ct2_variables(ct2_dir / "model.bin"))
    partial = out_dir.with_name(f"{out_dir.name}.partial-{os.getpid()}")  # two processes never share one
    partial.mkdir(parents=True, exist_ok=True)
    config.save_pretrained(partial)
    save_file({k: v.half().contiguous() for k, v in state.items()}, str(partial / "model.safetensors"),
              metadata={"format": "pt", "source": "ctranslate2", "converted_format": str(CONVERTED_FORMAT)})
    (partial / "source.json").write_text(json.dumps({"model_bin": str(ct2_dir / "model.bin"),
                                                     "size": (ct2_dir / "model.bin").stat().st_size,
                                                     "converted_format": CONVERTED_FORMAT}) + "\n")
    if out_dir.exists():
        shutil.rmtree(out_dir, ignore_errors=True)
    try:
        partial.rename(out_dir)
    except OSError:  # another process finished the same conversion first: keep its copy
        shutil.rmtree(partial, ignore_errors=True)
    return out_dir


def converted_cache_folder(kind: str, ct2_dir: Path) -> Path:
    """Where a conversion of a CTranslate2 folder is cached: named by a stable hash of its path (Python's `hash`
    of a string changes with every process, which would convert again each run)."""
    key = hashlib.sha1(str(ct2_dir.resolve()).encode()).hexdigest()[:10]
    return cache_dir() / kind / f"{ct2_dir.name}-{key}"


def converted_is_current(folder: Path, ct2_dir: Path) -> bool:
    try:
        src = json.loads((folder / "source.json").read_text())
    except (OSError, ValueError):
        return False
    return (src.get("converted_format") == CONVERTED_FORMAT and (folder / "model.safetensors").is_file()
            and src.get("size") == (ct2_dir / "model.bin").stat().st_size)
