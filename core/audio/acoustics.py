"""The acoustic evidence under a trajectory: eGeMAPS v02 functionals per span, and frame tracks for the app.

eGeMAPS (Eyben et al. 2016) is the field's standard parameter set; openSMILE computes it (the `opensmile`
package ships its binary), so the 88 functionals keep openSMILE's names and a researcher's notebook can put
them beside any other eGeMAPS table. openSMILE is an optional extra (`emotrace[acoustics]`): without it, asking
for eGeMAPS is one line that says what to install, never an ImportError.

Spans are read with one forward decode of each file (`ForwardReader`), so a 3-hour file's ~11k overlapping
windows cost one decode and memory stays at a window's worth of audio.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

import numpy as np

from emotrace.core.audio.decode import TARGET_SR, AudioSource
from emotrace.core.errors import UserFacingError

N_FUNCTIONALS = 88  # eGeMAPS v02 functionals
MIN_SPAN = 0.1  # seconds: openSMILE's longest analysis window is 60 ms; shorter spans give NaN rows
FRAME_HOP = 0.01  # eGeMAPS low-level descriptors: 10 ms
# openSMILE stamps a frame with its start; F0's window is 60 ms, so its centre is 30 ms later (Praat stamps
# centres: against Praat on the demo speech, this offset is the one with the smallest F0 difference)
FRAME_CENTRE = 0.03
# the frame tracks the app draws, by our name -> openSMILE's low-level descriptor
TRACKS = {"f0_st": "F0semitoneFrom27.5Hz_sma3nz", "loudness": "Loudness_sma3", "hnr_db": "HNRdBACF_sma3nz"}
INSTALL_HINT = "eGeMAPS needs openSMILE: pip install 'emotrace[acoustics]' (the `opensmile` package)"


class AcousticsUnavailable(UserFacingError):
    """openSMILE is not installed."""


@lru_cache(maxsize=2)
def _smile(level: str):
    try:
        # lazy: openSMILE is an optional extra and loads a native library
        import opensmile
    except ImportError as exc:
        raise AcousticsUnavailable(INSTALL_HINT) from exc
    return opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                           feature_level=getattr(opensmile.FeatureLevel, level))


def available() -> bool:
    try:
        _smile("Functionals")
    except AcousticsUnavailable:
        return False
    return True


def egemaps_names() -> list[str]:
    """The 88 functionals' names, openSMILE's spelling and order."""
    return list(_smile("Functionals").feature_names)


def functionals(signal: np.ndarray, sr: int = TARGET_SR) -> np.ndarray:
    """The 88 eGeMAPS v02 functionals of one stretch of mono audio; NaN where it is too short to say anything."""
    if len(signal) < MIN_SPAN * sr or not np.isfinite(signal).all():
        return np.full(N_FUNCTIONALS, np.nan, np.float32)
    out = _smile("Functionals").process_signal(np.ascontiguousarray(signal, dtype=np.float32), sr)
    return out.to_numpy(dtype=np.float32).reshape(-1)[:N_FUNCTIONALS]


def span_functionals(path: str, spans: np.ndarray, cancel=None) -> np.ndarray:
    """`[N, 88]` for `[N, 2]` spans `[start, end)` of one file, in the spans' order (read in time order, one
    forward decode); a span past the audio's end is a NaN row."""
    spans = np.asarray(spans, dtype=float).reshape(-1, 2)
    out = np.full((len(spans), N_FUNCTIONALS), np.nan, np.float32)
    if not len(spans):
        return out
    _smile("Functionals")  # refuse before decoding anything
    reader = AudioSource(path).forward_reader()
    for k in np.argsort(spans[:, 0], kind="stable"):
        if cancel is not None:
            cancel()
        start, end = spans[k]
        out[k] = functionals(reader.read(float(start), float(end)))
    return out


def frame_tracks(chunks: Iterable[np.ndarray]) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """F0 (semitones from 27.5 Hz, NaN where unvoiced), loudness (sones) and HNR (dB, NaN where unvoiced) at
    10 ms frames, from consecutive 16 kHz chunks: `(first frame index, {track: values})`; frame k is centred at k x 10 ms.
    Each chunk is analysed with a second of the audio before it, so openSMILE's smoothing starts settled at
    every chunk edge."""
    smile = _smile("LowLevelDescriptors")
    context = int(TARGET_SR)
    tail = np.zeros(0, np.float32)
    offset = 0  # samples before this chunk
    for chunk in chunks:
        audio = np.concatenate([tail, chunk])
        lead = len(tail)
        n = int(len(chunk) / (FRAME_HOP * TARGET_SR))
        tracks = {name: np.full(n, np.nan, np.float32) for name in TRACKS}
        if len(audio) >= 0.1 * TARGET_SR:
            lld = smile.process_signal(audio, TARGET_SR)
            starts = lld.index.get_level_values("start").total_seconds().to_numpy()
            index = np.round((starts + FRAME_CENTRE - lead / TARGET_SR) / FRAME_HOP).astype(int)
            keep = (index >= 0) & (index < n)
            for name, column in TRACKS.items():
                values = lld[column].to_numpy(dtype=np.float32)
                if name != "loudness":
                    values = np.where(values == 0, np.nan, values)  # openSMILE writes 0 for unvoiced frames
                tracks[name][index[keep]] = values[keep]
        yield int(round(offset / (FRAME_HOP * TARGET_SR))), tracks
        offset += len(chunk)
        tail = chunk[-context:]
