"""`emotrace acoustics`: eGeMAPS v02 functionals of a corpus, per trajectory window or per segment, as a table.

The windows are the trajectory's own: those a model's analysis stored (so the table lines up row for row with
`emotrace trajectories`), else the windows `analyze` would make (the model's window and hop, cut at speaker
changes: `trajectory_spans`). A researcher puts the two tables side by side in a notebook.

Rows are written file by file (CSV appended, Parquet as one row group per file), so memory holds one file's
table, and the output appears only when complete (written beside it, then renamed).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emotrace.core.audio.acoustics import egemaps_names, span_functionals
from emotrace.core.audio.decode import AudioError
from emotrace.core.errors import UserFacingError
from emotrace.core.progress import CancelFn, ProgressFn, check_cancel, no_progress
from emotrace.core.ser.config import EmoTraceConfig
from emotrace.core.store import Store
from emotrace.core.vocab import FileStatus
from emotrace.core.workflows.analyze import check_spans, trajectory_spans

WINDOW_COLUMNS = ["file", "start", "end"]
SEGMENT_COLUMNS = ["file", "segment_id", "speaker", "start", "end"]


@dataclass
class AcousticsReport:
    files: int = 0
    rows: int = 0
    failed: list[tuple[str, str]] | None = None
    spans_from: str = ""

    def summary(self) -> str:
        failed = self.failed or []
        lines = [f"wrote eGeMAPS v02 (88 functionals) for {self.rows} {self.spans_from} from {self.files} files, "
                 f"{len(failed)} failed"]
        lines += [f"  FAILED {path}: {why}" for path, why in failed]
        return "\n".join(lines)


def _window_plan(store: Store, model: str | int | None, window: float | None, hop: float | None):
    """The model version whose stored windows to reuse (None: none) and the window and hop otherwise."""
    version = store.models.model_version(model) if model is not None else store.models.active_model()
    config = None
    if version is not None:
        try:
            config = EmoTraceConfig.from_pretrained(version.folder)
        except (OSError, ValueError):
            config = None  # a broken folder only loses its window and hop: the defaults stand in
    default = EmoTraceConfig()
    win = window or (config.window_seconds if config else default.window_seconds)
    hp = hop or (config.hop_seconds if config else default.hop_seconds)
    reuse = version if window is None and hop is None else None
    return reuse, win, hp


def export_acoustics(
    store: Store, corpus: str, out: str | Path, *, segments: bool = False, model: str | int | None = None,
    window: float | None = None, hop: float | None = None, progress: ProgressFn = no_progress,
    cancel: CancelFn | None = None,
) -> AcousticsReport:
    check_spans(window, hop)
    names = egemaps_names()  # refuses (one line) before any work when openSMILE is missing
    corpus_row = store.corpora.corpus(corpus)
    reuse, win, hp = (None, None, None) if segments else _window_plan(store, model, window, hop)
    files = store.corpora.files(corpus_row.id, status=FileStatus.OK)
    root = Path(corpus_row.root) if corpus_row.root else None
    report = AcousticsReport(files=len(files), failed=[], spans_from="segments" if segments else "windows")
    columns = (SEGMENT_COLUMNS if segments else WINDOW_COLUMNS) + names
    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    parquet = out.suffix.lower() == ".parquet"
    writer = _ParquetTable(tmp, columns) if parquet else _CsvTable(tmp, columns)
    try:
        for i, f in enumerate(files):
            check_cancel(cancel)
            name = str(Path(f.path).relative_to(root)) if root and Path(f.path).is_relative_to(root) else Path(f.path).name
            progress(i, len(files), name)
            if segments:
                segs = store.segments.segments(f.id, include_superseded=False)
                spans = np.array([[s.start, s.end] for s in segs], dtype=float).reshape(-1, 2)
                keys = [[name, s.id, s.speaker or "", round(s.start, 3), round(s.end, 3)] for s in segs]
            else:
                stored = store.predictions.window_predictions(f.id, reuse.id) if reuse is not None else []
                spans = (np.array([[p.start, p.end] for p in stored]).reshape(-1, 2) if stored
                         else trajectory_spans(store, f, win, hp))
                keys = [[name, round(float(a), 3), round(float(b), 3)] for a, b in spans]
            try:
                feats = span_functionals(f.path, spans, cancel=(lambda: check_cancel(cancel)) if cancel else None)
            except AudioError as exc:
                report.failed.append((f.path, str(exc)))
                continue
            writer.write(keys, feats)
            report.rows += len(keys)
        progress(len(files), len(files), "done")
        writer.close()
        os.replace(tmp, out)
    finally:
        writer.close()
        tmp.unlink(missing_ok=True)
    return report


class _CsvTable:
    def __init__(self, path: Path, columns: list[str]) -> None:
        self._fh = open(path, "w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._fh)
        self._csv.writerow(columns)

    def write(self, keys: list[list], feats: np.ndarray) -> None:
        self._csv.writerows([*k, *("" if not np.isfinite(v) else f"{v:.6g}" for v in row)] for k, row in zip(keys, feats))

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()


class _ParquetTable:
    """One row group per file: pyarrow (installed with audformat) keeps the table typed (float32 features)."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        # lazy: pyarrow is only needed for a Parquet table
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa, self._columns, self._n_keys = pa, columns, len(columns) - 88
        self._writer = None
        self._path, self._pq = path, pq

    def write(self, keys: list[list], feats: np.ndarray) -> None:
        if not keys:
            return
        pa = self._pa
        key_cols = list(zip(*keys))
        arrays = [pa.array(list(c)) for c in key_cols] + [pa.array(feats[:, j], pa.float32()) for j in range(feats.shape[1])]
        table = pa.Table.from_arrays(arrays, names=self._columns)
        if self._writer is None:
            self._writer = self._pq.ParquetWriter(str(self._path), table.schema)
        self._writer.write_table(table.cast(self._writer.schema))

    def close(self) -> None:
        if self._writer is None:
            self._writer = False
            self._pq.write_table(self._pa.table({c: [] for c in self._columns}), str(self._path))
        elif self._writer:
            self._writer.close()
            self._writer = False


def check_out(out: str | Path) -> None:
    """The output's folder must exist (before any work)."""
    if not Path(out).parent.is_dir():
        raise UserFacingError(f"{out}: its folder does not exist")
