"""Write a corpus back out: a flat CSV for analysis and an MSP-Podcast `labels_consensus.csv`."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from core.importer import MSP_COLUMNS
from core.store import AudioFile, Label, Prediction, Segment, Store


def _latest_labels(s, seg_ids: list[int]) -> dict[int, Label]:
    latest: dict[int, Label] = {}
    q = select(Label).where(Label.segment_id.in_(seg_ids)).order_by(Label.segment_id, Label.created_at, Label.id)
    for label in s.scalars(q):
        latest[label.segment_id] = label
    return latest


def export_segments(store: Store, corpus: str, out: str | Path, model_version_id: int | None = None) -> int:
    """One row per segment with its latest label and the given (default: active) model's prediction."""
    corpus_row = store.corpus(corpus)
    if model_version_id is None:
        active = store.active_model()
        model_version_id = active.id if active else None
    with store.session() as s, open(out, "w", newline="", encoding="utf-8") as fh:
        rows = s.execute(
            select(Segment, AudioFile.path)
            .join(AudioFile, AudioFile.id == Segment.file_id)
            .where(AudioFile.corpus_id == corpus_row.id)
            .order_by(AudioFile.path, Segment.start)
        ).all()
        seg_ids = [seg.id for seg, _ in rows]
        labels = _latest_labels(s, seg_ids)
        preds: dict[int, Prediction] = {}
        if model_version_id is not None:
            q = select(Prediction).where(Prediction.model_version_id == model_version_id, Prediction.kind == "segment")
            preds = {p.segment_id: p for p in s.scalars(q)}
        writer = csv.writer(fh)
        writer.writerow(["file", "start", "end", "speaker", "split", "origin", "text", "annotator", "arousal",
                         "valence", "dominance", "category", "pred_arousal", "pred_valence", "pred_dominance"])
        for seg, path in rows:
            lab, pred = labels.get(seg.id), preds.get(seg.id)
            writer.writerow([
                path, f"{seg.start:.3f}", f"{seg.end:.3f}", seg.speaker or "", seg.split or "", seg.origin,
                seg.text or "",
                *( [lab.annotator, lab.arousal, lab.valence, lab.dominance, lab.category or ""] if lab else [""] * 5),
                *( [round(pred.arousal, 4), round(pred.valence, 4), round(pred.dominance, 4)] if pred else [""] * 3),
            ])
    return len(rows)


def export_msp(store: Store, corpus: str, out: str | Path) -> int:
    """MSP-Podcast form: one labelled segment per row, file names relative to the corpus root."""
    corpus_row = store.corpus(corpus)
    root = Path(corpus_row.root) if corpus_row.root else None
    count = 0
    with store.session() as s, open(out, "w", newline="", encoding="utf-8") as fh:
        rows = s.execute(
            select(Segment, AudioFile)
            .join(AudioFile, AudioFile.id == Segment.file_id)
            .where(AudioFile.corpus_id == corpus_row.id)
            .order_by(AudioFile.path, Segment.start)
        ).all()
        labels = _latest_labels(s, [seg.id for seg, _ in rows])
        per_file = Counter(audio.id for _, audio in rows)
        writer = csv.writer(fh)
        writer.writerow(MSP_COLUMNS)
        for seg, audio in rows:
            lab = labels.get(seg.id)
            if lab is None:
                continue
            path = Path(audio.path)
            name = str(path.relative_to(root)) if root and path.is_relative_to(root) else path.name
            if per_file[audio.id] > 1:  # MSP has one file per turn; name the turn inside a long file
                name = f"{name}#{seg.start:.3f}-{seg.end:.3f}"
            writer.writerow([name, lab.category or "X", lab.arousal, lab.valence, lab.dominance,
                             seg.speaker or audio.speaker or "Unknown", audio.gender or "Unknown",
                             seg.split or audio.split or "Unknown"])
            count += 1
    return count
