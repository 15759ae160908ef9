"""The tier mapping shared by ELAN and TextGrid, and the one-transaction import of tier intervals.

An annotation file names no corpus file the same way everywhere (ELAN keeps a media URL, a TextGrid nothing),
so the audio is found by the media file's name, else by the annotation file's stem (`talk.TextGrid` ->
`talk.wav`), unless the caller names it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from emotrace.core.formats import interchange
from emotrace.core.formats.interchange import AnnotationFileError
from emotrace.core.store import LabelSpec, Store
from emotrace.core.vocab import ACCEPTED_SUFFIX, DIMENSIONS, LabelOrigin, accepted_rater, is_accepted_rater

TRANSCRIPT_TIER = "transcript"
SEP = "/"
CATEGORY = "category"  # a tier ANNOTATOR/category holds MSP's class letters (N, H, A, ...)
FIELDS = (*DIMENSIONS, CATEGORY)


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


LAYER = re.compile(r"^(?P<base>.*?) \((?P<layer>[2-9]|[1-9]\d+)\)$")


def tier_name(annotator: str, dimension: str, layer: int = 0) -> str:
    """`ANNOTATOR/DIMENSION`, and `ANNOTATOR/DIMENSION (2)`, `(3)`, ... for the further layers that hold segments
    overlapping those of the first (a superseded segment beside the ones made from it)."""
    return f"{annotator}{SEP}{dimension}" + (f" ({layer + 1})" if layer else "")


def parse_tier(name: str) -> tuple[str, str] | None:
    """(annotator, dimension) of a label tier (of any layer), or None for any other tier."""
    hit = LAYER.match(name)
    annotator, sep, dim = (hit.group("base") if hit else name).rpartition(SEP)
    return (annotator, dim) if sep and annotator and dim in FIELDS else None


def is_transcript(name: str) -> bool:
    hit = LAYER.match(name)
    return (hit.group("base") if hit else name) == TRANSCRIPT_TIER


def layered(entries: list[tuple[float, float, str]]) -> list[list[tuple[float, float, str]]]:
    """Intervals split into as few non-overlapping layers as they need (each to the first layer it fits, in time
    order): a tier never holds overlapping annotations, in ELAN or Praat, and nothing is dropped."""
    layers: list[list[tuple[float, float, str]]] = []
    for entry in sorted(entries):
        for layer in layers:
            if entry[0] >= layer[-1][1] - 1e-9:
                layer.append(entry)
                break
        else:
            layers.append([entry])
    return layers


def label_tiers(segments, by_annotator: dict) -> list[tuple[str, list[tuple[float, float, str]]]]:
    """Every tier an export writes, in order: per annotator, each dimension and the category (in layers), then
    the transcript (in layers). The one tier layout of ELAN and TextGrid, so the two exports carry the same
    intervals per annotator and dimension."""
    tiers = []
    for annotator in sorted(by_annotator):
        labels = by_annotator[annotator]
        for i, dim in enumerate(DIMENSIONS):
            entries = [(s.start, s.end, value_text(c.values[i])) for s in segments
                       if (c := labels.get(s.id)) is not None and c.values[i] is not None]
            tiers += [(tier_name(annotator, dim, k), layer) for k, layer in enumerate(layered(entries))]
        cats = [(s.start, s.end, c.category) for s in segments if (c := labels.get(s.id)) is not None and c.category]
        tiers += [(tier_name(annotator, CATEGORY, k), layer) for k, layer in enumerate(layered(cats))]
    texts = [(s.start, s.end, s.text.strip()) for s in segments if s.text.strip()]
    tiers += [(TRANSCRIPT_TIER + (f" ({k + 1})" if k else ""), layer) for k, layer in enumerate(layered(texts))]
    return tiers


def value_text(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def export_rows(store: Store, file_id: int, *, include_computed: bool = True):
    """(segments, {annotator: {segment id: CurrentLabel}}) for one file: every annotator's current label, the
    computed consensus included (its tiers are named `consensus:*`). Per dimension, a person's tiers hold only
    their human values; the model's values they accepted go to the model-assisted rater `<name> (accepted)`."""
    segments = store.segments.segments(file_id)
    by_annotator: dict[str, dict] = {}
    for c in store.labels.current_labels(file_id=file_id, include_accepted=True, include_computed=include_computed):
        if (human := c.human_part()) is not None:
            by_annotator.setdefault(c.annotator, {})[c.segment_id] = human
        if (accepted := c.accepted_part()) is not None:
            by_annotator.setdefault(accepted_rater(c.annotator), {})[c.segment_id] = accepted
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
    return check_intervals(store, corpus, path, intervals, media_names=media_names, audio=audio)()


def check_intervals(store: Store, corpus: str, path: Path, intervals: Iterable[Interval], *,
                    media_names: Iterable[str] = (), audio: str | None = None) -> Callable[[], TierImportReport]:
    """Every interval checked through the interchange model (nothing written); returns the one call that writes
    them all in one transaction and gives the report."""
    corpus_row = store.corpora.corpus(corpus)
    target = resolve_audio(store, corpus_row.id, path, media_names, audio)
    report = TierImportReport(file=path.name)
    grouped: dict[tuple[str, float, float], list] = {}
    for iv in intervals:
        parsed = parse_tier(iv.tier)
        if parsed is None:
            if not is_transcript(iv.tier) and iv.tier not in report.skipped_tiers:
                report.skipped_tiers.append(iv.tier)
            continue
        annotator, dim = parsed
        if not iv.text.strip():
            continue  # an empty interval (a gap) is no label
        where = f"{path.name}: tier {iv.tier!r} at {iv.start:.3f}-{iv.end:.3f} s"
        annotator = interchange.rater_name(where, annotator)
        if interchange.is_computed(annotator):
            continue  # a computed consensus is recomputed from the raters, never read back as a judgement
        # the model's values a person accepted: read back as that person's accepted values, never as their own
        accepted = is_accepted_rater(annotator)
        if accepted:
            annotator = interchange.rater_name(where, annotator.strip()[:-len(ACCEPTED_SUFFIX)])
        start, end = interchange.span(where, iv.start, iv.end, target.duration)
        key = (annotator, round(start, 3), round(end, 3), accepted)
        if dim == CATEGORY:
            grouped.setdefault(key, [None, None, None, None])[3] = iv.text.strip()
            continue
        value = interchange.rating(where, iv.text, dim)
        grouped.setdefault(key, [None, None, None, None])[DIMENSIONS.index(dim)] = value
    for (annotator, start, end, _accepted), values in grouped.items():
        if values[:3] == [None, None, None]:
            raise AnnotationFileError(f"{path.name}: {annotator} has a category at {start:.3f}-{end:.3f} s but no "
                                      "arousal, valence or dominance there")
    # a person's human values first, then the model's values they accepted (the import merges them per dimension,
    # each value keeping whose it is)
    specs = [LabelSpec(target.id, start, end, annotator, tuple(values[:3]), values[3], target.speaker, target.split,
                       LabelOrigin.ACCEPTED if accepted else LabelOrigin.IMPORTED)
             for (annotator, start, end, accepted), values in sorted(grouped.items(),
                                                                     key=lambda kv: (kv[0][1], kv[0][0], kv[0][3]))]

    def write() -> TierImportReport:
        report.segments_added, report.labels_added = store.labels.import_labels(specs)
        return report

    return write


__all__ = ["AnnotationFileError", "Interval", "LabelOrigin", "TierImportReport", "TRANSCRIPT_TIER", "export_rows",
           "is_transcript", "label_tiers", "layered",
           "check_intervals", "import_intervals", "parse_tier", "tier_name", "value_text"]
