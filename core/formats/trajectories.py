"""A model version's per-window trajectories of a corpus as one table (CSV, or Parquet for large corpora).

One row per window: the file (relative to the corpus folder), start, end, A/V/D on the chosen scale, the
MC-dropout uncertainty, the flag of a window that could not be predicted, and the trust indicator (above 1:
the window lies outside the model's training domain). Parquet keeps a 3-hour podcast's
~11k windows per file compact and typed; it needs pyarrow (installed with audformat).
"""

from __future__ import annotations

import csv
from pathlib import Path

from emotrace.core.errors import UserFacingError
from emotrace.core.store import Store
from emotrace.core.vocab import DIMENSIONS, rescale

# trust: the model's trust indicator (core/ser/trust.py), > 1 outside its training domain; empty without one
COLUMNS = ["file", "start", "end", *DIMENSIONS, "uncertainty", "flag", "trust"]


def trajectory_rows(store: Store, corpus: str, model_version_id: int | None = None, scale: str = "1-7") -> list[list]:
    corpus_row = store.corpora.corpus(corpus)
    if model_version_id is None:
        active = store.models.active_model()
        if active is None:
            raise UserFacingError("no active model: name a model version (trajectories come from `emotrace analyze`)")
        model_version_id = active.id
    root = Path(corpus_row.root) if corpus_row.root else None
    rows = []
    for f in store.corpora.files(corpus_row.id):
        path = Path(f.path)
        name = str(path.relative_to(root)) if root and path.is_relative_to(root) else path.name
        for p in store.predictions.window_predictions(f.id, model_version_id):
            rows.append([name, round(p.start, 3), round(p.end, 3), *(rescale(v, scale) for v in p.values),
                         p.uncertainty, p.flag, p.trust])
    return rows


def export_trajectories(store: Store, corpus: str, out: str | Path, model_version_id: int | None = None,
                        scale: str = "1-7") -> int:
    """CSV, or Parquet when `out` ends in .parquet; returns the number of windows written."""
    rows = trajectory_rows(store, corpus, model_version_id, scale)
    columns = COLUMNS if scale == "1-7" else [*COLUMNS[:3], *(f"{d}_{scale}" for d in DIMENSIONS), *COLUMNS[6:]]
    if str(out).lower().endswith(".parquet"):
        # lazy: pandas (and what it loads) only where a table is made
        import pandas as pd

        typed = {c: "float64" for c in [*columns[1:7], "trust"]}
        pd.DataFrame(rows, columns=columns).astype(typed).to_parquet(out, index=False)
    else:
        with open(out, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            writer.writerows(["" if x is None else x for x in row] for row in rows)
    return len(rows)
