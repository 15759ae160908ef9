"""ELAN .eaf through pympi-ling: one tier per annotator and dimension, the transcript as a tier.

ELAN counts time in integer milliseconds, so bounds round-trip to the millisecond (segments are found again
within 1 ms by Store.labels.import_labels).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

from emotrace.core.formats.interchange import AnnotationFileError, checked_file, refuse_xml_declarations
from emotrace.core.formats.tiers import (
    Interval,
    TierImportReport,
    check_intervals,
    export_rows,
    label_tiers,
    parse_tier,
)
from emotrace.core.store import Store

LINGUISTIC_TYPE = "emotrace-value"


def export_eaf(store: Store, file_id: int, out: str | Path) -> int:
    """Write one audio file's labels and transcript; returns the number of annotations written."""
    # lazy: pympi-ling for ELAN files only
    import pympi

    audio = store.corpora.file(file_id)
    segments, by_annotator = export_rows(store, file_id)
    eaf = pympi.Elan.Eaf(author="EmoTrace")
    eaf.remove_tier("default")
    eaf.add_linguistic_type(LINGUISTIC_TYPE, None, timealignable=True)
    eaf.add_linked_file(Path(audio.path).resolve().as_uri(), relpath=Path(audio.path).name,
                        mimetype=_mimetype(audio.path))
    count = 0
    for name, entries in label_tiers(segments, by_annotator):
        annotator = parse_tier(name)
        eaf.add_tier(name, ling=LINGUISTIC_TYPE, **({"part": annotator[0]} if annotator else {}))
        for start, stop, text in entries:
            eaf.add_annotation(name, round(start * 1000), round(stop * 1000), text)
        count += len(entries)
    eaf.to_file(str(out))
    return count


def _mimetype(path: str) -> str:
    return {".wav": "audio/x-wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg",
            ".m4a": "audio/mp4"}.get(Path(path).suffix.lower(), "audio/*")


def import_eaf(store: Store, corpus: str, path: str | Path, *, audio: str | None = None) -> TierImportReport:
    return check_eaf(store, corpus, path, audio=audio)()


def check_eaf(store: Store, corpus: str, path: str | Path, *, audio: str | None = None
              ) -> Callable[[], TierImportReport]:
    """The file read and every annotation checked (nothing written); returns the call that writes them."""
    # lazy: pympi-ling for ELAN files only
    import pympi

    path = Path(path)
    refuse_xml_declarations(checked_file(path))
    try:
        with warnings.catch_warnings():  # pympi warns on stderr about versions and unknown parts: not our user's
            warnings.simplefilter("ignore")
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
    return check_intervals(store, corpus, path, intervals, media_names=[m.rsplit("/", 1)[-1] for m in media],
                           audio=audio)
