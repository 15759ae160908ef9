"""Predictions: a model version's trajectory windows and per-segment values for each file."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import and_, delete, exists, func, or_, select

from emotrace.core.store.database import Repository
from emotrace.core.store.locks import lock_file
from emotrace.core.store.models import AudioFile, Prediction, Segment
from emotrace.core.store.rows import PredictionRow
from emotrace.core.vocab import PredictionFlag, PredictionKind


class PredictionRepository(Repository):
    """What each model version predicted on each file, replaced per file and model at once."""

    def replace_predictions(self, file_id: int, model_version_id: int, rows: Sequence[PredictionRow]) -> None:
        """A file's predictions by one model, replaced at once: a rerun never leaves half old, half new. A segment
        an edit removed while the file was analysed gets no row (the file then shows as stale, `stale_files`)."""
        with self._db.session(immediate=True) as s:
            lock_file(s, file_id)
            wanted = {r.segment_id for r in rows if r.segment_id is not None}
            there = set(s.scalars(select(Segment.id).where(Segment.file_id == file_id))) if wanted else set()
            objects = [Prediction(
                file_id=file_id, segment_id=r.segment_id, model_version_id=model_version_id, kind=str(r.kind),
                start=float(r.start), end=float(r.end), arousal=r.values[0], valence=r.values[1],
                dominance=r.values[2], audio_only=r.audio_only, text_only=r.text_only, uncertainty=r.uncertainty,
                flag=r.flag, trust=r.trust) for r in rows if r.segment_id is None or r.segment_id in there]
            s.execute(delete(Prediction).where(Prediction.file_id == file_id,
                                               Prediction.model_version_id == model_version_id))
            s.add_all(objects)
        self._db.emit("predictions_changed", file_id=file_id, model_version_id=model_version_id)

    def trajectory(self, file_id: int, model_version_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Window centres `[N]` and A/V/D `[N, 3]`; NaN where a window was flagged (nothing to draw there)."""
        with self._db.session() as s:
            rows = s.execute(select(Prediction.start, Prediction.end, Prediction.arousal, Prediction.valence,
                                    Prediction.dominance)
                             .where(Prediction.file_id == file_id, Prediction.model_version_id == model_version_id,
                                    Prediction.kind == PredictionKind.WINDOW.value)
                             .order_by(Prediction.start)).all()
        arr = np.array([[np.nan if x is None else x for x in r] for r in rows], dtype=np.float64).reshape(-1, 5)
        return (arr[:, 0] + arr[:, 1]) / 2, arr[:, 2:5]

    def window_mark(self, file_id: int, model_version_id: int) -> tuple[int, float | None]:
        """How many trajectory windows a model has stored on a file, and the last one's start: a mark that moves
        as an analysis in another process stores the file piece by piece (the app polls it; one index-only read)."""
        with self._db.session() as s:
            n, last = s.execute(select(func.count(), func.max(Prediction.start))
                                .where(Prediction.file_id == file_id, Prediction.model_version_id == model_version_id,
                                       Prediction.kind == PredictionKind.WINDOW.value)).one()
        return int(n), last

    def window_predictions(self, file_id: int, model_version_id: int) -> list[PredictionRow]:
        """A file's trajectory windows by one model, by start time, flagged ones included (values None)."""
        with self._db.session() as s:
            rows = s.execute(select(Prediction.kind, Prediction.start, Prediction.end, Prediction.arousal,
                                    Prediction.valence, Prediction.dominance, Prediction.uncertainty, Prediction.flag,
                                    Prediction.trust)
                             .where(Prediction.file_id == file_id, Prediction.model_version_id == model_version_id,
                                    Prediction.kind == PredictionKind.WINDOW.value)
                             .order_by(Prediction.start)).all()
        return [PredictionRow(None, r[0], r[1], r[2], (r[3], r[4], r[5]), uncertainty=r[6], flag=r[7], trust=r[8])
                for r in rows]

    def window_trust(self, file_id: int, model_version_id: int) -> np.ndarray:
        """`[N, 3]`: each window's start, end and trust indicator (NaN where the model has none), by start time
        as `trajectory` orders them."""
        with self._db.session() as s:
            rows = s.execute(select(Prediction.start, Prediction.end, Prediction.trust)
                             .where(Prediction.file_id == file_id, Prediction.model_version_id == model_version_id,
                                    Prediction.kind == PredictionKind.WINDOW.value)
                             .order_by(Prediction.start)).all()
        return np.array([[a, b, np.nan if t is None else t] for a, b, t in rows], dtype=np.float64).reshape(-1, 3)

    def segment_predictions(self, model_version_id: int, *, file_id: int | None = None,
                            corpus_id: int | None = None) -> dict[int, PredictionRow]:
        q = (select(Prediction.segment_id, Prediction.kind, Prediction.start, Prediction.end, Prediction.arousal,
                    Prediction.valence, Prediction.dominance, Prediction.audio_only, Prediction.text_only,
                    Prediction.uncertainty, Prediction.flag)
             .where(Prediction.model_version_id == model_version_id, Prediction.kind == PredictionKind.SEGMENT.value))
        if file_id is not None:
            q = q.where(Prediction.file_id == file_id)
        if corpus_id is not None:
            q = q.join(AudioFile, AudioFile.id == Prediction.file_id).where(AudioFile.corpus_id == corpus_id)
        with self._db.session() as s:
            return {r[0]: PredictionRow(r[0], r[1], r[2], r[3], (r[4], r[5], r[6]), r[7], r[8], r[9], r[10])
                    for r in s.execute(q)}

    def add_partial_windows(self, file_id: int, model_version_id: int, rows: Sequence[PredictionRow],
                            first: bool = False) -> bool:
        """Trajectory windows of a file whose analysis is still running, stored as they are predicted (flagged
        `partial`) so the open file view draws them at once; `replace_predictions` later replaces them with the
        file's final rows in one transaction. Until then the file is not analysed by this model
        (`predicted_files`), so a run killed halfway is taken up again. A file that already has final rows of
        this model gets none (returns False): a re-analysis shows the old trajectory until the new one is whole,
        never both mixed. `first`: a run's first piece, which replaces the partial windows a killed run left.
        Emits a partial `predictions_changed` (the view refreshes the windows only)."""
        with self._db.session(immediate=True) as s:
            lock_file(s, file_id)
            final = s.scalar(select(Prediction.id).where(Prediction.file_id == file_id,
                                                         Prediction.model_version_id == model_version_id,
                                                         _final()).limit(1))
            if final is not None:
                return False
            if first:
                s.execute(delete(Prediction).where(Prediction.file_id == file_id,
                                                   Prediction.model_version_id == model_version_id,
                                                   Prediction.flag == PredictionFlag.PARTIAL.value))
            s.add_all(Prediction(
                file_id=file_id, segment_id=None, model_version_id=model_version_id, kind=PredictionKind.WINDOW.value,
                start=float(r.start), end=float(r.end), arousal=r.values[0], valence=r.values[1],
                dominance=r.values[2], audio_only=r.audio_only, text_only=r.text_only, uncertainty=r.uncertainty,
                flag=PredictionFlag.PARTIAL.value, trust=r.trust) for r in rows if None not in r.values)
        self._db.emit("predictions_changed", file_id=file_id, model_version_id=model_version_id, partial=True)
        return True

    def predicted_models(self, file_id: int) -> list[int]:
        """The model versions with predictions on a file, newest first (a view falls back to the newest)."""
        q = (select(Prediction.model_version_id).distinct().where(Prediction.file_id == file_id, _final())
             .order_by(Prediction.model_version_id.desc()))
        with self._db.session() as s:
            return list(s.scalars(q))

    def predicted_files(self, corpus_id: int, model_version_id: int | None = None) -> set[int]:
        q = (select(Prediction.file_id).distinct().join(AudioFile, AudioFile.id == Prediction.file_id)
             .where(AudioFile.corpus_id == corpus_id, _final()))
        if model_version_id is not None:
            q = q.where(Prediction.model_version_id == model_version_id)
        with self._db.session() as s:
            return set(s.scalars(q))

    def add_segment_predictions(self, file_id: int, model_version_id: int, rows: Sequence[PredictionRow]) -> int:
        """Predictions for some segments of a file beside its other predictions (a catch-up after its units were
        rebuilt): the file's windows and its other segments' rows stay; a segment removed meanwhile gets none.
        Returns how many rows were stored."""
        with self._db.session(immediate=True) as s:
            lock_file(s, file_id)
            wanted = {r.segment_id for r in rows if r.segment_id is not None}
            there = set(s.scalars(select(Segment.id).where(Segment.file_id == file_id, Segment.id.in_(list(wanted)))))
            objects = [Prediction(
                file_id=file_id, segment_id=r.segment_id, model_version_id=model_version_id,
                kind=PredictionKind.SEGMENT.value, start=float(r.start), end=float(r.end), arousal=r.values[0],
                valence=r.values[1], dominance=r.values[2], audio_only=r.audio_only, text_only=r.text_only,
                uncertainty=r.uncertainty, flag=r.flag, trust=r.trust) for r in rows if r.segment_id in there]
            s.execute(delete(Prediction).where(Prediction.model_version_id == model_version_id,
                                               Prediction.segment_id.in_(list(there))))
            s.add_all(objects)
        self._db.emit("predictions_changed", file_id=file_id, model_version_id=model_version_id)
        return len(objects)

    def stale_files(self, corpus_id: int, model_version_id: int) -> set[int]:
        """Files the model analysed that have a current segment it has no prediction for: their segments changed
        since (a segment edit, a re-transcription, a diarization rebuilt the units). Shown as stale (`emotrace
        stats`, the corpus list), and what `analyze` catches up first; never taken for analysed."""
        has_model = exists().where(Prediction.file_id == Segment.file_id,
                                   Prediction.model_version_id == model_version_id, _final())
        predicted = exists().where(and_(Prediction.segment_id == Segment.id,
                                        Prediction.model_version_id == model_version_id))
        q = (select(Segment.file_id).distinct().join(AudioFile, AudioFile.id == Segment.file_id)
             .where(AudioFile.corpus_id == corpus_id, Segment.superseded_at.is_(None), has_model, ~predicted))
        with self._db.session() as s:
            return set(s.scalars(q))


def _final():
    """Rows that are a file's analysis, not windows streamed while it runs (`add_partial_windows`)."""
    return or_(Prediction.flag.is_(None), Prediction.flag != PredictionFlag.PARTIAL.value)
