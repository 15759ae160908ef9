"""The review queue: segments ordered by what most needs a human.

Score = the model's uncertainty (the MC-dropout spread of its heads; for older predictions without it, the
spread of its fused, audio-only and text-only outputs) + the disagreement between its audio-only and
text-only predictions + the gap between the model and the segment's current label (the store's rule). All on
the 1-7 scale, averaged over A, V and D.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emotrace.core.stats.traces import GRID_RATE, on_grid
from emotrace.core.store import SegmentLabel, Store
from emotrace.core.vocab import DIMENSIONS


@dataclass(frozen=True)
class ReviewItem:
    segment_id: int
    file_id: int
    start: float
    end: float
    score: float
    uncertainty: float
    modality_gap: float
    label_gap: float | None
    label: SegmentLabel | None = None  # the segment's current label, by the store's rule


def review_queue(store: Store, corpus_id: int, model_version_id: int, limit: int = 500) -> list[ReviewItem]:
    preds = store.predictions.segment_predictions(model_version_id, corpus_id=corpus_id)
    labels = store.labels.segment_labels(corpus_id=corpus_id)
    files = {seg.id: seg.file_id for seg in store.segments.corpus_segments(corpus_id)}
    items = []
    for sid, p in preds.items():
        if p.flag is not None or sid not in files:
            continue  # nothing was predicted there
        fused = np.array(p.values, dtype=float)
        outs = [fused] + [np.array(x) for x in (p.audio_only, p.text_only) if x is not None]
        if p.uncertainty is not None:
            uncertainty = float(p.uncertainty)
        else:
            uncertainty = float(np.stack(outs).std(0).mean()) if len(outs) > 1 else 0.0
        gap = (float(np.abs(np.array(p.audio_only) - np.array(p.text_only)).mean())
               if p.audio_only and p.text_only else 0.0)
        label = labels.get(sid)
        label_gap = None
        if label is not None:
            have = [i for i, x in enumerate(label.values) if x is not None]
            label_gap = float(np.mean([abs(fused[i] - label.values[i]) for i in have]))
        score = uncertainty + gap + (label_gap or 0.0)
        items.append(ReviewItem(sid, files[sid], p.start, p.end, round(score, 4), round(uncertainty, 4),
                                round(gap, 4), None if label_gap is None else round(label_gap, 4), label))
    items.sort(key=lambda it: -it.score)
    return items[:limit]


@dataclass(frozen=True)
class TraceReviewItem:
    """A stretch of a traced file where the annotator and the model (or two annotators) part most."""

    file_id: int
    start: float
    end: float
    dimension: str
    annotator: str
    model_gap: float | None  # mean |trace - model| over the span (1-7 scale)
    annotator_gap: float | None  # mean |trace - the other annotators' traces|
    score: float


def trace_review(store: Store, corpus_id: int, model_version_id: int | None, span: float = 10.0,
                 limit: int = 500) -> list[TraceReviewItem]:
    """Spans of `span` seconds ranked by annotator-model plus annotator-annotator distance of their traces."""
    items = []
    for f in store.corpora.files(corpus_id):
        traced = store.traces.traced(f.id)
        if not traced:
            continue
        duration = float(f.duration or 0.0)
        grid = np.arange(0.0, duration, 1.0 / GRID_RATE)
        starts = np.arange(0.0, max(duration - 1e-9, 0.0), span)
        model = None
        if model_version_id is not None:
            t, values = store.predictions.trajectory(f.id, model_version_id)
            model = (t, values) if len(t) else None
        series = {(a, d): on_grid(*store.traces.current_trace(f.id, a, d), grid) for a, d in traced}
        for (annotator, dim), values in series.items():
            model_v = on_grid(model[0], model[1][:, DIMENSIONS.index(dim)], grid, max_gap=5.0) if model else None
            others = [v for (a, d), v in series.items() if d == dim and a != annotator]
            for s0 in starts:
                inside = (grid >= s0) & (grid < s0 + span) & np.isfinite(values)
                if inside.sum() < GRID_RATE:  # under a second traced there
                    continue
                mg = None
                if model_v is not None and np.isfinite(model_v[inside]).any():
                    mg = float(np.nanmean(np.abs(values[inside] - model_v[inside])))
                gaps = [np.nanmean(np.abs(values[inside] - o[inside])) for o in others if np.isfinite(o[inside]).any()]
                ag = float(np.mean(gaps)) if gaps else None
                score = (mg or 0.0) + (ag or 0.0)
                items.append(TraceReviewItem(f.id, float(s0), float(min(s0 + span, duration)), dim, annotator,
                                             None if mg is None else round(mg, 4), None if ag is None else round(ag, 4),
                                             round(score, 4)))
    items.sort(key=lambda it: -it.score)
    return items[:limit]
