"""Praat TextGrid through praatio: interval tiers per annotator and dimension, the transcript as a tier."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from emotrace.core.formats.interchange import AnnotationFileError
from emotrace.core.formats.tiers import (
    Interval,
    TierImportReport,
    check_intervals,
    export_rows,
    label_tiers,
)
from emotrace.core.store import Store


def export_textgrid(store: Store, file_id: int, out: str | Path) -> int:
    # lazy: praatio for TextGrid files only
    from praatio import textgrid
    from praatio.data_classes.interval_tier import IntervalTier

    audio = store.corpora.file(file_id)
    segments, by_annotator = export_rows(store, file_id)
    end = max([audio.duration or 0.0, *(s.end for s in segments)])
    tg = textgrid.Textgrid(0.0, end)
    count = 0
    for name, entries in label_tiers(segments, by_annotator):
        tg.addTier(IntervalTier(name, entries, 0.0, end))
        count += len(entries)
    tg.save(str(out), format="long_textgrid", includeBlankSpaces=True)
    return count


def import_textgrid(store: Store, corpus: str, path: str | Path, *, audio: str | None = None) -> TierImportReport:
    return check_textgrid(store, corpus, path, audio=audio)()


def check_textgrid(store: Store, corpus: str, path: str | Path, *, audio: str | None = None
                   ) -> Callable[[], TierImportReport]:
    """The file read and every interval checked (nothing written); returns the call that writes them."""
    # lazy: praatio for TextGrid files only
    from praatio import textgrid

    path = Path(path)
    _refuse_negative_times(path)
    try:
        tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False, reportingMode="silence")
    except Exception as exc:  # noqa: BLE001 - praatio raises many kinds on a broken file
        reason = " ".join(str(exc).split())  # praatio's overlap error spans two lines: one line for the user
        raise AnnotationFileError(f"{path.name} is not a readable TextGrid: {reason}") from exc
    intervals, points = [], []
    for name in tg.tierNames:
        tier = tg.getTier(name)
        if getattr(tier, "tierType", "IntervalTier") != "IntervalTier":
            points.append(name)  # a point tier marks instants: no segment to label
            continue
        intervals += [Interval(name, float(e.start), float(e.end), str(e.label)) for e in tier.entries]
    write = check_intervals(store, corpus, path, intervals, audio=audio)

    def write_and_note() -> TierImportReport:
        report = write()
        report.skipped_tiers += [f"{name} (a point tier)" for name in points]
        return report

    return write_and_note


_NEGATIVE_TIME = re.compile(rb"^\s*(xmin|xmax|number|time)\s*=\s*-", re.M)


def _refuse_negative_times(path: Path) -> None:
    """praatio reads `xmin = -1` as 1 (the sign is lost), so a negative time is caught in the text itself, with
    its line; the short TextGrid form (bare numbers, labels in quotes) for a line that starts with a minus."""
    text = path.read_bytes()
    hit = _NEGATIVE_TIME.search(text)
    if hit is None and b"xmin" not in text:  # the short form: bare numbers, one per line
        hit = re.search(rb"^\s*-\d", text, re.M)
    if hit is not None:
        line = text[:hit.start()].count(b"\n") + 1
        raise AnnotationFileError(f"{path.name}:{line}: a negative time (before the audio begins)")
