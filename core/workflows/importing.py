"""Import a folder of audio (and its labels) into a corpus. Re-import is idempotent by content fingerprint."""

from __future__ import annotations

import csv
import os
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
    SCALE,
    FileStatus,
    LabelOrigin,
    RaterKind,
    unscale,
)
from emotrace.core.workflows.tracking import finish_job, tracked_job

GENERIC_COLUMNS = ["file", "start", "end", *DIMENSIONS]
CONSENSUS = "consensus"  # the annotator of an imported labels_consensus.csv: MSP's own mean, a computed rater
MSP_WORKER_COLUMNS = ("WorkerID", "Worker", "RaterID", "Annotator")
"""MSP-Podcast's `labels_detailed.csv` names the rater of a row in one of these columns (releases differ)."""


class LabelFileError(ValueError):
    """A labels CSV that cannot be read at all (wrong columns, not a CSV)."""


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
    row_errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    replaced: list[tuple[str, int]] = field(default_factory=list)  # (path, labels kept on the earlier content)
    consensus_rows: int = 0  # computed consensus rows written from per-rater labels
    skipped: list[tuple[str, str]] = field(default_factory=list)  # folders and links the scan could not enter

    @property
    def problems(self) -> int:
        return len(self.failed) + len(self.row_errors) + len(self.skipped)

    def summary(self) -> str:
        lines = [
            f"corpus {self.corpus}: {self.scanned} audio files scanned, {self.added} added, "
            f"{self.relinked} relinked, {self.unchanged} already known, {len(self.failed)} failed",
            f"labels: {self.segments_added} segments and {self.labels_added} labels added, "
            f"{len(self.row_errors)} rows rejected"
            + (f"; {self.consensus_rows} consensus values computed from raters" if self.consensus_rows else ""),
        ]
        lines += [f"  CHANGED {path}: new audio at this path; the earlier content's {n} label rows and word "
                  f"corrections stay with it, marked replaced (relink the old audio to train on them again)"
                  for path, n in self.replaced]
        lines += [f"  SKIPPED {path}: {why}" for path, why in self.skipped]
        lines += [f"  FAILED {path}: {why}" for path, why in self.failed]
        lines += [f"  ROW {where}: {why}" for where, why in self.row_errors]
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
    corpus_row = store.corpora.corpus(corpus, create=True, root=str(folder))
    report = ImportReport(corpus=corpus)
    paths = scan(folder, report.skipped)
    report.scanned = len(paths)
    with tracked_job(store, "import", {"corpus": corpus, "folder": str(folder)}) as job:
        _import_audio(store, corpus_row.id, paths, report, progress, cancel, commit_every)
        labels_path = Path(labels) if labels else find_labels_csv(folder)
        if labels_path is not None:
            import_labels(store, corpus, labels_path, report=report, base=folder)
        detailed = find_detailed_csv(folder) if not labels else None
        if detailed is not None:
            import_labels(store, corpus, detailed, report=report, base=folder)
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
        kept = (store.labels.label_count(file_id=stale.id) + store.words.word_edit_count(stale.id)
                + len(store.traces.traced(stale.id)))
        # labels, word corrections and traces were made on the old audio: they stay with it, never moved
        batch.retire(stale, keep=bool(kept))
        if kept:
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


def _from_scale(value: str, name: str, scale: str) -> str:
    """A cell on an export scale, back on 1-7 (as text, so `_scale` checks it like any other)."""
    if scale == "1-7":
        return value
    try:
        return repr(unscale(float(value), scale))
    except (TypeError, ValueError):
        raise ValueError(f"{name} {value!r} is not a number") from None


def _scale(value: str, name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} {value!r} is not a number") from None
    return SCALE.check(name, x)


def _read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header and a stream of (line number, row keyed by stripped column names): a labels_detailed.csv of
    millions of rows is never held as dictionaries at once (`FileName , EmoClass` is a common hand-edited
    header). Line numbers are the file's own, blank lines included."""
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
                    if any(v.strip() for v in values):
                        yield reader.line_num, dict(zip(header, (v.strip() for v in values)))
            except (UnicodeDecodeError, csv.Error) as exc:
                raise LabelFileError(f"{path.name}:{reader.line_num + 1}: not a readable CSV: {exc}") from exc

    return header, rows()


def import_labels(
    store: Store, corpus: str, path: str | Path, *, report: ImportReport | None = None, base: Path | None = None
) -> ImportReport:
    """Read an MSP-Podcast `labels_consensus.csv`, its per-rater `labels_detailed.csv` (a worker column names the
    rater: each becomes a human rater of the store, and the corpus's mean and EWE consensus are computed from
    them), or a generic `file,start,end,arousal,valence,dominance` CSV.

    Rows are checked first and written together through `Store.labels.import_labels`; a row that names no stored file,
    lies outside its file or is off the scale is reported with its line and the rest goes on."""
    path = Path(path)
    corpus_row = store.corpora.corpus(corpus)
    report = report or ImportReport(corpus=corpus)
    try:
        interchange.checked_file(path)
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
    detailed = is_msp and worker is not None
    base = base or Path(corpus_row.root or path.parent)
    files = store.corpora.files(corpus_row.id)
    resolver = _Resolver(files, base)
    specs: list[LabelSpec] = []
    metadata: list[tuple[int, str | None, str | None, str | None]] = []
    seen: dict[tuple, tuple[str, tuple]] = {}
    for lineno, row in rows:
        where = f"{path.name}:{lineno}"
        try:
            if detailed:
                spec = _detailed_row(row, resolver, worker)
            else:
                spec = _msp_row(row, resolver) if is_msp else _generic_row(row, resolver, scale or "1-7")
        except ValueError as exc:
            report.row_errors.append((where, str(exc)))
            continue
        if spec is None:  # a computed consensus row of an export
            continue
        key = (spec.file_id, round(spec.start, 3), round(spec.end, 3), spec.annotator)
        if key in seen and seen[key][1] != (spec.values, spec.category):
            report.warnings.append((where, f"disagrees with {seen[key][0]} for the same segment and annotator; "
                                           "the later row is the current label, both stay in the history"))
        seen[key] = (where, (spec.values, spec.category))
        specs.append(spec)
        if is_msp and not detailed:
            metadata.append((spec.file_id, spec.speaker, spec.split, (row.get("Gender") or "").strip() or None))
    for file_id, speaker, split, gender in metadata:  # only once the whole file was read
        store.corpora.set_file_metadata(file_id, speaker=speaker, split=split, gender=gender)
    if detailed:
        store.raters.register_raters({s.annotator for s in specs}, RaterKind.HUMAN, source=path.name)
    elif is_msp or any(spec.annotator == CONSENSUS for spec in specs):
        # rows without a rater are a consensus someone computed: never a rater in agreement or a new consensus
        store.raters.register_rater(CONSENSUS, RaterKind.COMPUTED, source=path.name)
    segments, labels = store.labels.import_labels(specs)
    report.segments_added += segments
    report.labels_added += labels
    if detailed:
        report.consensus_rows += store.labels.compute_consensus(corpus_row.id, reweight=True)
    return report


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


def _msp_row(row: dict, resolve: _Resolver) -> LabelSpec:
    audio = resolve(row.get("FileName", ""))
    values = tuple(_scale(row.get(col, ""), col) for col in MSP_DIMENSION_COLUMNS.values())
    speaker = (row.get("SpkrID") or "").strip() or None
    split = (row.get("Split_Set") or "").strip() or None
    return LabelSpec(audio.id, 0.0, float(audio.duration or 0.0), CONSENSUS, values,
                     (row.get("EmoClass") or "").strip() or None, speaker, split)


def _detailed_row(row: dict, resolve: _Resolver, worker: str) -> LabelSpec:
    """One rater's judgement of one MSP file; a dimension the rater left empty stays open."""
    audio = resolve(row.get("FileName", ""))
    try:
        rater = interchange.rater_name(worker, row.get(worker))
    except AnnotationFileError as exc:
        raise ValueError(str(exc)) from None
    if interchange.is_computed(rater):
        raise ValueError(f"{worker} {rater!r} names a computed consensus, not a rater")
    values = tuple(None if not (row.get(col) or "").strip() else _scale(row[col], col)
                   for col in MSP_DIMENSION_COLUMNS.values())
    if values == (None, None, None):
        raise ValueError(f"{rater} gave none of {', '.join(MSP_DIMENSION_COLUMNS.values())}")
    return LabelSpec(audio.id, 0.0, float(audio.duration or 0.0), rater, values,
                     (row.get("EmoClass") or "").strip() or None, audio.speaker, audio.split)


def _column_scale(columns: list[str]) -> str | None:
    """The scale a generic CSV's A/V/D columns are on: `arousal` (1-7), `arousal_unit` (0..1) or
    `arousal_signed` (-1..1), as `emotrace export --scale` writes them."""
    for scale, suffix in (("1-7", ""), ("unit", "_unit"), ("signed", "_signed")):
        if all(c in columns for c in ("file", "start", "end", *(d + suffix for d in DIMENSIONS))):
            return scale
    return None


def _generic_row(row: dict, resolve: _Resolver, scale: str = "1-7") -> LabelSpec | None:
    """A row of the generic CSV, or of EmoTrace's own flat export (`annotators`, `label_origin`, `rater_kind`):
    one person's label, an accepted prediction (kept as accepted), or None for a consensus EmoTrace computes
    (`consensus:mean`, `consensus:ewe`: recomputed from the raters, never read back as one). Times, values and
    names go through the interchange model."""
    audio = resolve(row.get("file", ""))
    try:
        start, end = interchange.span("", row.get("start", ""), row.get("end", ""), audio.duration)
    except AnnotationFileError as exc:
        raise ValueError(str(exc).removeprefix(": ")) from None
    suffix = "" if scale == "1-7" else f"_{scale}"
    values = tuple(_scale(_from_scale(row.get(k + suffix, ""), k + suffix, scale), k) for k in DIMENSIONS)
    named = (row.get("annotator") or row.get("annotators") or "").strip()
    if "+" in named and not row.get("annotator"):
        raise ValueError(f"annotators {named!r}: a label combined from several raters is no one person's judgement")
    if interchange.is_computed(named):  # consensus:mean/ewe: recomputed; an imported `consensus` is data, kept
        return None
    try:
        annotator = interchange.rater_name("", named) if named else CONSENSUS
    except AnnotationFileError as exc:
        raise ValueError(str(exc).removeprefix(": ")) from None
    accepted = (row.get("label_origin") or "").strip() == LabelOrigin.ACCEPTED.value
    return LabelSpec(audio.id, start, end, annotator, values, (row.get("category") or "").strip() or None,
                     audio.speaker, audio.split, LabelOrigin.ACCEPTED if accepted else LabelOrigin.IMPORTED)
