"""Everything one file's view shows, read through the store's repository (plain rows): fast on 10k segments."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from emotrace.core.segmentation import NO_WORDS, join_words, word_in
from emotrace.core.store import CurrentLabel, SegmentLabel, Store, TurnRow
from emotrace.core.store.annotations import standing_label
from emotrace.core.vocab import SegmentOrigin


def in_spans(times: np.ndarray, spans) -> np.ndarray:
    """Which of `times` fall inside any of the `(start, end)` spans."""
    mask = np.zeros(len(times), dtype=bool)
    for start, end in spans:
        mask |= (times >= start) & (times <= end)
    return mask


@dataclass
class FileData:
    file_id: int
    path: str
    duration: float
    fingerprint: str
    seg_ids: np.ndarray  # [S]
    seg_bounds: np.ndarray  # [S, 2]
    seg_texts: list[str]
    seg_live: np.ndarray  # [S] bool: False for a superseded segment (kept, shown, for its labels)
    word_ids: np.ndarray
    word_starts: np.ndarray
    word_ends: np.ndarray
    word_texts: list[str]
    labels: dict[str, dict[int, CurrentLabel]] = field(default_factory=dict)  # annotator -> segment -> current
    trajectories: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # mv -> (t, [N,3])
    segment_predictions: dict[int, dict[int, tuple]] = field(default_factory=dict)  # mv -> seg -> (avd, a, t)
    turns: list[TurnRow] = field(default_factory=list)  # who speaks when (the newest revision)
    traces: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # (ann, dim) -> t, v
    trust: dict[int, np.ndarray] = field(default_factory=dict)  # mv -> [N, 3] window start, end, trust (issue 26)

    def outside(self, mv: int) -> tuple[np.ndarray, int, int]:
        """Where a model's windows lie outside its training domain (trust above 1): merged `[K, 2]` spans, each
        window drawn over the hop around its centre (the stretch its trajectory point stands for), and how
        many of how many windows with a trust value are outside."""
        rows = self.trust.get(mv, np.zeros((0, 3)))
        known = rows[np.isfinite(rows[:, 2])] if len(rows) else rows
        out = known[known[:, 2] > 1.0] if len(known) else known
        if not len(out):
            return np.zeros((0, 2)), 0, len(known)
        starts = np.unique(rows[:, 0])
        hop = float(np.median(np.diff(starts))) if len(starts) > 1 else float(out[0, 1] - out[0, 0])
        centres = (out[:, 0] + out[:, 1]) / 2
        lo, hi = centres - hop / 2, centres + hop / 2
        merged = [[lo[0], hi[0]]]
        for a, b in zip(lo[1:], hi[1:]):
            if a <= merged[-1][1] + 1e-6:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        return np.array(merged), len(out), len(known)

    @property
    def speakers(self) -> list[str]:
        """Speakers by first appearance."""
        return list(dict.fromkeys(t.speaker for t in self.turns))

    def turn_at(self, t: float) -> int | None:
        """Index of the speaker turn under time t, or None."""
        for i, turn in enumerate(self.turns):
            if turn.start <= t <= turn.end:
                return i
        return None

    def speaker_mask(self, times: np.ndarray, speaker: str) -> np.ndarray:
        """Which of `times` fall inside that speaker's turns (to draw one speaker's trajectory)."""
        return in_spans(times, [(t.start, t.end) for t in self.turns if t.speaker == speaker])

    def segment_at(self, t: float) -> int | None:
        """Index of the segment under time t (the latest starting current one; a superseded one only where no
        current segment is), or None."""
        if not len(self.seg_bounds):
            return None
        i = int(np.searchsorted(self.seg_bounds[:, 0], t, side="right")) - 1
        fallback = None
        while i >= 0 and self.seg_bounds[i, 0] >= t - self.longest_segment:
            if t <= self.seg_bounds[i, 1]:
                if self.seg_live[i]:
                    return i
                fallback = i if fallback is None else fallback
            i -= 1
        return fallback

    @cached_property
    def longest_segment(self) -> float:
        return float((self.seg_bounds[:, 1] - self.seg_bounds[:, 0]).max()) if len(self.seg_bounds) else 0.0

    def live_indices(self) -> np.ndarray:
        """Indices of the current segments: what N and P step through."""
        return np.flatnonzero(self.seg_live)

    def words_text(self, start: float, end: float) -> str:
        """The transcript's words inside a span (the one rule, `word_in`): what a segment drawn there says."""
        return join_words(t for t, a, b in zip(self.word_texts, self.word_starts, self.word_ends)
                          if word_in(_Span(a, b), start, end))

    def segment_name(self, index: int) -> str:
        """How the app names a segment: "Segment k/N" among the current ones (superseded ones are not counted)."""
        if not self.seg_live[index]:
            return "Superseded segment (kept for its labels)"
        live = self.live_indices()
        return f"Segment {int(np.searchsorted(live, index)) + 1}/{len(live)}"

    def word_at(self, t: float) -> int | None:
        if not len(self.word_starts):
            return None
        i = int(np.searchsorted(self.word_starts, t, side="right")) - 1
        return i if i >= 0 else None

    def segment_label(self, segment_id: int) -> SegmentLabel | None:
        """The segment's value over its annotators' current labels (the store's rule, ConsensusRule.LATEST)."""
        return standing_label([by_seg[segment_id] for by_seg in self.labels.values() if segment_id in by_seg])


def load_file_data(store: Store, file_id: int, model_ids: list[int] | None = None) -> FileData:
    f = store.corpora.file(file_id)
    segs = store.segments.segments(file_id)
    words = store.words.word_rows(file_id)
    data = FileData(
        file_id=file_id, path=f.path, duration=float(f.duration or 0.0), fingerprint=f.fingerprint,
        seg_ids=np.array([r.id for r in segs], dtype=np.int64),
        seg_bounds=np.array([(r.start, r.end) for r in segs], dtype=np.float64).reshape(-1, 2),
        seg_texts=[r.text or (NO_WORDS + ": speech the ASR heard no words in; label it by ear"
                             if r.origin == SegmentOrigin.ASR else "") for r in segs],
        seg_live=np.array([r.superseded_at is None for r in segs], dtype=bool),
        word_ids=np.array([w[0] for w in words], dtype=np.int64),
        word_starts=np.array([w[1] for w in words], dtype=np.float64),
        word_ends=np.array([w[2] for w in words], dtype=np.float64),
        word_texts=[w[3] for w in words],
    )
    data.labels = load_labels(store, file_id)
    data.turns = store.speakers.speaker_turns(file_id)
    data.traces = load_traces(store, file_id)
    for mv in model_ids or []:
        data.trajectories[mv] = store.predictions.trajectory(file_id, mv)
        data.trust[mv] = store.predictions.window_trust(file_id, mv)
        data.segment_predictions[mv] = {sid: (p.values, p.audio_only, p.text_only)
                                        for sid, p in store.predictions.segment_predictions(mv, file_id=file_id).items()}
    return data


def load_traces(store: Store, file_id: int) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """Each annotator's current trace per dimension."""
    return {(a, d): store.traces.current_trace(file_id, a, d) for a, d in store.traces.traced(file_id)}


def load_labels(store: Store, file_id: int) -> dict[str, dict[int, CurrentLabel]]:
    """Only the labels of a file (annotator -> segment -> current label): what a save changes."""
    labels: dict[str, dict[int, CurrentLabel]] = {}
    for c in store.labels.current_labels(file_id=file_id, include_computed=True):  # consensus:mean may stand for raters
        labels.setdefault(c.annotator, {})[c.segment_id] = c
    return labels


def corpus_table(store: Store, corpus_id: int, model_version_id: int | None = None) -> list[dict]:
    """One row per file with the counts the corpus browser shows."""
    segments: dict[int, int] = {}
    labelled: dict[int, int] = {}
    labelled_segments = {c.segment_id for c in store.labels.current_labels(corpus_id=corpus_id)}
    for seg in store.segments.corpus_segments(corpus_id):
        segments[seg.file_id] = segments.get(seg.file_id, 0) + 1
        if seg.id in labelled_segments:
            labelled[seg.file_id] = labelled.get(seg.file_id, 0) + 1
    analyzed = store.predictions.predicted_files(corpus_id, model_version_id)
    # analysed, but segments changed since (an edit, a re-transcription, a diarization): shown, never hidden
    stale = store.predictions.stale_files(corpus_id, model_version_id) if model_version_id is not None else set()
    diarized = store.speakers.corpus_speakers(corpus_id)
    return [dict(id=f.id, path=f.path, duration=f.duration or 0.0, status=f.status, error=f.error or "",
                 speaker=f.speaker or ", ".join(diarized.get(f.id, [])), split=f.split or "",
                 transcribed=f.transcribed_at is not None,
                 segments=segments.get(f.id, 0), labelled=labelled.get(f.id, 0), analyzed=f.id in analyzed,
                 stale=f.id in stale)
            for f in store.corpora.files(corpus_id)]


@dataclass(frozen=True)
class _Span:
    start: float
    end: float
