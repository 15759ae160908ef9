"""Continuous traces: the store's repository for them.

A pass is written in small committed chunks while the annotator traces (a killed app loses at most the chunk in
flight). Rows are never changed: re-tracing a stretch is a new pass, and the current trace takes, at each time,
the newest pass that has samples there. A trace's mean over a segment becomes a label of origin `trace` by the
rater "<annotator> (trace)", so it joins the one label rule without displacing the annotator's own labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, insert, select

from emotrace.core.store.database import Database, Repository
from emotrace.core.store.labels import LabelRepository
from emotrace.core.store.models import AudioFile, Trace, TraceSample
from emotrace.core.store.rows import LabelSpec
from emotrace.core.store.segments import SegmentRepository
from emotrace.core.vocab import DIMENSIONS, SCALE, LabelOrigin

TRACE_RATER_SUFFIX = " (trace)"


def trace_rater(annotator: str) -> str:
    return f"{annotator}{TRACE_RATER_SUFFIX}"


@dataclass(frozen=True)
class TracePass:
    id: int
    file_id: int
    annotator: str
    dimension: str
    pass_no: int
    rate: float
    assisted_by: int | None
    samples: int
    start: float | None
    end: float | None


def merge_passes(passes: Sequence[tuple[float, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(rate, t, v) per pass, oldest first -> one trace: each pass replaces what older ones had inside its
    stretches (runs of samples no further apart than two sample periods)."""
    t_all, v_all = np.zeros(0), np.zeros(0)
    for rate, t, v in passes:
        if not len(t):
            continue
        order = np.argsort(t, kind="stable")
        t, v = t[order], v[order]
        breaks = np.flatnonzero(np.diff(t) > 2.0 / rate) + 1
        keep = np.ones(len(t_all), dtype=bool)
        half = 0.5 / rate
        for a, b in zip(np.concatenate([[0], breaks]), np.concatenate([breaks, [len(t)]])):
            keep &= ~((t_all >= t[a] - half) & (t_all <= t[b - 1] + half))
        t_all, v_all = np.concatenate([t_all[keep], t]), np.concatenate([v_all[keep], v])
        order = np.argsort(t_all, kind="stable")
        t_all, v_all = t_all[order], v_all[order]
    return t_all, v_all


def _check_pass(dimension: str, rate: float) -> None:
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {', '.join(DIMENSIONS)}, not {dimension!r}")
    if not 0 < rate <= 100:
        raise ValueError(f"a trace's rate must be in (0, 100] samples per second, not {rate}")


def _new_pass(s, file_id: int, annotator: str, dimension: str, rate: float, assisted_by: int | None) -> Trace:
    if s.get(AudioFile, file_id) is None:
        raise ValueError(f"No audio file with id {file_id}")
    n = s.scalar(select(func.count(Trace.id)).where(Trace.file_id == file_id, Trace.annotator == annotator,
                                                    Trace.dimension == dimension)) or 0
    trace = Trace(file_id=file_id, annotator=annotator, dimension=dimension, pass_no=n + 1, rate=rate,
                  scale_low=SCALE.low, scale_high=SCALE.high, assisted_by=assisted_by)
    s.add(trace)
    s.flush()
    return trace


def _checked_samples(times: Sequence[float], values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    times, values = np.asarray(times, float), np.asarray(values, float)
    if times.shape != values.shape:
        raise ValueError("times and values differ in length")
    if len(times) and not np.isfinite(times).all():
        raise ValueError("trace times must be finite")
    if len(values) and (not np.isfinite(values).all() or values.min() < SCALE.low or values.max() > SCALE.high):
        raise ValueError(f"trace values must lie on the {SCALE.low:g}-{SCALE.high:g} scale")
    return times, values


def _insert_samples(s, trace_id: int, times: np.ndarray, values: np.ndarray, chunk: int = 20_000) -> None:
    """Plain executemany inserts, not one ORM object per sample (an hour at 100 Hz is 360,000 of them)."""
    for i in range(0, len(times), chunk):
        s.execute(insert(TraceSample), [{"trace_id": trace_id, "t": float(a), "value": float(b)}
                                        for a, b in zip(times[i:i + chunk], values[i:i + chunk])])


class TraceRepository(Repository):
    """Continuous traces (passes of samples); their means over `segments` become labels through `labels`."""

    def __init__(self, db: Database, segments: SegmentRepository, labels: LabelRepository) -> None:
        super().__init__(db)
        self._segments = segments
        self._labels = labels

    def start_trace(self, file_id: int, *, annotator: str, dimension: str, rate: float = 10.0,
                    assisted_by: int | None = None) -> int:
        _check_pass(dimension, rate)
        with self._db.session() as s:
            return _new_pass(s, file_id, annotator, dimension, rate, assisted_by).id

    def append_trace(self, trace_id: int, times: Sequence[float], values: Sequence[float]) -> int:
        """One committed chunk of a pass; values are clipped to nothing: off-scale values are refused."""
        times, values = _checked_samples(times, values)
        with self._db.session() as s:
            trace = s.get(Trace, trace_id)
            if trace is None:
                raise ValueError(f"No trace with id {trace_id}")
            _insert_samples(s, trace_id, times, values)
            file_id = trace.file_id
        self._db.emit("trace_appended", trace_id=trace_id, file_id=file_id)
        return len(times)

    def import_trace(self, file_id: int, *, annotator: str, dimension: str, rate: float, times: Sequence[float],
                     values: Sequence[float]) -> int:
        """A whole pass read from a file, in one transaction: the pass with all its samples, or nothing (a failed
        import never leaves an empty pass). Returns the pass number."""
        _check_pass(dimension, rate)
        times, values = _checked_samples(times, values)
        if not len(times):
            raise ValueError("a trace file without samples imports nothing")
        with self._db.session() as s:
            trace = _new_pass(s, file_id, annotator, dimension, rate, None)
            _insert_samples(s, trace.id, times, values)
            trace_id, pass_no = trace.id, trace.pass_no
        self._db.emit("trace_appended", trace_id=trace_id, file_id=file_id)
        return pass_no

    def trace_passes(self, file_id: int, annotator: str | None = None, dimension: str | None = None
                     ) -> list[TracePass]:
        with self._db.session() as s:
            q = (select(Trace.id, Trace.file_id, Trace.annotator, Trace.dimension, Trace.pass_no, Trace.rate,
                        Trace.assisted_by, func.count(TraceSample.id), func.min(TraceSample.t), func.max(TraceSample.t))
                 .outerjoin(TraceSample, TraceSample.trace_id == Trace.id).where(Trace.file_id == file_id)
                 .group_by(Trace.id).order_by(Trace.id))
            if annotator is not None:
                q = q.where(Trace.annotator == annotator)
            if dimension is not None:
                q = q.where(Trace.dimension == dimension)
            return [TracePass(*r) for r in s.execute(q)]

    def current_trace(self, file_id: int, annotator: str, dimension: str) -> tuple[np.ndarray, np.ndarray]:
        """Times and values of the annotator's trace of one dimension: the newest pass wins where it has samples."""
        return self._merged(self.trace_passes(file_id, annotator, dimension))

    def _merged(self, passes: list[TracePass]) -> tuple[np.ndarray, np.ndarray]:
        out = []
        with self._db.session() as s:
            for p in passes:
                rows = s.execute(select(TraceSample.t, TraceSample.value).where(TraceSample.trace_id == p.id)
                                 .order_by(TraceSample.t, TraceSample.id)).all()
                # plain columns: numpy on SQLAlchemy Row objects probes each as a mapping (1.5 s per 100k rows)
                out.append((p.rate, np.fromiter((r[0] for r in rows), float, len(rows)),
                            np.fromiter((r[1] for r in rows), float, len(rows))))
        return merge_passes(out)

    def traced(self, file_id: int) -> list[tuple[str, str]]:
        """(annotator, dimension) pairs with a trace on this file."""
        with self._db.session() as s:
            return sorted(set(s.execute(select(Trace.annotator, Trace.dimension).where(Trace.file_id == file_id))))

    def trace_means(self, file_id: int, spans: np.ndarray, annotator: str, dimension: str,
                    min_coverage: float = 0.5) -> np.ndarray:
        """The trace's mean inside each span; NaN where it covers less than `min_coverage` of the span."""
        passes = self.trace_passes(file_id, annotator, dimension)
        t, v = self._merged(passes)
        rate = max((p.rate for p in passes), default=10.0)
        out = np.full(len(spans), np.nan)
        for k, (a, b) in enumerate(np.asarray(spans, float).reshape(-1, 2)):
            inside = (t >= a) & (t < b)
            if inside.sum() >= max(1, min_coverage * (b - a) * rate):
                out[k] = float(v[inside].mean())
        return out

    def trace_labels(self, file_id: int) -> tuple[int, int]:
        """Each traced annotator's means over the file's segments, as labels of origin `trace` (added only where
        they changed, so re-running it adds nothing). Returns (segments, labels added); (0, 0) for a file nobody
        traced."""
        traced = self.traced(file_id)
        segments = self._segments.segments(file_id) if traced else []
        if not segments:
            return 0, 0
        spans = np.array([[seg.start, seg.end] for seg in segments])
        by_annotator: dict[str, dict[str, np.ndarray]] = {}
        for annotator, dimension in traced:
            by_annotator.setdefault(annotator, {})[dimension] = self.trace_means(file_id, spans, annotator, dimension)
        specs = []
        for annotator, means in by_annotator.items():
            for k, seg in enumerate(segments):
                values = tuple(None if d not in means or np.isnan(means[d][k]) else round(float(means[d][k]), 4)
                               for d in DIMENSIONS)
                if values != (None, None, None):
                    specs.append(LabelSpec(file_id, seg.start, seg.end, trace_rater(annotator), values,
                                           origin=LabelOrigin.TRACE))
        return self._labels.import_labels(specs)
