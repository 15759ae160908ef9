"""Write a corpus back out: a flat CSV for analysis (one row per segment), a per-rater CSV (one row per segment and
annotator: what `emotrace import --labels` reads back as the same raters), an MSP-Podcast `labels_consensus.csv`
and its per-rater `labels_detailed.csv`.

Both read labels through the store's one rule (`Store.labels.segment_labels`). The flat CSV says where each label came
from (origin, rater kind); the MSP file holds human judgements only unless asked, so an accepted model output
never passes as a rater's consensus.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from emotrace.core.store import Store
from emotrace.core.vocab import CONSENSUS_PREFIX, DIMENSIONS, MSP_DIMENSION_COLUMNS, MSP_HEADER, RaterKind, rescale

MSP_DETAILED_HEADER = ["FileName", "WorkerID", "EmoClass", *MSP_DIMENSION_COLUMNS.values()]


def _cell(value) -> str:
    """Spreadsheets run a cell that starts with = + - @ (or a tab/CR) as a formula: quote it as text."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r" and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def export_segments(store: Store, corpus: str, out: str | Path, model_version_id: int | None = None,
                    scale: str = "1-7") -> int:
    """One row per segment with its current label (the store's rule) and the given (default: active) model's
    prediction; labels and predictions on `scale` (the header says which)."""
    corpus_row = store.corpora.corpus(corpus)
    if model_version_id is None:
        active = store.models.active_model()
        model_version_id = active.id if active else None
    files = {f.id: f for f in store.corpora.files(corpus_row.id)}
    segments = store.segments.corpus_segments(corpus_row.id)
    labels = store.labels.segment_labels(corpus_id=corpus_row.id)
    preds = store.predictions.segment_predictions(model_version_id, corpus_id=corpus_row.id) if model_version_id else {}
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        suffix = "" if scale == "1-7" else f"_{scale}"
        writer.writerow(["file", "start", "end", "speaker", "split", "segment_origin", "superseded", "text",
                         "annotators", "label_origin", "rater_kind", *(f"{d}{suffix}" for d in DIMENSIONS),
                         "category", *(f"pred_{d}{suffix}" for d in DIMENSIONS),
                         *(f"{d}_origin" for d in DIMENSIONS)])  # per dimension: manual, accepted, imported, ...
        for seg in segments:
            lab, pred = labels.get(seg.id), preds.get(seg.id)
            label_cells = (["+".join(lab.annotators), lab.origin.value, lab.origin.rater_kind.value,
                            *("" if x is None else rescale(x, scale) for x in lab.values), lab.category or ""]
                           if lab else [""] * 7)
            pred_cells = (["" if x is None else round(rescale(x, scale), 4) for x in pred.values] if pred
                          else [""] * 3)
            origin_cells = [o.value if o is not None else "" for o in lab.origins] if lab else [""] * 3
            writer.writerow([_cell(x) for x in (
                files[seg.file_id].path, f"{seg.start:.3f}", f"{seg.end:.3f}", seg.speaker or "", seg.split or "",
                seg.origin, "yes" if seg.superseded_at else "", seg.text, *label_cells, *pred_cells, *origin_cells)])
    return len(segments)


def export_raters(store: Store, corpus: str, out: str | Path, scale: str = "1-7") -> int:
    """One row per segment and annotator with that annotator's current label: people, accepted model outputs
    (`label_origin` accepted), trace means (`<name> (trace)`, origin trace), an imported consensus (`rater_kind`
    computed) and the computed consensus (`consensus:*`, recomputed on import, never read back as a rater).
    File names relative to the corpus root, so the table moves with the corpus. `emotrace import --labels` reads
    it back as the same current labels, annotators and rater kinds (the flat export's `annotators` cell joins
    several raters and cannot). An open dimension is an empty cell."""
    corpus_row = store.corpora.corpus(corpus)
    root = Path(corpus_row.root) if corpus_row.root else None
    files = {f.id: f for f in store.corpora.files(corpus_row.id)}
    segments = {s.id: s for s in store.segments.corpus_segments(corpus_row.id)}
    kinds = store.raters.rater_kinds()
    labels = store.labels.current_labels(corpus_id=corpus_row.id, include_accepted=True, include_computed=True)
    suffix = "" if scale == "1-7" else f"_{scale}"
    count = 0
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "start", "end", "speaker", "split", "segment_origin", "superseded", "text",
                         "annotator", "label_origin", "rater_kind", *(f"{d}{suffix}" for d in DIMENSIONS), "category"])
        for c in sorted(labels, key=lambda c: (segments[c.segment_id].file_id, segments[c.segment_id].start,
                                               segments[c.segment_id].end, c.annotator)):
            seg = segments[c.segment_id]
            path = Path(files[seg.file_id].path)
            name = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
            kind = (RaterKind.COMPUTED if c.annotator.startswith(CONSENSUS_PREFIX)
                    else RaterKind.MODEL_ASSISTED if c.rater_kind is RaterKind.MODEL_ASSISTED
                    else kinds.get(c.annotator, c.rater_kind))
            writer.writerow([_cell(x) for x in (
                name, f"{seg.start:.3f}", f"{seg.end:.3f}", seg.speaker or "", seg.split or "", seg.origin,
                "yes" if seg.superseded_at else "", seg.text, c.annotator, c.origin.value, kind.value,
                *("" if x is None else rescale(x, scale) for x in c.values), c.category or "")])
            count += 1
    return count


def _msp_segments(store: Store, corpus: str) -> tuple[object, dict, list[tuple[object, str]]]:
    """The corpus row, its files by id, and each segment with its MSP-Podcast file name: relative to the corpus
    root; MSP has one file per turn, so a turn inside a file with several is named `file#start-end`."""
    corpus_row = store.corpora.corpus(corpus)
    root = Path(corpus_row.root) if corpus_row.root else None
    files = {f.id: f for f in store.corpora.files(corpus_row.id)}
    segments = store.segments.corpus_segments(corpus_row.id)
    per_file = Counter(seg.file_id for seg in segments)
    named = []
    for seg in segments:
        path = Path(files[seg.file_id].path)
        name = str(path.relative_to(root)) if root and path.is_relative_to(root) else path.name
        named.append((seg, f"{name}#{seg.start:.3f}-{seg.end:.3f}" if per_file[seg.file_id] > 1 else name))
    return corpus_row, files, named


def export_msp(store: Store, corpus: str, out: str | Path, *, include_accepted: bool = False,
               annotator: str | None = None) -> int:
    """MSP-Podcast form: one labelled segment per row, file names relative to the corpus root. `annotator`
    picks whose values are written (e.g. `consensus:ewe`, or `consensus` for the imported file's own); by
    default each segment's current label by the store's rule."""
    corpus_row, files, named = _msp_segments(store, corpus)
    labels = store.labels.segment_labels(corpus_id=corpus_row.id, include_accepted=include_accepted, annotator=annotator)
    count = 0
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(MSP_HEADER)
        for seg, name in named:
            lab = labels.get(seg.id)
            if lab is None or not lab.complete:
                continue
            audio = files[seg.file_id]
            writer.writerow([_cell(x) for x in (
                name, lab.category or "X", *lab.values, seg.speaker or audio.speaker or "Unknown",
                audio.gender or "Unknown", seg.split or audio.split or "Unknown")])
            count += 1
    return count


def export_msp_detailed(store: Store, corpus: str, out: str | Path) -> int:
    """MSP-Podcast's `labels_detailed.csv`: one row per human rater and segment (their current label), no
    consensus and no accepted prediction; an open dimension is an empty cell."""
    corpus_row, _files, named = _msp_segments(store, corpus)
    by_segment: dict[int, list] = {}
    for c in store.labels.human_labels(corpus_id=corpus_row.id):
        by_segment.setdefault(c.segment_id, []).append(c)
    count = 0
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(MSP_DETAILED_HEADER)
        for seg, name in named:
            for c in sorted(by_segment.get(seg.id, []), key=lambda c: c.annotator):
                writer.writerow([_cell(x) for x in (name, c.annotator, c.category or "",
                                                    *("" if v is None else v for v in c.values))])
                count += 1
    return count
