"""A corpus's annotation files out (one per audio file) and a set of annotation files in, by extension."""

from __future__ import annotations

from pathlib import Path

from emotrace.core.formats.audformat_db import export_audformat, import_audformat
from emotrace.core.formats.elan import export_eaf, import_eaf
from emotrace.core.formats.interchange import AnnotationFileError, checked_file
from emotrace.core.formats.rttm import export_rttm, import_rttm
from emotrace.core.formats.textgrid import export_textgrid, import_textgrid
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
    """One annotation file (or an audformat folder) through its format module and the interchange model; the
    corpus is checked first, and a special file (FIFO, device) or one over the size cap is never opened."""
    store.corpora.corpus(corpus)
    suffix = Path(path).suffix.lower()
    if not Path(path).is_dir():
        checked_file(path)
    if Path(path).is_dir() or Path(path).name == "db.yaml":
        folder = Path(path) if Path(path).is_dir() else Path(path).parent
        segments, labels = import_audformat(store, corpus, folder)
        return TierImportReport(file=folder.name, labels_added=labels, segments_added=segments)
    if suffix == ".rttm":
        named = import_rttm(store, corpus, path)
        return TierImportReport(file=f"{Path(path).name} (speaker turns for {len(named)} files, "
                                     f"{sum(named.values())} segments named)")
    if suffix == ".eaf":
        return import_eaf(store, corpus, path, audio=audio)
    if suffix == ".textgrid":
        return import_textgrid(store, corpus, path, audio=audio)
    raise AnnotationFileError(f"{Path(path).name}: not an ELAN (.eaf), Praat (.TextGrid), RTTM or audformat (db.yaml) file")
