"""A corpus's annotation files out (one per audio file) and a set of annotation files in, by extension."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from emotrace.core.formats.audformat_db import check_audformat, export_audformat
from emotrace.core.formats.elan import check_eaf, export_eaf
from emotrace.core.formats.interchange import AnnotationFileError, checked_file
from emotrace.core.formats.rttm import check_rttm, export_rttm, write_rttm_turns
from emotrace.core.formats.textgrid import check_textgrid, export_textgrid
from emotrace.core.formats.tiers import TierImportReport
from emotrace.core.store import Store

EXPORTERS = {"eaf": (export_eaf, ".eaf"), "textgrid": (export_textgrid, ".TextGrid")}


FORMATS = (*EXPORTERS, "audformat", "rttm")


def export_corpus(store: Store, corpus: str, folder: str | Path, fmt: str) -> list[Path]:
    """One annotation file per audio file that has segments, named after the audio (`talk.wav` -> `talk.eaf`);
    for audformat, one database (db.yaml and its tables) in the folder."""
    if fmt == "audformat":
        export_audformat(store, corpus, folder)
        return [Path(folder) / "db.yaml"]
    if fmt == "rttm":
        Path(folder).mkdir(parents=True, exist_ok=True)
        export_rttm(store, corpus, Path(folder) / f"{corpus}.rttm")
        return [Path(folder) / f"{corpus}.rttm"]
    if fmt not in EXPORTERS:
        raise AnnotationFileError(f"unknown format {fmt!r}; use one of {', '.join(EXPORTERS)}")
    export, suffix = EXPORTERS[fmt]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for f in store.corpora.files(store.corpora.corpus(corpus).id):
        if not store.segments.segments(f.id):
            continue
        out = folder / (Path(f.path).stem + suffix)
        export(store, f.id, out)
        written.append(out)
    return written


def import_annotation_file(store: Store, corpus: str, path: str | Path, *, audio: str | None = None) -> TierImportReport:
    """One annotation file (or an audformat folder) through its format module and the interchange model."""
    return check_annotation_file(store, corpus, path, audio=audio)()


def check_annotation_file(store: Store, corpus: str, path: str | Path, *, audio: str | None = None
                          ) -> Callable[[], TierImportReport]:
    """Read and check one annotation file (or an audformat folder) whole, writing nothing: the corpus is checked
    first, and a special file (FIFO, device) or one over the size cap is never opened. Returns the one call that
    writes it, so a caller with several files checks them all before writing any."""
    store.corpora.corpus(corpus)
    suffix = Path(path).suffix.lower()
    if not Path(path).is_dir():
        checked_file(path)
    if Path(path).is_dir() or Path(path).name == "db.yaml":
        folder = Path(path) if Path(path).is_dir() else Path(path).parent
        write_db = check_audformat(store, corpus, folder)

        def write_audformat() -> TierImportReport:
            segments, labels = write_db()
            return TierImportReport(file=folder.name, labels_added=labels, segments_added=segments)

        return write_audformat
    if suffix == ".rttm":
        targets = check_rttm(store, corpus, path)

        def write_rttm() -> TierImportReport:
            named = write_rttm_turns(store, path, targets)
            return TierImportReport(file=f"{Path(path).name} (speaker turns for {len(named)} files, "
                                         f"{sum(named.values())} segments named)")

        return write_rttm
    if suffix == ".eaf":
        return check_eaf(store, corpus, path, audio=audio)
    if suffix == ".textgrid":
        return check_textgrid(store, corpus, path, audio=audio)
    raise AnnotationFileError(f"{Path(path).name}: not an ELAN (.eaf), Praat (.TextGrid), RTTM or audformat (db.yaml) file")
