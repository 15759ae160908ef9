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
from collections.abc import Callable
from pathlib import Path

import yaml

from emotrace.core.formats.interchange import AnnotationFileError, checked_file, is_computed, rater_name, rating, span
from emotrace.core.store import LabelSpec, Store
from emotrace.core.vocab import CONSENSUS_PREFIX, DIMENSIONS, SCALE, ConsensusMethod, RaterKind

GOLD = "gold_standard"
CATEGORY = "category"


def _relative(path: str, root: str | None) -> str:
    p = Path(path)
    return str(p.relative_to(root)) if root and p.is_relative_to(root) else p.name


def export_audformat(store: Store, corpus: str, folder: str | Path) -> int:
    """Write `db.yaml` and its tables (CSV) to `folder`; returns the number of values written."""
    # lazy: audformat and pandas load for audformat databases only
    import audformat
    import pandas as pd

    corpus_row = store.corpora.corpus(corpus)
    files = {f.id: f for f in store.corpora.files(corpus_row.id)}
    segments = [s for s in store.segments.corpus_segments(corpus_row.id)]
    labels = store.labels.current_labels(corpus_id=corpus_row.id, include_accepted=False, include_computed=True)
    kinds = store.raters.rater_kinds()
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


MAX_HEADER_BYTES = 4 * 1024 * 1024  # a db.yaml is a few KB; a bigger one is not a header
PICKLE_SUFFIX = ".pkl"


def _read_header(folder: Path) -> dict:
    """`db.yaml` parsed with PyYAML's safe loader: plain mappings, lists and scalars only.

    audformat's own `Database.load` parses the header with PyYAML's full loader, where a `!!python/...` tag
    constructs any Python object (and so runs code), and unpickles `db.<table>.pkl`; neither is ever called here.
    """
    path = folder / "db.yaml"
    if not path.is_file():
        raise AnnotationFileError(f"{folder.name}: not an audformat database (no db.yaml)")
    checked_file(path)
    if path.stat().st_size > MAX_HEADER_BYTES:
        raise AnnotationFileError(f"{path}: {path.stat().st_size} bytes, more than an audformat header "
                                  f"({MAX_HEADER_BYTES} bytes at most)")
    try:
        header = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.constructor.ConstructorError as exc:
        mark = f" (line {exc.problem_mark.line + 1})" if exc.problem_mark else ""
        raise AnnotationFileError(f"{path}: refused: a YAML tag that would construct a Python object{mark}; "
                                  "EmoTrace reads plain YAML only") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AnnotationFileError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from exc
    if not isinstance(header, dict) or not isinstance(header.get("tables") or {}, dict):
        raise AnnotationFileError(f"{path}: not an audformat header (no mapping of tables)")
    return header


def _read_table(folder: Path, table_id: str, levels: list[str]):
    """A table's rows from its CSV or Parquet file, every cell as text; a pickled table is never read."""
    # lazy: pandas (and what it loads) only where a table is made
    import pandas as pd

    if not table_id or any(ch in table_id for ch in "/\\\0") or table_id.startswith("."):
        raise AnnotationFileError(f"{folder / 'db.yaml'}: table id {table_id!r} is not a plain name")
    base = folder / f"db.{table_id}"
    csv_file, parquet_file = base.with_name(base.name + ".csv"), base.with_name(base.name + ".parquet")
    if parquet_file.is_file():
        checked_file(parquet_file)
        # lazy: pyarrow for Parquet tables only
        import pyarrow.parquet as pq  # pyarrow >= 14.0.1 never unpickles extension types (CVE-2023-47248)

        df = pq.read_table(parquet_file).to_pandas().reset_index()
        df = df.astype(object).where(df.notna(), None)
        source = parquet_file
    elif csv_file.is_file():
        checked_file(csv_file)
        df = pd.read_csv(csv_file, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
        df = df.astype(object).where(df.notna(), None)
        source = csv_file
    elif base.with_name(base.name + PICKLE_SUFFIX).is_file():
        raise AnnotationFileError(f"{base.with_name(base.name + PICKLE_SUFFIX)}: refused: a pickled table can run "
                                  "code when read; save the database with storage_format='csv' or 'parquet'")
    else:
        raise AnnotationFileError(f"{folder / 'db.yaml'}: table {table_id!r} has no db.{table_id}.csv or .parquet")
    missing = [c for c in levels if c not in df.columns]
    if missing:
        raise AnnotationFileError(f"{source}: no index column {', '.join(missing)}")
    return df, source


def _seconds(text: object, where: str) -> float | None:
    # lazy: pandas (and what it loads) only where a table is made
    import pandas as pd

    if text is None:
        return None
    if isinstance(text, pd.Timedelta):
        return text.total_seconds()
    try:
        return pd.to_timedelta(str(text)).total_seconds()
    except (ValueError, OverflowError) as exc:
        raise AnnotationFileError(f"{where}: {text!r} is not a time") from exc


def import_audformat(store: Store, corpus: str, folder: str | Path) -> tuple[int, int]:
    """Human raters' columns of every table whose columns use an A/V/D scheme; one transaction.

    Read with a safe YAML loader and plain CSV/Parquet readers (`_read_header`, `_read_table`), never with
    audformat's loader."""
    return check_audformat(store, corpus, folder)()


def check_audformat(store: Store, corpus: str, folder: str | Path) -> Callable[[], tuple[int, int]]:
    """Every table read and every value checked (nothing written); returns the call that writes them:
    (segments, labels)."""
    folder = Path(folder)
    corpus_row = store.corpora.corpus(corpus)
    header = _read_header(folder)
    raters = header.get("raters") or {}
    if not isinstance(raters, dict):
        raise AnnotationFileError(f"{folder / 'db.yaml'}: raters is not a mapping")
    files = store.corpora.files(corpus_row.id)
    by_rel = {_relative(f.path, corpus_row.root): f for f in files}
    by_name: dict[str, list] = {}
    for f in files:
        by_name.setdefault(Path(f.path).name, []).append(f)
    grouped: dict[tuple[int, float, float, str], list[float | None]] = {}
    humans = []
    for table_id, table in (header.get("tables") or {}).items():
        table_id = str(table_id)
        columns = (table or {}).get("columns") if isinstance(table, dict) else None
        if columns is None:
            continue  # a table without columns holds no ratings
        if not isinstance(columns, dict):
            raise AnnotationFileError(f"{folder / 'db.yaml'}: table {table_id!r} has no mapping of columns")
        wanted = {}
        for column_id, column in columns.items():
            column = column if isinstance(column, dict) else {}
            if column.get("scheme_id") not in (*DIMENSIONS, CATEGORY):
                continue
            rater = rater_name(f"{folder / 'db.yaml'}: table {table_id!r}, column {column_id!r}",
                               column.get("rater_id") or column_id)
            entry = raters.get(column.get("rater_id"))
            rater_type = entry.get("type", "human") if isinstance(entry, dict) else "human"
            if rater_type != "human" or is_computed(rater):
                continue  # a vote is recomputed from the raters; a machine is no rater
            wanted[str(column_id)] = (rater, (*DIMENSIONS, CATEGORY).index(column["scheme_id"]))
        if not wanted:
            continue
        segmented = table.get("type", "filewise") == "segmented"
        levels = ["file", "start", "end"] if segmented else ["file"]
        df, source = _read_table(folder, table_id, levels)
        for column_id, (rater, dim_index) in wanted.items():
            if column_id not in df.columns:
                raise AnnotationFileError(f"{source}: no column {column_id!r}")
            humans.append(rater)
            for row, (file, value) in enumerate(zip(df["file"], df[column_id], strict=True), 2):
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    continue
                where = f"{source.name}: row {row}, column {column_id!r}, {file}"
                audio = by_rel.get(str(file)) or (by_name.get(Path(str(file)).name) or [None, None])[0]
                if audio is None:
                    raise AnnotationFileError(f"{where}: no such audio file in the corpus")
                number = rating(where, value, (*DIMENSIONS, CATEGORY)[dim_index]) if dim_index < 3 else None
                start = _seconds(df["start"].iat[row - 2], where) if segmented else None
                end = _seconds(df["end"].iat[row - 2], where) if segmented else None
                s, e = span(where, 0.0 if start is None else start,
                            float(audio.duration or 0.0) if end is None else end, audio.duration)
                grouped.setdefault((audio.id, round(s, 3), round(e, 3), rater), [None, None, None, None])[dim_index] = \
                    number if dim_index < 3 else str(value)
    file_rows = {f.id: f for f in files}
    specs = [LabelSpec(fid, s, e, rater, tuple(v[:3]), v[3], file_rows[fid].speaker, file_rows[fid].split)
             for (fid, s, e, rater), v in sorted(grouped.items()) if v[:3] != [None, None, None]]

    def write() -> tuple[int, int]:
        store.raters.register_raters(humans, RaterKind.HUMAN, source=f"audformat:{header.get('name', folder.name)}")
        return store.labels.import_labels(specs)

    return write
