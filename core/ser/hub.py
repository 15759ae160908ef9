"""Where encoder weights come from: hub ids and local folders, the offline switch, and the one message that says
which weights no pip package ships (DistilHuBERT/HuBERT/wav2vec2) and what to do instead."""

from __future__ import annotations

from pathlib import Path

from emotrace.core.errors import ModelNotAvailable, UserFacingError
from emotrace.core.paths import offline

WHISPER_PREFIX = "whisper:"
DEFAULT_AUDIO = "ntu-spml/distilhubert"
OFFLINE_AUDIO = "whisper:tiny.en"
DEFAULT_TEXT = "sentence-transformers/all-MiniLM-L6-v2"
TEXT_ALIASES = {
    "minilm": DEFAULT_TEXT,
    "distilroberta": "distilbert/distilroberta-base",
    "distilbert": "distilbert/distilbert-base-uncased",
}


PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".ckpt", ".pickle")


def refuse_pickled(kind: str, ref: str) -> bool:
    """For a local encoder folder: True (load it with safetensors only); a folder that holds pickled weights
    and no safetensors is refused in one line naming the file, before anything is loaded (transformers would
    unpickle it, or print a dozen lines suggesting to turn the weights-only check off). False for a hub id."""
    folder = Path(ref).expanduser()
    if not folder.is_dir():
        return False
    if not any(folder.glob("*.safetensors")):
        pickled = sorted(p for p in folder.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
        if pickled:
            raise UserFacingError(f"{pickled[0]}: {kind.lower()} encoder weights in a pickle; EmoTrace loads "
                                  "safetensors only, since unpickling can run arbitrary code (convert the folder "
                                  "with `save_pretrained(..., safe_serialization=True)`)")
    return True


def hf_missing(kind: str, ref: str, exc: Exception) -> ModelNotAvailable:
    return ModelNotAvailable(
        f"{kind} model {ref!r} is not available ({type(exc).__name__}: {str(exc).splitlines()[0][:160]}). "
        f"No pip package ships DistilHuBERT/HuBERT/wav2vec2 weights: download it once on a connected machine "
        f"(`huggingface-cli download {ref} --local-dir FOLDER`) and pass the folder, or use the offline "
        f"backbone `--backbone {OFFLINE_AUDIO}` (the packaged Whisper encoder, all layers)."
    )


__all__ = ["DEFAULT_AUDIO", "DEFAULT_TEXT", "OFFLINE_AUDIO", "PICKLE_SUFFIXES", "TEXT_ALIASES", "WHISPER_PREFIX",
           "hf_missing", "offline", "refuse_pickled"]
