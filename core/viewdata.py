"""Everything one file's view shows, fetched in a few column queries (no ORM objects): fast on 10k segments."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func, select

from core.store import AudioFile, Label, Prediction, Segment, Store, Word


@dataclass
class LabelRow:
    segment_id: int
    annotator: str
    values: tuple[float | None, float | None, float | None]
    category: str | None
    origin: str
    label_id: int


@dataclass
class FileData:
    file_id: int
    path: str
    duration: float
    fingerprint: str
    seg_ids: np.ndarray  # [S]
    seg_bounds: np.ndarray  # [S, 2]
    seg_texts: list[str]
    word_starts: np.ndarray
    word_ends: np.ndarray
    word_texts: list[str]
    labels: dict[str, dict[int, LabelRow]] = field(default_factory=dict)  # annotator -> segment -> latest
    trajectories: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # mv -> (t, [N,3])
    segment_predictions: dict[int, dict[int, tuple]] = field(default_factory=dict)  # mv -> seg -> (avd, a, t)

    def segment_at(self, t: float) -> int | None:
        """Index of the segment under time t (the latest starting one), or None."""
        if not len(self.seg_bounds):
            return None
        i = int(np.searchsorted(self.seg_bounds[:, 0], t, side="right")) - 1
        return i if i >= 0 and t <= self.seg_bounds[i, 1] else None

    def word_at(self, t: float) -> int | None:
        if not len(self.word_starts):
            return None
        i = int(np.searchsorted(self.word_starts, t, side="right")) - 1
        return i if i >= 0 else None

    def latest_label(self, segment_id: int) -> LabelRow | None:
        """The newest label of a segment over all annotators."""
        rows = [by_seg[segment_id] for by_seg in self.labels.values() if segment_id in by_seg]
        return max(rows, key=lambda r: r.label_id) if rows else None


def load_file_data(store: Store, file_id: int, model_ids: list[int] | None = None) -> FileData:
    with store.session() as s:
        f = s.get(AudioFile, file_id)
        segs = s.execute(select(Segment.id, Segment.start, Segment.end, Segment.text)
                         .where(Segment.file_id == file_id).order_by(Segment.start)).all()
        words = s.execute(select(Word.start, Word.end, Word.text).where(Word.file_id == file_id)
                          .order_by(Word.start)).all()
        data = FileData(
            file_id=file_id, path=f.path, duration=float(f.duration or 0.0), fingerprint=f.fingerprint,
            seg_ids=np.array([r[0] for r in segs], dtype=np.int64),
            seg_bounds=np.array([(r[1], r[2]) for r in segs], dtype=np.float64).reshape(-1, 2),
            seg_texts=[r[3] or "" for r in segs],
            word_starts=np.array([r[0] for r in words], dtype=np.float64),
            word_ends=np.array([r[1] for r in words], dtype=np.float64),
            word_texts=[r[2] for r in words],
        )
        data.labels = _latest_labels_by_annotator(s, file_id)
        for mv in model_ids or []:
            rows = s.execute(select(Prediction.start, Prediction.end, Prediction.arousal, Prediction.valence,
                                    Prediction.dominance)
                             .where(Prediction.file_id == file_id, Prediction.model_version_id == mv,
                                    Prediction.kind == "window").order_by(Prediction.start)).all()
            arr = np.array(rows, dtype=np.float64).reshape(-1, 5)
            data.trajectories[mv] = ((arr[:, 0] + arr[:, 1]) / 2, arr[:, 2:5])
            seg_rows = s.execute(select(Prediction.segment_id, Prediction.arousal, Prediction.valence,
                                        Prediction.dominance, Prediction.audio_only, Prediction.text_only)
                                 .where(Prediction.file_id == file_id, Prediction.model_version_id == mv,
                                        Prediction.kind == "segment")).all()
            data.segment_predictions[mv] = {r[0]: ((r[1], r[2], r[3]), r[4], r[5]) for r in seg_rows}
    return data


def _latest_labels_by_annotator(s, file_id: int) -> dict[str, dict[int, LabelRow]]:
    rows = s.execute(
        select(Label.id, Label.segment_id, Label.annotator, Label.arousal, Label.valence, Label.dominance,
               Label.category, Label.origin)
        .join(Segment, Segment.id == Label.segment_id).where(Segment.file_id == file_id)
        .order_by(Label.created_at, Label.id)).all()
    labels: dict[str, dict[int, LabelRow]] = {}
    for lid, sid, ann, a, v, d, cat, origin in rows:
        labels.setdefault(ann, {})[sid] = LabelRow(sid, ann, (a, v, d), cat, origin, lid)
    return labels


def load_labels(store: Store, file_id: int) -> dict[str, dict[int, LabelRow]]:
    """Only the labels of a file: what a save changes, without re-reading words and predictions."""
    with store.session() as s:
        return _latest_labels_by_annotator(s, file_id)


def corpus_table(store: Store, corpus_id: int, model_version_id: int | None = None) -> list[dict]:
    """One row per file with the counts the corpus browser shows."""
    with store.session() as s:
        seg_count = (select(Segment.file_id, func.count(Segment.id).label("n")).group_by(Segment.file_id)
                     .subquery())
        labelled = (select(Segment.file_id, func.count(func.distinct(Label.segment_id)).label("n"))
                    .join(Label, Label.segment_id == Segment.id).group_by(Segment.file_id).subquery())
        analyzed_q = select(Prediction.file_id, func.count(Prediction.id).label("n"))
        if model_version_id is not None:
            analyzed_q = analyzed_q.where(Prediction.model_version_id == model_version_id)
        analyzed = analyzed_q.group_by(Prediction.file_id).subquery()
        rows = s.execute(
            select(AudioFile.id, AudioFile.path, AudioFile.duration, AudioFile.status, AudioFile.error,
                   AudioFile.speaker, AudioFile.split, AudioFile.transcribed_at, seg_count.c.n, labelled.c.n,
                   analyzed.c.n)
            .outerjoin(seg_count, seg_count.c.file_id == AudioFile.id)
            .outerjoin(labelled, labelled.c.file_id == AudioFile.id)
            .outerjoin(analyzed, analyzed.c.file_id == AudioFile.id)
            .where(AudioFile.corpus_id == corpus_id).order_by(AudioFile.path)).all()
    return [dict(id=r[0], path=r[1], duration=r[2] or 0.0, status=r[3], error=r[4] or "", speaker=r[5] or "",
                 split=r[6] or "", transcribed=r[7] is not None, segments=r[8] or 0, labelled=r[9] or 0,
                 analyzed=bool(r[10])) for r in rows]
