"""Import a folder of audio (and its labels) into a corpus. Re-import is idempotent by content fingerprint."""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from emotrace.core.audio.decode import AUDIO_EXTENSIONS, AudioError, fingerprint, validate
from emotrace.core.audio.envelope import EnvelopeBuilder
from emotrace.core.formats import interchange
from emotrace.core.formats.interchange import AnnotationFileError
from emotrace.core.progress import CancelFn, ProgressFn, check_cancel, no_progress
from emotrace.core.store import LabelSpec, Store
from emotrace.core.store.corpora import AudioImport
from emotrace.core.vocab import (
    DIMENSIONS,
    MSP_DIMENSION_COLUMNS,
    MSP_HEADER,
    FileStatus,
    LabelOrigin,
    RaterKind,
)
from emotrace.core.workflows.tracking import finish_job, tracked_job

GENERIC_COLUMNS = ["file", "start", "end", *DIMENSIONS]
CONSENSUS = "consensus"  # the annotator of an imported labels_consensus.csv: MSP's own mean, a computed rater
MSP_WORKER_COLUMNS = ("WorkerID", "Worker", "RaterID", "Annotator")
"""MSP-Podcast's `labels_detailed.csv` names the rater of a row in one of these columns (releases differ)."""


class LabelFileError(AnnotationFileError):
    """A labels CSV that is not imported at all: unreadable, wrong columns, or a row that breaks the interchange
    model (its one line names the file and the line). Nothing of it is written."""


@dataclass(frozen=True, slots=True)  # a labels_detailed.csv holds millions of them until written
class LabelRow:
    """One checked row of a label CSV, before it is matched to a stored file (`start`/`end` None: the whole file,
    as MSP-Podcast labels one file per turn)."""

    line: int
    file: str
    start: float | None
    end: float | None
    annotator: str
    values: tuple[float | None, float | None, float | None]
    category: str | None
    origin: LabelOrigin = LabelOrigin.IMPORTED
    speaker: str | None = None
    split: str | None = None
    gender: str | None = None
    computed: bool = False  # the table names this annotator a computed rater (rater_kind `computed`)


@dataclass
class LabelTable:
    """A label CSV read whole and checked row by row (`read_label_table`): MSP's consensus file, its per-rater
    detailed file, or the generic/flat CSV. Holding it means no row broke a rule that needs no audio."""

    path: Path
    kind: str  # "msp", "detailed" or "generic"
    rows: list[LabelRow]
    consensus: bool = False  # it held rows of the computed consensus: recomputed from its raters once written


@dataclass(frozen=True)
class HumanWork:
    """What people did on a file's audio, counted when new audio takes its path: any of it keeps the earlier row."""

    labels: int = 0
    word_corrections: int = 0
    traces: int = 0
    speaker_corrections: int = 0  # manual turn revisions (rename, reassign, split, undo)
    assignments: int = 0  # annotation-job assignments of its segments

    @property
    def total(self) -> int:
        return self.labels + self.word_corrections + self.traces + self.speaker_corrections + self.assignments

    def __str__(self) -> str:
        parts = [(self.labels, "label rows"), (self.word_corrections, "word corrections"), (self.traces, "traces"),
                 (self.speaker_corrections, "speaker corrections"), (self.assignments, "job assignments")]
        return ", ".join(f"{n} {what}" for n, what in parts if n) or "nothing"


@dataclass
class ImportReport:
    corpus: str
    scanned: int = 0
    added: int = 0
    relinked: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    segments_added: int = 0
    labels_added: int = 0
    row_errors: list[tuple[str, str]] = field(default_factory=list)  # rows for audio the corpus lacks: left out
    warnings: list[tuple[str, str]] = field(default_factory=list)
    replaced: list[tuple[str, HumanWork]] = field(default_factory=list)  # (path, work kept on the earlier content)
    consensus_rows: int = 0  # computed consensus rows written from per-rater labels
    skipped: list[tuple[str, str]] = field(default_factory=list)  # folders and links the scan could not enter

    @property
    def problems(self) -> int:
        return len(self.failed) + len(self.row_errors) + len(self.skipped)

    def summary(self) -> str:
        lines = [
            f"corpus {self.corpus}: {self.scanned} audio files scanned, {self.added} added, "
            f"{self.relinked} relinked, {self.unchanged} already known, {len(self.failed)} failed",
            f"labels: {self.segments_added} segments and {self.labels_added} labels added"
            + (f", {len(self.row_errors)} rows left out (their audio is not in the corpus)" if self.row_errors else "")
            + (f"; {self.consensus_rows} consensus values computed from raters" if self.consensus_rows else ""),
        ]
        lines += [f"  CHANGED {path}: new audio at this path; the earlier content's {kept} stay with it, marked "
                  f"replaced, never deleted (relink the old audio to use them again)" for path, kept in self.replaced]
        lines += [f"  SKIPPED {path}: {why}" for path, why in self.skipped]
        lines += [f"  FAILED {path}: {why}" for path, why in self.failed]
        if self.row_errors:  # one line, however many: MSP's labels of a subset of its audio are 100,000s of rows
            where, why = self.row_errors[0]
            lines.append(f"  SKIPPED {len(self.row_errors)} rows name audio that is not a usable file of this corpus "
                         f"(first: {where}: {why})")
        lines += [f"  WARNING {where}: {why}" for where, why in self.warnings]
        return "\n".join(lines)


def scan(folder: Path, problems: list[tuple[str, str]] | None = None) -> list[Path]:
    """Audio files under `folder` (symlinked folders are not followed). What cannot be looked at, a folder
    without read permission or an audio name that is a link to itself or to nothing, goes to `problems`
    instead of vanishing from the count."""
    problems = [] if problems is None else problems

    def unreadable(exc: OSError) -> None:
        problems.append((str(exc.filename or folder), f"cannot read this folder: {exc.strerror or exc}"))

    found = []
    for root, _dirs, names in os.walk(folder, onerror=unreadable):
        for name in names:
            path = Path(root) / name
            if path.suffix.lower() not in AUDIO_EXTENSIONS:
                continue
            if path.is_file():
                found.append(path)
            elif path.is_symlink():
                problems.append((str(path), "a link that points to itself or to nothing; not imported"))
    return sorted(found)


def find_labels_csv(folder: Path) -> Path | None:
    """MSP-Podcast keeps `labels_consensus.csv` at the top or in `Labels/`; a generic `labels.csv` also counts."""
    for candidate in (folder / "labels_consensus.csv", folder / "Labels" / "labels_consensus.csv",
                      folder / "labels.csv"):
        if candidate.is_file():
            return candidate
    return None


def find_detailed_csv(folder: Path) -> Path | None:
    """MSP-Podcast's per-rater `labels_detailed.csv`, beside the consensus file."""
    for candidate in (folder / "labels_detailed.csv", folder / "Labels" / "labels_detailed.csv"):
        if candidate.is_file():
            return candidate
    return None


def import_folder(
    store: Store,
    folder: str | Path,
    corpus: str,
    *,
    labels: str | Path | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelFn | None = None,
    commit_every: int = 50,
) -> ImportReport:
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"not a folder: {folder}")
    # the label files are read and checked whole before anything is written: a rejected one leaves the store as
    # it was (no audio walked, no job row); only a rule that needs the audio (an end past a new file's end) is
    # checked after the walk, and then no label of either file is written
    labels_path = Path(labels) if labels else find_labels_csv(folder)
    detailed = find_detailed_csv(folder) if not labels else None
    tables = [read_label_table(p) for p in (labels_path, detailed) if p is not None]
    if tables and corpus in {c.name for c in store.corpora.corpora()}:
        for table in tables:  # the audio already stored: its rows' times are checked before the walk too
            _match_rows(store, corpus, table, ImportReport(corpus=corpus), folder)
    corpus_row = store.corpora.corpus(corpus, create=True, root=str(folder))
    report = ImportReport(corpus=corpus)
    paths = scan(folder, report.skipped)
    report.scanned = len(paths)
    with tracked_job(store, "import", {"corpus": corpus, "folder": str(folder)}) as job:
        _import_audio(store, corpus_row.id, paths, report, progress, cancel, commit_every)
        pending = [_match_rows(store, corpus, table, report, folder) for table in tables]
        for batch in pending:
            _write_labels(store, batch, report)
        finish_job(store, job, report.summary())
    store.emit("corpus_changed", corpus_id=corpus_row.id)
    return report


def _import_audio(store: Store, corpus_id: int, paths: list[Path], report: ImportReport, progress: ProgressFn,
                  cancel: CancelFn | None, commit_every: int) -> None:
    # one session for the whole walk, committed every `commit_every` files: an interrupted import keeps what it did
    # and the next run skips it
    with store.corpora.audio_import(corpus_id, commit_every=commit_every) as batch:
        for i, path in enumerate(paths):
            check_cancel(cancel)
            progress(i, len(paths), path.name)
            _import_one(store, batch, path, report)
            batch.step()
    progress(len(paths), len(paths), "audio done")


def _import_one(store: Store, batch: AudioImport, path: Path, report: ImportReport) -> None:
    str_path = str(path)
    try:
        digest = fingerprint(path)
    except OSError as exc:
        report.failed.append((str_path, f"cannot read: {exc.strerror or exc}"))
        return
    existing = batch.with_content(digest)
    if existing is not None:
        # moved: its old path is gone or holds other audio now (a renamed file whose old name got a new take)
        moved = existing.path != str_path and not _holds(existing.path, digest)
        if moved or existing.status == FileStatus.REPLACED:  # the audio is back: its labels are usable again
            batch.relink(existing, str_path)
            report.relinked += 1
        else:
            report.unchanged += 1
            if existing.status == FileStatus.ERROR:
                report.failed.append((str_path, existing.error or "failed earlier"))
        return
    stale = batch.at_path(str_path)  # same path, new content: the file was replaced
    if stale is not None:
        kept = HumanWork(store.labels.label_count(file_id=stale.id), store.words.word_edit_count(stale.id),
                         len(store.traces.traced(stale.id)), store.speakers.manual_revisions(stale.id),
                         store.assignments.file_assignment_count(stale.id))
        # human work was done on the old audio: it stays with it, never moved, never deleted
        batch.retire(stale, keep=bool(kept.total))
        if kept.total:
            report.replaced.append((str_path, kept))
    size = path.stat().st_size
    try:
        waveform = EnvelopeBuilder()
        info, decoded = validate(path, waveform.add)
        waveform.save(digest)  # the app's first look at the file needs no second decode
    except AudioError as exc:
        batch.add(str_path, digest, size, error=str(exc))
        report.failed.append((str_path, str(exc)))
    else:
        batch.add(str_path, digest, size, sample_rate=info.sample_rate, channels=info.channels, duration=decoded)
    report.added += 1


def _holds(path: str, digest: str) -> bool:
    """Whether `path` still holds the audio `digest` names (a copy beside it is a duplicate, not a move)."""
    try:
        return fingerprint(path) == digest
    except OSError:
        return False


def _read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header and a stream of (line number, row keyed by stripped column names): a labels_detailed.csv of
    millions of rows is never held as dictionaries at once (`FileName , EmoClass` is a common hand-edited
    header). Line numbers are the file's own, blank lines included; a row with fewer cells than the header is
    refused (it used to end in `KeyError: 'end'`)."""
    fh = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 - closed by the row stream below
    reader = csv.reader(fh)
    try:
        header = [c.strip() for c in next(reader, [])]
    except (UnicodeDecodeError, csv.Error) as exc:
        fh.close()
        raise LabelFileError(f"{path.name} is not a readable CSV: {exc}") from exc

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        with fh:
            try:
                for values in reader:
                    if not any(v.strip() for v in values):
                        continue
                    if len(values) < len(header):
                        raise LabelFileError(f"{path.name}:{reader.line_num}: {len(values)} cells, the header names "
                                             f"{len(header)}")
                    yield reader.line_num, dict(zip(header, (v.strip() for v in values)))
            except (UnicodeDecodeError, csv.Error) as exc:
                raise LabelFileError(f"{path.name}:{reader.line_num + 1}: not a readable CSV: {exc}") from exc

    return header, rows()


def read_label_table(path: str | Path) -> LabelTable:
    """Read an MSP-Podcast `labels_consensus.csv`, its per-rater `labels_detailed.csv` (a worker column names the
    rater) or a generic `file,start,end,arousal,valence,dominance` CSV (EmoTrace's flat export included), and
    check every row through the interchange model (times, values on the scale, rater names). The first bad row
    rejects the file: a LabelFileError naming the file and the line. Touches no store."""
    path = Path(path)
    try:
        interchange.checked_file(path)
    except LabelFileError:
        raise
    except AnnotationFileError as exc:
        raise LabelFileError(str(exc)) from None
    columns, rows = _read_csv(path)
    worker = next((c for c in MSP_WORKER_COLUMNS if c in columns), None)
    is_msp = "FileName" in columns and all(c in columns for c in MSP_DIMENSION_COLUMNS.values())
    scale = _column_scale(columns)
    if not is_msp and scale is None:
        raise LabelFileError(
            f"{path.name}: unknown columns {columns}; expected MSP-Podcast {','.join(MSP_HEADER)} "
            f"(with {' or '.join(MSP_WORKER_COLUMNS)} for labels_detailed.csv) "
            f"or {','.join(GENERIC_COLUMNS)}[,category,annotator]"
        )
    kind = ("detailed" if worker is not None else "msp") if is_msp else "generic"
    table = LabelTable(path, kind, [])
    for lineno, row in rows:
        where = f"{path.name}:{lineno}"
        try:
            if kind == "detailed":
                parsed = _detailed_row(where, lineno, row, worker)
            elif kind == "msp":
                parsed = _msp_row(where, lineno, row)
            else:
                parsed = _generic_row(where, lineno, row, scale or "1-7")
        except AnnotationFileError as exc:
            raise LabelFileError(str(exc)) from None
        if parsed is None:  # a computed consensus row of an export: recomputed from the raters once written
            table.consensus = True
        else:
            table.rows.append(parsed)
    return table


def import_labels(
    store: Store, corpus: str, path: str | Path | LabelTable, *, report: ImportReport | None = None,
    base: Path | None = None
) -> ImportReport:
    """Import one label CSV (see `read_label_table`) into a corpus: each of its people becomes a rater (a detailed
    file's workers are human raters, and the corpus's mean and EWE consensus are computed from them; an MSP
    consensus file's values are the computed rater `consensus`).

    The whole file is checked before anything is written, then written together through
    `Store.labels.import_labels`. A bad row rejects the file (LabelFileError, nothing written); a row that names
    audio the corpus does not hold (or holds unusable) is left out and counted in `report.row_errors`, since a
    label file may cover more audio than was imported (MSP's labels for a subset of its files)."""
    table = path if isinstance(path, LabelTable) else read_label_table(path)
    report = report or ImportReport(corpus=corpus)
    _write_labels(store, _match_rows(store, corpus, table, report, base), report)
    return report


@dataclass
class _Matched:
    table: LabelTable
    corpus_id: int
    specs: list[LabelSpec]
    metadata: list[tuple[int, str | None, str | None, str | None]]


def _match_rows(store: Store, corpus: str, table: LabelTable, report: ImportReport, base: Path | None) -> _Matched:
    """Each row's stored file and its times checked against that file's duration (the rules that need the audio);
    writes nothing. A time past the audio rejects the file, like any other bad row."""
    corpus_row = store.corpora.corpus(corpus)
    resolve = _Resolver(store.corpora.files(corpus_row.id), base or Path(corpus_row.root or table.path.parent))
    matched = _Matched(table, corpus_row.id, [], [])
    seen: dict[tuple, tuple[str, tuple]] = {}
    for row in table.rows:
        where = f"{table.path.name}:{row.line}"
        try:
            audio = resolve(row.file)
        except ValueError as exc:
            report.row_errors.append((where, str(exc)))
            continue
        duration = float(audio.duration or 0.0)
        if row.start is None:
            start, end = 0.0, duration
        else:
            try:
                start, end = interchange.span(where, row.start, row.end, audio.duration)
            except AnnotationFileError as exc:
                raise LabelFileError(str(exc)) from None
        msp = table.kind == "msp"
        spec = LabelSpec(audio.id, start, end, row.annotator, row.values, row.category,
                         row.speaker if msp else audio.speaker, row.split if msp else audio.split, row.origin)
        key = (spec.file_id, round(spec.start, 3), round(spec.end, 3), spec.annotator)
        if key in seen and seen[key][1] != (spec.values, spec.category):
            report.warnings.append((where, f"disagrees with {seen[key][0]} for the same segment and annotator; "
                                           "the later row is the current label, both stay in the history"))
        seen[key] = (where, (spec.values, spec.category))
        matched.specs.append(spec)
        if msp:
            matched.metadata.append((audio.id, row.speaker, row.split, row.gender))
    return matched


def _write_labels(store: Store, matched: _Matched, report: ImportReport) -> None:
    """Write what `_match_rows` checked: file metadata, the raters and their kinds, then the labels in one
    commit (Store.labels.import_labels), and a detailed file's consensus."""
    table, specs = matched.table, matched.specs
    for file_id, speaker, split, gender in matched.metadata:
        store.corpora.set_file_metadata(file_id, speaker=speaker, split=split, gender=gender)
    if table.kind == "detailed":
        store.raters.register_raters({s.annotator for s in specs}, RaterKind.HUMAN, source=table.path.name)
    else:
        # rows without a rater are a consensus someone computed (as are raters a per-rater table calls computed):
        # never a rater in agreement or a new consensus
        computed = {row.annotator for row in table.rows if row.computed}
        if table.kind == "msp" or any(spec.annotator == CONSENSUS for spec in specs):
            computed.add(CONSENSUS)
        if computed:
            store.raters.register_raters(computed, RaterKind.COMPUTED, source=table.path.name)
    segments, labels = store.labels.import_labels(specs)
    report.segments_added += segments
    report.labels_added += labels
    if table.kind == "detailed" or (table.consensus and specs):
        report.consensus_rows += store.labels.compute_consensus(matched.corpus_id, reweight=True)


class _Resolver:
    """A label row's file name to a stored file: as a path (absolute, under the corpus folder or its `Audios/`),
    else, for a bare name that is nowhere on disk, the one stored file of that name. A path that exists but is
    not a stored file (a copy of another file's audio, say) is never matched to a namesake elsewhere."""

    def __init__(self, files: list, base: Path) -> None:
        self.base = base
        self.by_path = {Path(f.path).resolve(): f for f in files}
        self.by_name: dict[str, list] = {}
        self._memo: dict[str, object] = {}
        for f in files:
            self.by_name.setdefault(Path(f.path).name, []).append(f)

    def __call__(self, name: str):
        """The stored file (memoised: a detailed file names each audio file once per rater)."""
        name = (name or "").strip()
        if name not in self._memo:
            try:
                self._memo[name] = self._resolve(name)
            except ValueError as exc:
                self._memo[name] = exc
        hit = self._memo[name]
        if isinstance(hit, ValueError):
            raise hit
        return hit

    def _resolve(self, name: str):
        if not name:
            raise ValueError("empty file name")
        candidates = [Path(name), self.base / name, self.base / "Audios" / name]
        hit = next((self.by_path[c.resolve()] for c in candidates if c.resolve() in self.by_path), None)
        if hit is None:
            on_disk = next((c for c in candidates if c.exists()), None)
            if on_disk is not None:
                raise ValueError(f"{name}: that file is not a file of this corpus (a copy of another file's audio "
                                 "is stored once, under its first path); the row was not applied")
            matches = self.by_name.get(Path(name).name, []) if Path(name).name == name else []
            if len(matches) != 1:
                raise ValueError(f"{name}: no such audio file in the corpus" if not matches else f"{name}: ambiguous")
            hit = matches[0]
        if hit.status != FileStatus.OK:
            raise ValueError(f"{name}: the audio file is not usable ({hit.status}: {hit.error or 'replaced'})")
        return hit


def _file_cell(where: str, row: dict, column: str) -> str:
    name = (row.get(column) or "").strip()
    if not name:
        raise AnnotationFileError(f"{where}: no audio file named (column {column})")
    return sys.intern(name)  # one string per file, not one per row: a detailed file names each file per rater


def _msp_row(where: str, line: int, row: dict) -> LabelRow:
    """A row of MSP's consensus file: the whole audio file, rater `consensus` (a computed rater)."""
    values = tuple(interchange.rating(where, row.get(col, ""), col) for col in MSP_DIMENSION_COLUMNS.values())
    return LabelRow(line, _file_cell(where, row, "FileName"), None, None, CONSENSUS, values,
                    (row.get("EmoClass") or "").strip() or None, LabelOrigin.IMPORTED,
                    (row.get("SpkrID") or "").strip() or None, (row.get("Split_Set") or "").strip() or None,
                    (row.get("Gender") or "").strip() or None)


def _detailed_row(where: str, line: int, row: dict, worker: str) -> LabelRow:
    """One rater's judgement of one MSP file; a dimension the rater left empty stays open."""
    rater = sys.intern(interchange.rater_name(f"{where}: {worker}", row.get(worker)))
    if interchange.is_computed(rater):
        raise AnnotationFileError(f"{where}: {worker} {rater!r} names a computed consensus, not a rater")
    values = tuple(None if not (row.get(col) or "").strip() else interchange.rating(where, row[col], col)
                   for col in MSP_DIMENSION_COLUMNS.values())
    if values == (None, None, None):
        raise AnnotationFileError(f"{where}: {rater} gave none of {', '.join(MSP_DIMENSION_COLUMNS.values())}")
    return LabelRow(line, _file_cell(where, row, "FileName"), None, None, rater, values,
                    (row.get("EmoClass") or "").strip() or None)


def _column_scale(columns: list[str]) -> str | None:
    """The scale a generic CSV's A/V/D columns are on: `arousal` (1-7), `arousal_unit` (0..1) or
    `arousal_signed` (-1..1), as `emotrace export --scale` writes them."""
    for scale, suffix in (("1-7", ""), ("unit", "_unit"), ("signed", "_signed")):
        if all(c in columns for c in ("file", "start", "end", *(d + suffix for d in DIMENSIONS))):
            return scale
    return None


def _generic_row(where: str, line: int, row: dict, scale: str = "1-7") -> LabelRow | None:
    """A row of the generic CSV, or of EmoTrace's own flat export (`annotators`, `label_origin`, `rater_kind`):
    one person's label, an accepted prediction (kept as accepted), or None for a consensus EmoTrace computes
    (`consensus:mean`, `consensus:ewe`: recomputed from the raters, never read back as one). Times, values and
    names go through the interchange model."""
    file = _file_cell(where, row, "file")
    start, end = interchange.span(where, row.get("start", ""), row.get("end", ""), None)
    suffix = "" if scale == "1-7" else f"_{scale}"
    values = tuple(None if not row.get(k + suffix, "").strip() else
                   interchange.rating(where, row[k + suffix], k + suffix, scale) for k in DIMENSIONS)
    if values == (None, None, None):
        raise AnnotationFileError(f"{where}: none of {', '.join(d + suffix for d in DIMENSIONS)} is given")
    named = (row.get("annotator") or row.get("annotators") or "").strip()
    if "+" in named and not row.get("annotator"):
        raise AnnotationFileError(f"{where}: annotators {named!r}: a label combined from several raters is no one "
                                  "person's judgement (export with --per-rater to keep each rater)")
    if interchange.is_computed(named):  # consensus:mean/ewe: recomputed; an imported `consensus` is data, kept
        return None
    annotator = sys.intern(interchange.rater_name(where, named)) if named else CONSENSUS
    origin = {LabelOrigin.ACCEPTED.value: LabelOrigin.ACCEPTED, LabelOrigin.TRACE.value: LabelOrigin.TRACE}.get(
        (row.get("label_origin") or "").strip(), LabelOrigin.IMPORTED)  # accepted and trace means stay what they are
    computed = (row.get("rater_kind") or "").strip() == RaterKind.COMPUTED.value
    return LabelRow(line, file, start, end, annotator, values, (row.get("category") or "").strip() or None,
                    origin, computed=computed)
