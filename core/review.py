"""The review queue: segments ordered by what most needs a human.

Score = the model's uncertainty (the MC-dropout spread of its heads; for older predictions without it, the
spread of its fused, audio-only and text-only outputs) + the disagreement between its audio-only and
text-only predictions + the gap between the model and the segment's current label (the store's rule). All on
the 1-7 scale, averaged over A, V and D.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.store import SegmentLabel, Store


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
    preds = store.segment_predictions(model_version_id, corpus_id=corpus_id)
    labels = store.segment_labels(corpus_id=corpus_id)
    files = {seg.id: seg.file_id for seg in store.corpus_segments(corpus_id)}
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
