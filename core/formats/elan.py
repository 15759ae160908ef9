"""ELAN .eaf through pympi-ling: one tier per annotator and dimension, the transcript as a tier.

ELAN counts time in integer milliseconds, so bounds round-trip to the millisecond (segments are found again
within 1 ms by Store.labels.import_labels).
"""

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

LINGUISTIC_TYPE = "emotrace-value"


def export_eaf(store: Store, file_id: int, out: str | Path) -> int:
    """Write one audio file's labels and transcript; returns the number of annotations written."""
    import pympi

    audio = store.corpora.file(file_id)
    segments, by_annotator = export_rows(store, file_id)
    eaf = pympi.Elan.Eaf(author="EmoTrace")
    eaf.remove_tier("default")
    eaf.add_linguistic_type(LINGUISTIC_TYPE, None, timealignable=True)
    eaf.add_linked_file(Path(audio.path).resolve().as_uri(), relpath=Path(audio.path).name,
                        mimetype=_mimetype(audio.path))
    count = 0
    for annotator in sorted(by_annotator):
        for i, dim in enumerate(DIMENSIONS):
            labels = [(s, by_annotator[annotator].get(s.id)) for s in segments]
            labels = [(s, c) for s, c in labels if c is not None and c.values[i] is not None]
            if not labels:
                continue
            tier = tier_name(annotator, dim)
            eaf.add_tier(tier, ling=LINGUISTIC_TYPE, part=annotator)
            for seg, c in labels:
                eaf.add_annotation(tier, round(seg.start * 1000), round(seg.end * 1000), value_text(c.values[i]))
                count += 1
        cats = [(s, c) for s in segments if (c := by_annotator[annotator].get(s.id)) is not None and c.category]
        if cats:
            eaf.add_tier(tier_name(annotator, CATEGORY), ling=LINGUISTIC_TYPE, part=annotator)
            for seg, c in cats:
                eaf.add_annotation(tier_name(annotator, CATEGORY), round(seg.start * 1000), round(seg.end * 1000),
                                   c.category)
                count += 1
    texts = [s for s in segments if s.text.strip()]
    if texts:
        eaf.add_tier(TRANSCRIPT_TIER, ling=LINGUISTIC_TYPE)
        for seg in texts:
            eaf.add_annotation(TRANSCRIPT_TIER, round(seg.start * 1000), round(seg.end * 1000), seg.text.strip())
            count += 1
    eaf.to_file(str(out))
    return count


def _mimetype(path: str) -> str:
    return {".wav": "audio/x-wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg",
            ".m4a": "audio/mp4"}.get(Path(path).suffix.lower(), "audio/*")


def import_eaf(store: Store, corpus: str, path: str | Path, *, audio: str | None = None) -> TierImportReport:
    import pympi

    path = Path(path)
    try:
        eaf = pympi.Elan.Eaf(str(path))
    except Exception as exc:  # noqa: BLE001 - pympi raises bare XML and key errors on broken files
        raise AnnotationFileError(f"{path.name} is not a readable ELAN file: {exc}") from exc
    intervals = []
    for tier in eaf.get_tier_names():
        try:
            data = eaf.get_annotation_data_for_tier(tier)
        except Exception as exc:  # noqa: BLE001 - a reference tier or a dangling time slot
            raise AnnotationFileError(f"{path.name}: tier {tier!r} cannot be read: {exc}") from exc
        for row in data:
            start, end, text = row[0], row[1], row[2]
            if start is None or end is None:
                raise AnnotationFileError(f"{path.name}: tier {tier!r} has an annotation without a time")
            intervals.append(Interval(tier, start / 1000, end / 1000, str(text)))
    media = [d.get("RELATIVE_MEDIA_URL") or d.get("MEDIA_URL", "") for d in eaf.media_descriptors]
    return import_intervals(store, corpus, path, intervals, media_names=[m.rsplit("/", 1)[-1] for m in media],
                            audio=audio)
