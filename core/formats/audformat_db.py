"""audformat databases (audEERING's format for annotated audio): one table per dimension scheme with one column
per rater, and a `gold_standard` table from the computed consensus.

audformat's idea is the one EmoTrace's vocabulary follows: a scheme knows its scale (float, 1-7), a rater knows
whether it is a human, a machine or a vote. So on export people are `human`, a consensus is a `vote`, and on
import only `human` raters' columns become labels (a vote is recomputed from them, a machine is no rater).
The database refers to the audio by paths relative to the corpus folder; it does not copy audio.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

from core.formats.tiers import AnnotationFileError

try:
    from pandas import NA as _NA
except ImportError:  # pragma: no cover - pandas comes with audformat
    _NA = None
from core.store import LabelSpec, Store
from core.vocab import CONSENSUS_PREFIX, DIMENSIONS, SCALE, ConsensusMethod, RaterKind

GOLD = "gold_standard"
CATEGORY = "category"


def _relative(path: str, root: str | None) -> str:
    p = Path(path)
    return str(p.relative_to(root)) if root and p.is_relative_to(root) else p.name


def export_audformat(store: Store, corpus: str, folder: str | Path) -> int:
    """Write `db.yaml` and its tables (CSV) to `folder`; returns the number of values written."""
    import audformat
    import pandas as pd

    corpus_row = store.corpus(corpus)
    files = {f.id: f for f in store.files(corpus_row.id)}
    segments = [s for s in store.corpus_segments(corpus_row.id)]
    labels = store.current_labels(corpus_id=corpus_row.id, include_accepted=False, include_computed=True)
    kinds = store.rater_kinds()
    labelled = sorted({c.segment_id for c in labels})
    seg_by_id = {s.id: s for s in segments}
    order = {sid: i for i, sid in enumerate(labelled)}
    index = audformat.segmented_index(
        [_relative(files[seg_by_id[sid].file_id].path, corpus_row.root) for sid in labelled],
        [seg_by_id[sid].start for sid in labelled], [seg_by_id[sid].end for sid in labelled])
    db = audformat.Database(name=_db_name(corpus), source="EmoTrace", usage=audformat.define.Usage.UNRESTRICTED)
    for dim in DIMENSIONS:
        db.schemes[dim] = audformat.Scheme("float", minimum=SCALE.low, maximum=SCALE.high,
                                           description=f"{dim} on MSP-Podcast's 1-7 scale (4 neutral)")
    annotators = sorted({c.annotator for c in labels})
    for name in annotators:
        kind = RaterKind.COMPUTED if name.startswith(CONSENSUS_PREFIX) else kinds.get(name, RaterKind.HUMAN)
        db.raters[name] = audformat.Rater(audformat.define.RaterType.VOTE if kind is RaterKind.COMPUTED
                                          else audformat.define.RaterType.HUMAN)
    db.schemes[CATEGORY] = audformat.Scheme("str", description="MSP-Podcast's class letter (N, H, A, S, ...)")
    count = 0
    categories: dict[str, list] = {}
    for c in labels:
        if c.category and not c.annotator.startswith(CONSENSUS_PREFIX):
            categories.setdefault(c.annotator, [None] * len(labelled))[order[c.segment_id]] = c.category
    if categories:
        db[CATEGORY] = audformat.Table(index, description="category: one column per rater")
        for name, values in sorted(categories.items()):
            db[CATEGORY][name] = audformat.Column(scheme_id=CATEGORY, rater_id=name)
            db[CATEGORY][name].set(pd.Series(values, index=index, dtype="string"))
    columns: dict[tuple[str, str], list[float]] = {}
    for c in labels:
        for i, dim in enumerate(DIMENSIONS):
            if c.values[i] is not None:
                columns.setdefault((dim, c.annotator), [math.nan] * len(labelled))[order[c.segment_id]] = c.values[i]
    for dim in DIMENSIONS:
        db[dim] = audformat.Table(index, description=f"{dim}: one column per rater")
        for name in annotators:
            if (dim, name) in columns and not name.startswith(CONSENSUS_PREFIX):
                db[dim][name] = audformat.Column(scheme_id=dim, rater_id=name)
                db[dim][name].set(pd.Series(columns[(dim, name)], index=index, dtype="float64"))
                count += sum(not math.isnan(v) for v in columns[(dim, name)])
    gold = next((m.annotator for m in ConsensusMethod if any(k[1] == m.annotator for k in columns)), None)
    if gold is not None:
        db[GOLD] = audformat.Table(index, description=f"the consensus ({gold}) of the raters")
        for dim in DIMENSIONS:
            if (dim, gold) in columns:
                db[GOLD][dim] = audformat.Column(scheme_id=dim, rater_id=gold)
                db[GOLD][dim].set(pd.Series(columns[(dim, gold)], index=index, dtype="float64"))
                count += sum(not math.isnan(v) for v in columns[(dim, gold)])
    with warnings.catch_warnings():  # audformat's own pandas deprecations
        warnings.simplefilter("ignore")
        db.save(str(folder), storage_format="csv")
    return count


def _db_name(corpus: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in corpus) or "emotrace"


def import_audformat(store: Store, corpus: str, folder: str | Path) -> tuple[int, int]:
    """Human raters' columns of every table whose columns use an A/V/D scheme; one transaction."""
    import audformat

    folder = Path(folder)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            db = audformat.Database.load(str(folder), load_data=True)
    except Exception as exc:  # noqa: BLE001 - audformat raises many kinds on a broken database
        raise AnnotationFileError(f"{folder.name}: not a readable audformat database: {exc}") from exc
    corpus_row = store.corpus(corpus)
    files = store.files(corpus_row.id)
    by_rel = {_relative(f.path, corpus_row.root): f for f in files}
    by_name: dict[str, list] = {}
    for f in files:
        by_name.setdefault(Path(f.path).name, []).append(f)
    grouped: dict[tuple[int, float, float, str], list[float | None]] = {}
    humans = []
    for table_id in db.tables:
        table = db[table_id]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = table.get()
        for column_id, column in table.columns.items():
            if column.scheme_id not in (*DIMENSIONS, CATEGORY):
                continue
            rater = column.rater_id or column_id
            rater_type = db.raters[column.rater_id].type if column.rater_id in db.raters else "human"
            if rater_type != audformat.define.RaterType.HUMAN:
                continue  # a vote is recomputed from the raters; a machine is no rater
            humans.append(rater)
            dim_index = (*DIMENSIONS, CATEGORY).index(column.scheme_id)
            for key, value in df[column_id].items():
                if value is None or value is _NA or (isinstance(value, float) and math.isnan(value)):
                    continue
                file, start, end = (key if isinstance(key, tuple) else (key, None, None))
                where = f"{folder.name}: table {table_id!r}, column {column_id!r}, {file}"
                audio = by_rel.get(str(file)) or (by_name.get(Path(str(file)).name) or [None, None])[0]
                if audio is None:
                    raise AnnotationFileError(f"{where}: no such audio file in the corpus")
                if dim_index < 3 and not SCALE.contains(float(value)):
                    raise AnnotationFileError(f"{where}: {value} is off the 1-7 scale")
                s = 0.0 if start is None or start != start else start.total_seconds()
                e = float(audio.duration or 0.0) if end is None or end != end else end.total_seconds()
                grouped.setdefault((audio.id, round(s, 3), round(e, 3), rater), [None, None, None, None])[dim_index] = \
                    float(value) if dim_index < 3 else str(value)
    file_rows = {f.id: f for f in files}
    specs = [LabelSpec(fid, s, e, rater, tuple(v[:3]), v[3], file_rows[fid].speaker, file_rows[fid].split)
             for (fid, s, e, rater), v in sorted(grouped.items()) if v[:3] != [None, None, None]]
    store.register_raters(humans, RaterKind.HUMAN, source=f"audformat:{db.name}")
    return store.import_labels(specs)
