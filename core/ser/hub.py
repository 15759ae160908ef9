"""Where encoder weights come from: hub ids and local folders, the offline switch, and the one message that says
which weights no pip package ships (DistilHuBERT/HuBERT/wav2vec2) and what to do instead."""

from __future__ import annotations

from emotrace.core.errors import ModelNotAvailable
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


def hf_missing(kind: str, ref: str, exc: Exception) -> ModelNotAvailable:
    return ModelNotAvailable(
        f"{kind} model {ref!r} is not available ({type(exc).__name__}: {str(exc).splitlines()[0][:160]}). "
        f"No pip package ships DistilHuBERT/HuBERT/wav2vec2 weights: download it once on a connected machine "
        f"(`huggingface-cli download {ref} --local-dir FOLDER`) and pass the folder, or use the offline "
        f"backbone `--backbone {OFFLINE_AUDIO}` (the packaged Whisper encoder, all layers)."
    )


__all__ = ["DEFAULT_AUDIO", "DEFAULT_TEXT", "OFFLINE_AUDIO", "TEXT_ALIASES", "WHISPER_PREFIX", "hf_missing", "offline"]
