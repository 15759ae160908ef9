"""The tier mapping shared by ELAN and TextGrid, and the one-transaction import of tier intervals.

An annotation file names no corpus file the same way everywhere (ELAN keeps a media URL, a TextGrid nothing),
so the audio is found by the media file's name, else by the annotation file's stem (`talk.TextGrid` ->
`talk.wav`), unless the caller names it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from emotrace.core.errors import UserFacingError
from emotrace.core.store import LabelSpec, Store
from emotrace.core.vocab import CONSENSUS_PREFIX, DIMENSIONS, SCALE, LabelOrigin

TRANSCRIPT_TIER = "transcript"
SEP = "/"
CATEGORY = "category"  # a tier ANNOTATOR/category holds MSP's class letters (N, H, A, ...)
FIELDS = (*DIMENSIONS, CATEGORY)


class AnnotationFileError(UserFacingError, ValueError):
    """A malformed annotation file; the message names the tier and the time (nothing was imported)."""


@dataclass(frozen=True)
class Interval:
    tier: str
    start: float
    end: float
    text: str


@dataclass
class TierImportReport:
    file: str
    labels_added: int = 0
    segments_added: int = 0
    skipped_tiers: list[str] = field(default_factory=list)

    def summary(self) -> str:
        skipped = f"; tiers skipped (not ANNOTATOR/DIMENSION): {', '.join(self.skipped_tiers)}" \
            if self.skipped_tiers else ""
        return f"{self.file}: {self.segments_added} segments and {self.labels_added} labels added{skipped}"


def tier_name(annotator: str, dimension: str) -> str:
    return f"{annotator}{SEP}{dimension}"


def parse_tier(name: str) -> tuple[str, str] | None:
    """(annotator, dimension) of a label tier, or None for any other tier."""
    annotator, sep, dim = name.rpartition(SEP)
    return (annotator, dim) if sep and annotator and dim in FIELDS else None


def value_text(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def export_rows(store: Store, file_id: int, *, include_computed: bool = True):
    """(segments, {annotator: {segment id: CurrentLabel}}) for one file: every annotator's current label, the
    computed consensus included (its tiers are named `consensus:*`), accepted predictions left out."""
    segments = store.segments.segments(file_id)
    by_annotator: dict[str, dict] = {}
    for c in store.labels.current_labels(file_id=file_id, include_accepted=False, include_computed=include_computed):
        by_annotator.setdefault(c.annotator, {})[c.segment_id] = c
    return segments, by_annotator


def resolve_audio(store: Store, corpus_id: int, path: Path, media_names: Iterable[str] = (),
                  audio: str | None = None):
    files = store.corpora.files(corpus_id)
    wanted = [Path(audio).name] if audio else [*(Path(m).name for m in media_names if m), None]
    for name in wanted:
        hits = ([f for f in files if Path(f.path).name == name] if name else
                [f for f in files if Path(f.path).stem == path.stem])
        if len(hits) == 1:
            return hits[0]
    raise AnnotationFileError(f"{path.name}: no audio file of this corpus matches it (by its media file or its "
                              "name); name the audio with --audio")


def import_intervals(store: Store, corpus: str, path: Path, intervals: Iterable[Interval], *,
                     media_names: Iterable[str] = (), audio: str | None = None) -> TierImportReport:
    """Check every interval first, then write all labels in one transaction (Store.labels.import_labels)."""
    corpus_row = store.corpora.corpus(corpus)
    target = resolve_audio(store, corpus_row.id, path, media_names, audio)
    report = TierImportReport(file=path.name)
    grouped: dict[tuple[str, float, float], list] = {}
    for iv in intervals:
        parsed = parse_tier(iv.tier)
        if parsed is None:
            if iv.tier != TRANSCRIPT_TIER and iv.tier not in report.skipped_tiers:
                report.skipped_tiers.append(iv.tier)
            continue
        annotator, dim = parsed
        if not iv.text.strip():
            continue  # an empty interval (a gap) is no label
        where = f"{path.name}: tier {iv.tier!r} at {iv.start:.3f}-{iv.end:.3f} s"
        if annotator.startswith(CONSENSUS_PREFIX):
            continue  # a computed consensus is recomputed from the raters, never read back as a judgement
        if not 0 <= iv.start < iv.end or iv.end > (target.duration or 0) + 0.05:
            raise AnnotationFileError(f"{where}: the interval lies outside the audio ({target.duration:.2f} s)")
        key = (annotator, round(iv.start, 3), round(iv.end, 3))
        if dim == CATEGORY:
            grouped.setdefault(key, [None, None, None, None])[3] = iv.text.strip()
            continue
        try:
            value = float(iv.text.strip())
        except ValueError:
            raise AnnotationFileError(f"{where}: {iv.text.strip()!r} is not a number") from None
        if not math.isfinite(value) or not SCALE.contains(value):
            raise AnnotationFileError(f"{where}: {value:g} is off the {SCALE.low:g}-{SCALE.high:g} scale")
        grouped.setdefault(key, [None, None, None, None])[DIMENSIONS.index(dim)] = value
    for (annotator, start, end), values in grouped.items():
        if values[:3] == [None, None, None]:
            raise AnnotationFileError(f"{path.name}: {annotator} has a category at {start:.3f}-{end:.3f} s but no "
                                      "arousal, valence or dominance there")
    specs = [LabelSpec(target.id, start, end, annotator, tuple(values[:3]), values[3], target.speaker, target.split)
             for (annotator, start, end), values in sorted(grouped.items(), key=lambda kv: (kv[0][1], kv[0][0]))]
    report.segments_added, report.labels_added = store.labels.import_labels(specs)
    return report


__all__ = ["AnnotationFileError", "Interval", "LabelOrigin", "TierImportReport", "TRANSCRIPT_TIER", "export_rows",
           "import_intervals", "parse_tier", "tier_name", "value_text"]
