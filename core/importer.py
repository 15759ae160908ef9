"""Import a folder of audio (and its labels) into a corpus. Re-import is idempotent by content fingerprint."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from core.audio import AUDIO_EXTENSIONS, AudioError, fingerprint, validate
from core.envelope import EnvelopeBuilder
from core.jobs import tracked_job
from core.progress import CancelFn, ProgressFn, check_cancel, no_progress
from core.store import AudioFile, Label, Segment, Store

MSP_COLUMNS = ["FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set"]
GENERIC_COLUMNS = ["file", "start", "end", "arousal", "valence", "dominance"]
CONSENSUS = "consensus"


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

    @property
    def problems(self) -> int:
        return len(self.failed) + len(self.row_errors)

    def summary(self) -> str:
        lines = [
            f"corpus {self.corpus}: {self.scanned} audio files scanned, {self.added} added, "
            f"{self.relinked} relinked, {self.unchanged} already known, {len(self.failed)} failed",
            f"labels: {self.segments_added} segments and {self.labels_added} labels added, "
            f"{len(self.row_errors)} rows rejected",
        ]
        lines += [f"  FAILED {path}: {why}" for path, why in self.failed]
        lines += [f"  ROW {where}: {why}" for where, why in self.row_errors]
        return "\n".join(lines)


def scan(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)


def find_labels_csv(folder: Path) -> Path | None:
    """MSP-Podcast keeps `labels_consensus.csv` at the top or in `Labels/`; a generic `labels.csv` also counts."""
    for candidate in (folder / "labels_consensus.csv", folder / "Labels" / "labels_consensus.csv",
                      folder / "labels.csv"):
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
    corpus_row = store.corpus(corpus, create=True, root=str(folder))
    report = ImportReport(corpus=corpus)
    paths = scan(folder)
    report.scanned = len(paths)
    with tracked_job(store, "import", {"corpus": corpus, "folder": str(folder)}) as job:
        _import_audio(store, corpus_row.id, paths, report, progress, cancel, commit_every)
        labels_path = Path(labels) if labels else find_labels_csv(folder)
        if labels_path is not None:
            import_labels(store, corpus, labels_path, report=report, base=folder)
        store.update_job(job, status="done", progress=1.0, message=report.summary())
    store.emit("corpus_changed", corpus_id=corpus_row.id)
    return report


def _import_audio(store: Store, corpus_id: int, paths: list[Path], report: ImportReport, progress: ProgressFn,
                  cancel: CancelFn | None, commit_every: int) -> None:
    with store.session() as s:
        known = {f.fingerprint: f for f in s.scalars(select(AudioFile).where(AudioFile.corpus_id == corpus_id))}
        by_path = {f.path: f for f in known.values()}
        pending = 0
        for i, path in enumerate(paths):
            check_cancel(cancel)
            progress(i, len(paths), path.name)
            _import_one(s, corpus_id, path, known, by_path, report)
            pending += 1
            if pending >= commit_every:
                s.commit()  # an interrupted import keeps what it did; the next run skips it
                pending = 0
    progress(len(paths), len(paths), "audio done")


def _import_one(s, corpus_id: int, path: Path, known: dict, by_path: dict, report: ImportReport) -> None:
    str_path = str(path)
    try:
        digest = fingerprint(path)
    except OSError as exc:
        report.failed.append((str_path, f"cannot read: {exc.strerror or exc}"))
        return
    existing = known.get(digest)
    if existing is not None:
        if existing.path != str_path and not Path(existing.path).exists():
            by_path.pop(existing.path, None)
            existing.path = str_path
            by_path[str_path] = existing
            report.relinked += 1
        else:
            report.unchanged += 1
            if existing.status == "error":
                report.failed.append((str_path, existing.error or "failed earlier"))
        return
    stale = by_path.get(str_path)  # same path, new content: the file was replaced
    if stale is not None:
        s.delete(stale)
        known.pop(stale.fingerprint, None)
        s.flush()
    row = AudioFile(corpus_id=corpus_id, path=str_path, fingerprint=digest, size_bytes=path.stat().st_size)
    try:
        waveform = EnvelopeBuilder()
        info, decoded = validate(path, waveform.add)
        waveform.save(digest)  # the app's first look at the file needs no second decode
        row.sample_rate, row.channels, row.duration, row.status = info.sample_rate, info.channels, decoded, "ok"
    except AudioError as exc:
        row.status, row.error = "error", str(exc)
        report.failed.append((str_path, str(exc)))
    s.add(row)
    known[digest] = row
    by_path[str_path] = row
    report.added += 1


def _scale(value: str, name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} {value!r} is not a number") from None
    if not 1.0 <= x <= 7.0:
        raise ValueError(f"{name} {x} is off the 1-7 scale")
    return x


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            return [c.strip() for c in (reader.fieldnames or [])], rows
    except (UnicodeDecodeError, csv.Error) as exc:
        raise LabelFileError(f"{path.name} is not a readable CSV: {exc}") from exc


def import_labels(
    store: Store, corpus: str, path: str | Path, *, report: ImportReport | None = None, base: Path | None = None
) -> ImportReport:
    """Read an MSP-Podcast `labels_consensus.csv` or a generic `file,start,end,arousal,valence,dominance` CSV."""
    path = Path(path)
    corpus_row = store.corpus(corpus)
    report = report or ImportReport(corpus=corpus)
    columns, rows = _read_csv(path)
    is_msp = all(c in columns for c in MSP_COLUMNS[:5])
    if not is_msp and not all(c in columns for c in GENERIC_COLUMNS):
        raise LabelFileError(
            f"{path.name}: unknown columns {columns}; expected MSP-Podcast {','.join(MSP_COLUMNS)} "
            f"or {','.join(GENERIC_COLUMNS)}[,category,annotator]"
        )
    base = base or Path(corpus_row.root or path.parent)
    with store.session() as s:
        files = list(s.scalars(select(AudioFile).where(AudioFile.corpus_id == corpus_row.id)))
        by_path = {Path(f.path).resolve(): f for f in files}
        by_name: dict[str, list[AudioFile]] = {}
        for f in files:
            by_name.setdefault(Path(f.path).name, []).append(f)
        for lineno, row in enumerate(rows, start=2):
            where = f"{path.name}:{lineno}"
            try:
                if is_msp:
                    _msp_row(s, row, base, by_path, by_name, report)
                else:
                    _generic_row(s, row, base, by_path, by_name, report)
            except ValueError as exc:
                report.row_errors.append((where, str(exc)))
    return report


def _resolve(name: str, base: Path, by_path: dict, by_name: dict) -> AudioFile:
    name = (name or "").strip()
    if not name:
        raise ValueError("empty file name")
    for candidate in (Path(name), base / name, base / "Audios" / name):
        hit = by_path.get(candidate.resolve())
        if hit is not None:
            break
    else:
        matches = by_name.get(Path(name).name, [])
        if len(matches) != 1:
            raise ValueError(f"{name}: no such audio file in the corpus" if not matches else f"{name}: ambiguous")
        hit = matches[0]
    if hit.status != "ok":
        raise ValueError(f"{name}: the audio file failed to import ({hit.error})")
    return hit


def _segment(s, audio: AudioFile, start: float, end: float, speaker: str | None, split: str | None, report) -> Segment:
    seg = s.scalar(
        select(Segment).where(
            Segment.file_id == audio.id, Segment.start.between(start - 1e-3, start + 1e-3),
            Segment.end.between(end - 1e-3, end + 1e-3),
        )
    )
    if seg is None:
        seg = Segment(file_id=audio.id, start=start, end=end, speaker=speaker, split=split, origin="imported")
        s.add(seg)
        s.flush()
        report.segments_added += 1
    else:
        seg.speaker, seg.split = speaker or seg.speaker, split or seg.split
    return seg


def _add_label_once(s, seg: Segment, annotator: str, a: float, v: float, d: float, cat: str | None, report) -> None:
    latest = s.scalar(
        select(Label).where(Label.segment_id == seg.id, Label.annotator == annotator)
        .order_by(Label.created_at.desc(), Label.id.desc())
    )
    if latest is not None and (latest.arousal, latest.valence, latest.dominance, latest.category) == (a, v, d, cat):
        return  # re-import of the same CSV adds nothing
    s.add(Label(segment_id=seg.id, annotator=annotator, arousal=a, valence=v, dominance=d, category=cat,
                origin="imported"))
    report.labels_added += 1


def _msp_row(s, row: dict, base: Path, by_path: dict, by_name: dict, report: ImportReport) -> None:
    audio = _resolve(row.get("FileName", ""), base, by_path, by_name)
    a, v, d = (_scale(row.get(k, ""), n) for k, n in (("EmoAct", "EmoAct"), ("EmoVal", "EmoVal"), ("EmoDom", "EmoDom")))
    speaker = (row.get("SpkrID") or "").strip() or None
    split = (row.get("Split_Set") or "").strip() or None
    audio.speaker, audio.gender, audio.split = speaker, (row.get("Gender") or "").strip() or None, split
    seg = _segment(s, audio, 0.0, float(audio.duration or 0.0), speaker, split, report)
    _add_label_once(s, seg, CONSENSUS, a, v, d, (row.get("EmoClass") or "").strip() or None, report)


def _generic_row(s, row: dict, base: Path, by_path: dict, by_name: dict, report: ImportReport) -> None:
    audio = _resolve(row.get("file", ""), base, by_path, by_name)
    try:
        start, end = float(row["start"]), float(row["end"])
    except (TypeError, ValueError):
        raise ValueError(f"start/end {row.get('start')!r}/{row.get('end')!r} are not numbers") from None
    if not 0 <= start < end or end > (audio.duration or 0) + 0.05:
        raise ValueError(f"segment {start}-{end} s lies outside the file ({audio.duration:.2f} s)")
    a, v, d = (_scale(row.get(k, ""), k) for k in ("arousal", "valence", "dominance"))
    seg = _segment(s, audio, start, end, audio.speaker, audio.split, report)
    annotator = (row.get("annotator") or "").strip() or CONSENSUS
    _add_label_once(s, seg, annotator, a, v, d, (row.get("category") or "").strip() or None, report)
