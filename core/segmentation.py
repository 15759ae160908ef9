"""Turn ASR output into the units SER works on: utterances of about 2.75-11 s, cut at word boundaries."""

from __future__ import annotations

from dataclasses import dataclass

MIN_SECONDS = 2.75
MAX_SECONDS = 11.0
PAUSE = 0.5  # a gap this long is a natural cut once the unit is long enough
HARD_PAUSE = 2.0  # a gap this long always cuts


@dataclass(frozen=True)
class TimedWord:
    start: float
    end: float
    text: str
    segment_end: bool = False  # the ASR segment ended after this word
    speaker: str | None = None  # from speaker turns (RTTM), when the file has them


def utterances(words: list[TimedWord], min_s: float = MIN_SECONDS, max_s: float = MAX_SECONDS) -> list[list[TimedWord]]:
    """Greedy: grow a unit word by word; cut at ASR segment ends or pauses once it reaches min_s, never
    let it pass max_s, always at a change of speaker (one utterance, one speaker: a turn boundary is where the
    emotion's owner changes), then merge a short leftover into its neighbour when that stays within max_s and
    the speaker is the same."""
    units: list[list[TimedWord]] = []
    cur: list[TimedWord] = []
    for i, w in enumerate(words):
        if cur and (w.end - cur[0].start > max_s or w.start - cur[-1].end >= HARD_PAUSE
                    or _speaker_change(cur[-1], w)):
            units.append(cur)
            cur = []
        cur.append(w)
        nxt = words[i + 1] if i + 1 < len(words) else None
        gap = (nxt.start - w.end) if nxt else 0.0
        if w.end - cur[0].start >= min_s and (w.segment_end or gap >= PAUSE):
            units.append(cur)
            cur = []
    if cur:
        units.append(cur)
    merged: list[list[TimedWord]] = []
    for unit in units:
        if merged and _mergeable(merged[-1], unit, min_s, max_s):
            merged[-1] = merged[-1] + unit
        else:
            merged.append(unit)
    return merged


def _mergeable(prev: list[TimedWord], unit: list[TimedWord], min_s: float, max_s: float) -> bool:
    """Either side shorter than min_s, the join within max_s, the same speaker and no hard pause between them."""
    short = unit[-1].end - unit[0].start < min_s or prev[-1].end - prev[0].start < min_s
    return (short and not _speaker_change(prev[-1], unit[0]) and unit[-1].end - prev[0].start <= max_s
            and unit[0].start - prev[-1].end < HARD_PAUSE)


def _speaker_change(a: TimedWord, b: TimedWord) -> bool:
    return a.speaker is not None and b.speaker is not None and a.speaker != b.speaker


NO_WORDS = "(no words)"  # how a segment of speech the ASR left without words reads (its stored text is empty)
MIN_SPEECH_SECONDS = 0.3  # shorter VAD speech without words is a click or a breath, not a segment


def speech_without_words(speech, words, min_s: float = MIN_SPEECH_SECONDS) -> list[tuple[float, float]]:
    """The VAD's speech regions (merged where they overlap) that hold no word (by `word_in`): speech the ASR
    dropped, which still wants a label."""
    merged: list[list[float]] = []
    for a, b in sorted((float(a), float(b)) for a, b in speech):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged if b - a >= min_s and not any(word_in(w, a, b) for w in words)]


def word_in(word, start: float, end: float) -> bool:
    """THE rule for which segment a word belongs to: the one holding its midpoint (half-open, so a word exactly
    on a cut belongs to the later segment only)."""
    return start <= (word.start + word.end) / 2 < end


def join_words(words) -> str:
    return "".join(getattr(w, "text", w) for w in words).strip()
