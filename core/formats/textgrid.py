"""Praat TextGrid through praatio: interval tiers per annotator and dimension, the transcript as a tier."""

from __future__ import annotations

from pathlib import Path

from emotrace.core.formats.tiers import (
    CATEGORY,
    TRANSCRIPT_TIER,
    AnnotationFileError,
    Interval,
    TierImportReport,
    export_rows,
    import_intervals,
    tier_name,
    value_text,
)
from emotrace.core.store import Store
from emotrace.core.vocab import DIMENSIONS


def export_textgrid(store: Store, file_id: int, out: str | Path) -> int:
    from praatio import textgrid
    from praatio.data_classes.interval_tier import IntervalTier

    audio = store.corpora.file(file_id)
    segments, by_annotator = export_rows(store, file_id)
    end = max([audio.duration or 0.0, *(s.end for s in segments)])
    tg = textgrid.Textgrid(0.0, end)
    count = 0
    for annotator in sorted(by_annotator):
        for i, dim in enumerate(DIMENSIONS):
            entries = [(s.start, s.end, value_text(c.values[i])) for s in segments
                       if (c := by_annotator[annotator].get(s.id)) is not None and c.values[i] is not None]
            entries = _no_overlap(entries)
            if entries:
                tg.addTier(IntervalTier(tier_name(annotator, dim), entries, 0.0, end))
                count += len(entries)
        cats = _no_overlap([(s.start, s.end, c.category) for s in segments
                            if (c := by_annotator[annotator].get(s.id)) is not None and c.category])
        if cats:
            tg.addTier(IntervalTier(tier_name(annotator, CATEGORY), cats, 0.0, end))
            count += len(cats)
    texts = _no_overlap([(s.start, s.end, s.text.strip()) for s in segments if s.text.strip()])
    if texts:
        tg.addTier(IntervalTier(TRANSCRIPT_TIER, texts, 0.0, end))
        count += len(texts)
    tg.save(str(out), format="long_textgrid", includeBlankSpaces=True)
    return count


def _no_overlap(entries: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """A TextGrid interval tier cannot overlap: a segment that overlaps the one before is left out of that tier
    (ELAN, which allows overlap, keeps it)."""
    out: list[tuple[float, float, str]] = []
    for start, end, text in sorted(entries):
        if not out or start >= out[-1][1] - 1e-9:
            out.append((start, end, text))
    return out


def import_textgrid(store: Store, corpus: str, path: str | Path, *, audio: str | None = None) -> TierImportReport:
    from praatio import textgrid

    path = Path(path)
    try:
        tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False, reportingMode="silence")
    except Exception as exc:  # noqa: BLE001 - praatio raises many kinds on a broken file
        raise AnnotationFileError(f"{path.name} is not a readable TextGrid: {exc}") from exc
    intervals = []
    for name in tg.tierNames:
        tier = tg.getTier(name)
        if getattr(tier, "tierType", "IntervalTier") != "IntervalTier":
            continue  # point tiers carry no segment
        intervals += [Interval(name, float(e.start), float(e.end), str(e.label)) for e in tier.entries]
    return import_intervals(store, corpus, path, intervals, audio=audio)
