"""Agreement between annotators per dimension (CCC), over the segments both labelled (their latest labels)."""

from __future__ import annotations

from itertools import combinations

import numpy as np
from sqlalchemy import select

from core.metrics import ccc
from core.store import AudioFile, Label, Segment, Store

DIMS = ("arousal", "valence", "dominance")


def annotator_agreement(store: Store, corpus_id: int) -> list[dict]:
    """One row per annotator pair with the shared segment count and CCC for A, V and D."""
    with store.session() as s:
        rows = s.execute(
            select(Label.annotator, Label.segment_id, Label.arousal, Label.valence, Label.dominance)
            .join(Segment, Segment.id == Label.segment_id).join(AudioFile, AudioFile.id == Segment.file_id)
            .where(AudioFile.corpus_id == corpus_id).order_by(Label.created_at, Label.id)).all()
    latest: dict[str, dict[int, tuple]] = {}
    for ann, sid, a, v, d in rows:
        latest.setdefault(ann, {})[sid] = (a, v, d)
    out = []
    for x, y in combinations(sorted(latest), 2):
        shared = sorted(set(latest[x]) & set(latest[y]))
        if len(shared) < 2:
            continue
        a = np.array([latest[x][k] for k in shared], dtype=float)
        b = np.array([latest[y][k] for k in shared], dtype=float)
        out.append({"pair": (x, y), "n": len(shared),
                    "ccc": {d: round(ccc(a[:, i], b[:, i]), 4) for i, d in enumerate(DIMS)}})
    return out
