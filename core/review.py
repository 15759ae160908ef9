"""The review queue: segments ordered by what most needs a human.

Score = the model's uncertainty (the MC-dropout spread of its heads; for older predictions without it, the
spread of its fused, audio-only and text-only outputs) + the disagreement between its audio-only and
text-only predictions + the gap between the model and an existing label. All on the 1-7 scale, averaged over
A, V and D.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from core.store import AudioFile, Label, Prediction, Segment, Store


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


def review_queue(store: Store, corpus_id: int, model_version_id: int, limit: int = 500) -> list[ReviewItem]:
    with store.session() as s:
        preds = s.execute(
            select(Prediction.segment_id, Prediction.file_id, Prediction.start, Prediction.end, Prediction.arousal,
                   Prediction.valence, Prediction.dominance, Prediction.audio_only, Prediction.text_only,
                   Prediction.uncertainty)
            .join(AudioFile, AudioFile.id == Prediction.file_id)
            .where(AudioFile.corpus_id == corpus_id, Prediction.model_version_id == model_version_id,
                   Prediction.kind == "segment")).all()
        latest: dict[int, tuple] = {}
        for sid, a, v, d in s.execute(
                select(Label.segment_id, Label.arousal, Label.valence, Label.dominance)
                .join(Segment, Segment.id == Label.segment_id).join(AudioFile, AudioFile.id == Segment.file_id)
                .where(AudioFile.corpus_id == corpus_id).order_by(Label.created_at, Label.id)):
            latest[sid] = (a, v, d)
    items = []
    for sid, fid, start, end, a, v, d, audio_only, text_only, mc_std in preds:
        fused = np.array([a, v, d])
        outs = [fused] + [np.array(x) for x in (audio_only, text_only) if x is not None]
        if mc_std is not None:
            uncertainty = float(mc_std)
        else:
            uncertainty = float(np.stack(outs).std(0).mean()) if len(outs) > 1 else 0.0
        gap = float(np.abs(np.array(audio_only) - np.array(text_only)).mean()) if audio_only and text_only else 0.0
        label = latest.get(sid)
        label_gap = None
        if label is not None and None not in label:
            label_gap = float(np.abs(fused - np.array(label)).mean())
        score = uncertainty + gap + (label_gap or 0.0)
        items.append(ReviewItem(sid, fid, start, end, round(score, 4), round(uncertainty, 4), round(gap, 4),
                                None if label_gap is None else round(label_gap, 4)))
    items.sort(key=lambda it: -it.score)
    return items[:limit]
