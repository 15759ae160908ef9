"""Training examples from the store: labelled segments with their audio, words and a speaker-disjoint split."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from core.store import AudioFile, Label, Segment, Store

TRAIN, DEV, TEST = "Train", "Development", "Test1"


@dataclass(frozen=True)
class Example:
    segment_id: int
    file_id: int
    path: str
    fingerprint: str
    start: float
    end: float
    text: str
    speaker: str | None
    split: str
    label: tuple[float, float, float]


def _bucket(key: str) -> str:
    """Deterministic 70/15/15 by a hash of the speaker (or file): no speaker is ever in two splits."""
    h = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 100
    return TRAIN if h < 70 else DEV if h < 85 else TEST


def load_examples(store: Store, corpus: str, annotator: str | None = None) -> list[Example]:
    """The latest label per segment (of one annotator when given); splits as imported, else by speaker."""
    corpus_row = store.corpus(corpus)
    with store.session() as s:
        rows = s.execute(
            select(Label, Segment, AudioFile)
            .join(Segment, Segment.id == Label.segment_id)
            .join(AudioFile, AudioFile.id == Segment.file_id)
            .where(AudioFile.corpus_id == corpus_row.id, AudioFile.status == "ok")
            .where(*([Label.annotator == annotator] if annotator else []))
            .order_by(Label.segment_id, Label.created_at, Label.id)
        ).all()
    latest: dict[int, tuple] = {}
    for label, seg, audio in rows:
        if None in (label.arousal, label.valence, label.dominance):
            continue
        latest[seg.id] = (label, seg, audio)
    imported_splits = any((seg.split or audio.split) for _, seg, audio in latest.values())
    examples = []
    for label, seg, audio in latest.values():
        speaker = seg.speaker or audio.speaker
        if imported_splits:
            split = seg.split or audio.split or TRAIN
        else:
            split = _bucket(f"spk:{speaker}" if speaker else f"file:{audio.fingerprint}")
        examples.append(Example(seg.id, audio.id, audio.path, audio.fingerprint, seg.start, seg.end,
                                seg.text or "", speaker, split, (label.arousal, label.valence, label.dominance)))
    return sorted(examples, key=lambda e: (e.path, e.start))


def check_speaker_disjoint(examples: list[Example]) -> None:
    seen: dict[str, str] = {}
    for e in examples:
        if e.speaker is None:
            continue
        if seen.setdefault(e.speaker, e.split) != e.split:
            raise ValueError(f"speaker {e.speaker} is in both {seen[e.speaker]} and {e.split}")


def labels_array(examples: list[Example]) -> np.ndarray:
    return np.array([e.label for e in examples], dtype=np.float32).reshape(-1, 3)
