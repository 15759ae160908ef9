"""The audio-textual distilled SER model (de Oliveira, Prabhu & Gerkmann, Interspeech 2023)."""

from core.ser.config import DIMENSIONS, EmoTraceConfig
from core.ser.modeling import EmoTraceModel

__all__ = ["DIMENSIONS", "EmoTraceConfig", "EmoTraceModel"]
