"""Who speaks when: speaker turns from a packaged speaker encoder and clustering.

Pipeline (the classic embedding-clustering recipe, faster-whisper's spirit of a small API):
1. speech regions: Silero VAD as faster-whisper ships it (or the ASR words, when a file has them);
2. embeddings: resemblyzer's pretrained GE2E encoder (the weights ship inside its wheel) on 1.6 s partial
   windows, `rate` windows per second, inside each speech region;
3. clustering: scikit-learn's spectral clustering on a k-nearest-neighbour cosine graph; the speaker count is
   given, or read off the eigengap of the graph Laplacian between `min_speakers` and `max_speakers`; long
   files are clustered on a sample and every window then takes its nearest centroid, so memory stays bounded
   (the graph is quadratic in windows);
4. turns: each 10 ms of speech takes the speaker of the nearest window centre; runs become turns, and turns
   shorter than `min_turn` are absorbed by a neighbour.

pyannote's pretrained pipelines are not loaded: their checkpoints are pickled Lightning files that
`torch.load` would unpickle, and a folder a user hands us may run code that way. Run pyannote yourself and
bring its turns in as RTTM (`speakers import --rttm`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emotrace.core.audio.decode import TARGET_SR, AudioSource
from emotrace.core.errors import UserFacingError
from emotrace.core.speech.ge2e import SpeakerEncoder, WindowQueue

FRAME = 0.01  # the time grid turns are decided on (s)
CHUNK_SECONDS = 600.0  # long files are read 10 minutes at a time
MAX_CLUSTERED = 1500  # windows clustered directly; the rest are assigned to the nearest centroid


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class DiarizationOptions:
    speakers: int | None = None  # the exact count, when known
    min_speakers: int = 1
    max_speakers: int = 6
    rate: float = 4.0  # embedding windows per second of speech
    min_turn: float = 0.5  # shorter turns are absorbed by a neighbour (s)
    neighbours: int = 10  # of each window in the similarity graph

    def __post_init__(self) -> None:
        if self.speakers is not None and self.speakers < 1:
            raise UserFacingError("--speakers must be at least 1")
        if not 1 <= self.min_speakers <= self.max_speakers:
            raise UserFacingError("--min-speakers must be at least 1 and at most --max-speakers")


def speech_regions(audio: np.ndarray, offset: float = 0.0) -> list[tuple[float, float]]:
    """Silero VAD (faster-whisper's copy) on 16 kHz audio; seconds, shifted by `offset`."""
    # lazy: faster-whisper loads CTranslate2; only this path needs it
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    stamps = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=300, speech_pad_ms=100))
    return [(offset + s["start"] / TARGET_SR, offset + s["end"] / TARGET_SR) for s in stamps]


def regions_from_words(words, gap: float = 0.5) -> list[tuple[float, float]]:
    """Speech where the ASR heard words: words closer than `gap` join one region."""
    regions: list[list[float]] = []
    for w in sorted(words, key=lambda w: w.start):
        if regions and w.start - regions[-1][1] < gap:
            regions[-1][1] = max(regions[-1][1], w.end)
        else:
            regions.append([w.start, w.end])
    return [(a, b) for a, b in regions if b > a]


def _cosine_normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)


def _graph(x: np.ndarray, neighbours: int) -> np.ndarray:
    """A symmetric k-nearest-neighbour graph on cosine similarity: robust to the loud outlier windows that make
    agglomerative average linkage split off a cluster of one."""
    # lazy: scikit-learn (and SciPy) take seconds to import; only clustering needs them
    from sklearn.neighbors import kneighbors_graph

    k = max(1, min(neighbours, len(x) - 1))
    g = kneighbors_graph(x, k, metric="cosine", include_self=False).toarray()
    return 0.5 * (g + g.T)


def estimate_speakers(graph: np.ndarray, low: int, high: int) -> int:
    """The eigengap of the normalised graph Laplacian (Ng, Jordan & Weiss; Wang et al. 2018 for diarization):
    k speakers leave k eigenvalues near zero, then a jump."""
    # lazy: SciPy only for the spectral clustering step
    from scipy.sparse.csgraph import laplacian

    high = max(low, min(high, len(graph) - 1))
    values = np.linalg.eigvalsh(laplacian(graph, normed=True))[: high + 1]
    gaps = np.diff(values)  # gaps[k - 1] = lambda_{k+1} - lambda_k
    return int(low + np.argmax(gaps[low - 1: high]))


def cluster(embeddings: np.ndarray, options: DiarizationOptions, seed: int = 0) -> np.ndarray:
    """Speaker index per window (0 = the speaker heard most): spectral clustering on a kNN graph."""
    # lazy: scikit-learn (and SciPy) take seconds to import; only clustering needs them
    from sklearn.cluster import SpectralClustering

    n = len(embeddings)
    if n == 0:
        return np.zeros(0, dtype=int)
    x = _cosine_normalise(embeddings)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, MAX_CLUSTERED, replace=False)) if n > MAX_CLUSTERED else np.arange(n)
    xs = x[sample]
    if len(xs) < 4:
        return np.zeros(n, dtype=int)
    graph = _graph(xs, options.neighbours)
    k = options.speakers or estimate_speakers(graph, options.min_speakers, options.max_speakers)
    k = min(k, len(xs) - 1)
    if k <= 1:
        return np.zeros(n, dtype=int)
    labels = SpectralClustering(n_clusters=k, affinity="precomputed", random_state=seed).fit_predict(graph)
    centroids = _cosine_normalise(np.stack([xs[labels == c].mean(0) for c in np.unique(labels)]))
    assigned = np.argmax(x @ centroids.T, axis=1)
    counts = np.bincount(assigned, minlength=len(centroids))
    order = np.argsort(-counts, kind="stable")  # renumber: the most heard speaker first
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[assigned]


def turns_from_windows(regions: list[tuple[float, float]], centres: np.ndarray, speakers: np.ndarray,
                       min_turn: float = 0.5) -> list[Turn]:
    """Every frame of speech takes the speaker of the nearest window centre; runs become turns."""
    if not len(centres):
        return []
    order = np.argsort(centres)
    centres, speakers = centres[order], speakers[order]
    runs: list[list] = []  # [start, end, speaker]
    for start, end in regions:
        t = np.arange(start, end, FRAME)
        if not len(t):
            continue
        idx = np.clip(np.searchsorted(centres, t), 1, len(centres) - 1)
        nearest = np.where(np.abs(centres[idx - 1] - t) <= np.abs(centres[idx] - t), idx - 1, idx)
        who = speakers[nearest]
        cuts = np.flatnonzero(np.diff(who)) + 1
        bounds = np.concatenate([[0], cuts, [len(t)]])
        for a, b in zip(bounds[:-1], bounds[1:]):
            runs.append([float(t[a]), float(min(end, t[b - 1] + FRAME)), int(who[a])])
    runs = _absorb_short(runs, min_turn)
    merged: list[list] = []
    for run in runs:  # the same speaker across a short pause is one turn
        if merged and merged[-1][2] == run[2] and run[0] - merged[-1][1] < 0.3:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    return [Turn(round(a, 3), round(b, 3), f"S{s + 1}") for a, b, s in merged]


def _absorb_short(runs: list[list], min_turn: float) -> list[list]:
    """A run shorter than `min_turn` that touches a neighbour takes that neighbour's speaker."""
    changed = True
    while changed and len(runs) > 1:
        changed = False
        for i, (a, b, _s) in enumerate(runs):
            if b - a >= min_turn:
                continue
            left = runs[i - 1] if i > 0 and a - runs[i - 1][1] < 0.05 else None
            right = runs[i + 1] if i + 1 < len(runs) and runs[i + 1][0] - b < 0.05 else None
            pick = max((n for n in (left, right) if n is not None), key=lambda n: n[1] - n[0], default=None)
            if pick is not None and pick[2] != runs[i][2]:
                runs[i][2] = pick[2]
                changed = True
        merged: list[list] = []
        for run in runs:
            if merged and merged[-1][2] == run[2] and run[0] - merged[-1][1] < 0.05:
                merged[-1][1] = run[1]
            else:
                merged.append(run)
        runs = merged
    return runs


def _stretches(source: AudioSource, words=None) -> Iterator[tuple[float, np.ndarray, list[tuple[float, float]]]]:
    """(start, audio, speech regions inside it) for each 10-minute stretch, read forward once."""
    reader = source.forward_reader()
    start, duration = 0.0, source.duration
    while start < duration - 0.05:
        end = min(duration, start + CHUNK_SECONDS)
        audio = reader.read(start, end)
        if words:
            regions = [(max(a, start), min(b, end)) for a, b in regions_from_words(words) if b > start and a < end]
        else:
            regions = speech_regions(audio, offset=start)
        yield start, audio, regions
        start = end


def diarize_file(path: str | Path, encoder: SpeakerEncoder, options: DiarizationOptions = DiarizationOptions(),
                 words=None, on_position: Callable[[float, float], None] | None = None) -> list[Turn]:
    """Speaker turns of one file. The audio is decoded once, 10 minutes at a time; the windows of every speech
    region go through the encoder in full batches, across stretches (`WindowQueue`). `on_position(seconds, duration)`
    follows the work within the file (an hour-long file is one step of a per-file count)."""
    source = AudioSource(path)
    duration = source.duration
    report = None if on_position is None else (lambda seconds: on_position(seconds, duration))
    queue, all_regions = WindowQueue(encoder, report), []
    for start, audio, regions in _stretches(source, words):
        all_regions += regions
        bounds = [(int((a - start) * TARGET_SR), int((b - start) * TARGET_SR)) for a, b in regions]
        frames, first, centres = encoder.windows(audio, bounds, options.rate)
        queue.add(frames, first, centres + start)
    emb, centres = queue.finish()
    if on_position is not None:
        on_position(duration, duration)
    if not len(emb):
        return []
    speakers = cluster(emb, options)
    return turns_from_windows(all_regions, centres, speakers, options.min_turn)


DIARIZED_NAME = re.compile(r"S\d+")


def speaker_key(name: str | None, file_fingerprint: str) -> str | None:
    """A speaker's identity across the corpus. The diarizer's own names (S1, S2, ...) mean something inside one
    file only, so they are qualified by the file; a name a person gave ("host") or a labels file gave holds
    across files."""
    if name is None:
        return None
    return f"{file_fingerprint[:16]}:{name}" if DIARIZED_NAME.fullmatch(name) else name


def speaker_at(turns: list, t: float, tolerance: float = 1.0) -> str | None:
    """The speaker of the turn containing `t` (turns sorted by start); in a gap, the nearer turn's speaker
    within `tolerance` seconds (a word the VAD trimmed still belongs to someone); else None."""
    if not turns:
        return None
    starts = np.array([x.start for x in turns])
    i = int(np.searchsorted(starts, t, side="right")) - 1
    if i >= 0 and t <= turns[i].end:
        return turns[i].speaker
    near = [(t - turns[i].end, turns[i].speaker)] if i >= 0 else []
    if i + 1 < len(turns):
        near.append((turns[i + 1].start - t, turns[i + 1].speaker))
    distance, speaker = min(near)
    return speaker if distance <= tolerance else None


def change_points(turns: list, gap: float = 1.0) -> np.ndarray:
    """Times where the speaker changes (the middle of the gap between two turns of different speakers)."""
    points = []
    for prev, nxt in zip(turns, turns[1:]):
        if prev.speaker != nxt.speaker:
            points.append((prev.end + nxt.start) / 2 if nxt.start - prev.end < gap else nxt.start)
    return np.array(points)
