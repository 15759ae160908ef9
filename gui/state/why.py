""""Why this value": the words the editor's why panel shows for a segment (issue 26, item 5); Qt-free.

Two kinds of evidence: what the model says from each modality alone (its audio-only and text-only outputs,
stored with every segment prediction), and which eGeMAPS parameters of the segment differ most from the same
speaker's median in this file, in units a researcher reads ("pitch +3.1 st, loudness +5.0 dB above S2's
median"). Each parameter's difference is ranked by its size against the speaker's spread (median absolute
deviation), so a small difference in a steady parameter outranks a large one in a noisy parameter.
"""

from __future__ import annotations

import numpy as np

from emotrace.core.vocab import DIMENSIONS

# (openSMILE's name, what a reader calls it, unit; "x" for a ratio to the median instead of a difference)
PARAMETERS = (
    ("F0semitoneFrom27.5Hz_sma3nz_amean", "pitch", "st"),
    ("equivalentSoundLevel_dBp", "loudness", "dB"),
    ("F0semitoneFrom27.5Hz_sma3nz_stddevNorm", "pitch variation", "x"),
    ("loudness_sma3_stddevNorm", "loudness variation", "x"),
    ("VoicedSegmentsPerSec", "voiced stretches per second", "/s"),
    ("HNRdBACF_sma3nz_amean", "harmonics-to-noise ratio", "dB"),
    ("jitterLocal_sma3nz_amean", "jitter", "x"),
    ("shimmerLocaldB_sma3nz_amean", "shimmer", "dB"),
    ("hammarbergIndexV_sma3nz_amean", "Hammarberg index (less high-frequency energy)", "dB"),
)
MIN_SEGMENTS = 3  # a median of fewer of the speaker's segments says nothing


def differences(names: list[str], segment: np.ndarray, speaker: np.ndarray, who: str, top: int = 3) -> list[str]:
    """The `top` parameters of `segment` (`[88]`) furthest from the median of `speaker`'s segments (`[K, 88]`,
    the segment itself among them), as phrases; empty when the speaker has too few segments."""
    if len(speaker) < MIN_SEGMENTS:
        return []
    index = {n: i for i, n in enumerate(names)}
    ranked = []
    for name, words, unit in PARAMETERS:
        if name not in index:
            continue
        column = speaker[:, index[name]]
        column = column[np.isfinite(column)]
        value = float(segment[index[name]])
        if len(column) < MIN_SEGMENTS or not np.isfinite(value):
            continue
        median = float(np.median(column))
        spread = float(np.median(np.abs(column - median))) * 1.4826 or float(np.std(column)) or 1e-9
        score = abs(value - median) / spread
        if unit == "x":
            if median <= 0:
                continue
            amount = f"x{value / median:.2f}"
        else:
            amount = f"{value - median:+.1f} {unit}".replace(" /s", "/s")
        side = "above" if value > median else "below"
        ranked.append((score, f"{words} {amount} ({side} {who}'s median)"))
    ranked.sort(key=lambda r: -r[0])
    return [text for score, text in ranked[:top] if score >= 1.0]


def modality_line(values, audio_only, text_only) -> list[str]:
    """The stored fused, audio-only and text-only predictions as short lines."""
    def fmt(v) -> str:
        return "  ".join(f"{d[0].upper()} {x:.2f}" for d, x in zip(DIMENSIONS, v) if x is not None)

    lines = [f"model: {fmt(values)}"] if values is not None else []
    if audio_only is not None:
        lines.append(f"audio only: {fmt(audio_only)}")
    if text_only is not None:
        lines.append(f"text only: {fmt(text_only)}")
    return lines
