"""Training examples from the store: labelled segments with their audio, words and a speaker-disjoint split."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from emotrace.core.speech.diarization import speaker_key
from emotrace.core.store import Store
from emotrace.core.vocab import ConsensusRule, FileStatus, LabelOrigin

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


TARGETS = ("labels", "traces", "both")


def target_origins(targets: str) -> list[LabelOrigin] | None:
    """Which label origins a training target set means: segment labels, trace means, or both."""
    if targets not in TARGETS:
        raise ValueError(f"targets must be one of {', '.join(TARGETS)}, not {targets!r}")
    if targets == "both":
        return None
    return [LabelOrigin.TRACE] if targets == "traces" else [o for o in LabelOrigin if o is not LabelOrigin.TRACE]


def load_examples(store: Store, corpus: str, annotator: str | None = None, *, include_accepted: bool = False,
                  rule: ConsensusRule | str = ConsensusRule.LATEST, targets: str = "labels") -> list[Example]:
    """One example per segment with a complete current label (the store's rule; of one annotator when given).

    Accepted predictions are the model's own output: trained on only when asked (`include_accepted`). `targets`:
    segment labels, the means of continuous traces over segments (origin `trace`), or both. Segments
    whose file's audio was replaced are skipped (the labels stay in the store), and so is a segment that was
    split, merged or resized into segments all labelled anew (`Store.segments.replaced_segments`). Splits as imported,
    else by speaker."""
    corpus_row = store.corpora.corpus(corpus)
    files = {f.id: f for f in store.corpora.files(corpus_row.id, status=FileStatus.OK)}
    labels = store.labels.segment_labels(corpus_id=corpus_row.id, annotator=annotator, include_accepted=include_accepted,
                                         rule=rule, origins=target_origins(targets))
    complete = {sid for sid, label in labels.items() if label.complete}
    replaced = store.segments.replaced_segments(corpus_row.id, complete)  # split/merged/resized and judged anew: not twice
    chosen = [(seg, files[seg.file_id], labels[seg.id]) for seg in store.segments.corpus_segments(corpus_row.id)
              if seg.id in complete and seg.id not in replaced and seg.file_id in files]
    imported_splits = any((seg.split or audio.split) for seg, audio, _ in chosen)
    examples = []
    for seg, audio, label in chosen:
        speaker = speaker_key(seg.speaker, audio.fingerprint) or audio.speaker
        if imported_splits:
            split = seg.split or audio.split or TRAIN
        else:
            split = _bucket(f"spk:{speaker}" if speaker else f"file:{audio.fingerprint}")
        examples.append(Example(seg.id, audio.id, audio.path, audio.fingerprint, seg.start, seg.end, seg.text,
                                speaker, split, tuple(float(x) for x in label.values)))
    return sorted(examples, key=lambda e: (e.path, e.start, e.segment_id))


def check_speaker_disjoint(examples: list[Example]) -> None:
    seen: dict[str, str] = {}
    for e in examples:
        if e.speaker is None:
            continue
        if seen.setdefault(e.speaker, e.split) != e.split:
            raise ValueError(f"speaker {e.speaker} is in both {seen[e.speaker]} and {e.split}")


def labels_array(examples: list[Example]) -> np.ndarray:
    return np.array([e.label for e in examples], dtype=np.float32).reshape(-1, 3)
