"""`emotrace transcribe`: every file of a corpus through an ASR engine, written to the store as it comes
(resumable at word granularity), then cut into the units SER works on (`build_units`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from emotrace.core.audio.decode import TARGET_SR, AudioError, AudioSource, check_unchanged
from emotrace.core.progress import CancelFn, ProgressFn, check_cancel, in_file_message, no_progress
from emotrace.core.segmentation import (
    MIN_SPEECH_SECONDS,
    TimedWord,
    join_words,
    speech_without_words,
    utterances,
    word_in,
)
from emotrace.core.speech.asr import CHUNK_SECONDS, Transcriber, repair_word_times
from emotrace.core.speech.diarization import speaker_at, speech_regions
from emotrace.core.store import AudioFile, SegmentSpec, Store, SupersedeResult
from emotrace.core.store.speakers import overlap_speaker
from emotrace.core.vocab import SegmentOrigin
from emotrace.core.workflows.analyze import CatchUp, catch_up_segments
from emotrace.core.workflows.tracking import JobReport, claim_file, finish_job, tracked_job


@dataclass
class TranscribeReport(JobReport):
    skipped: int = 0
    words: int = 0
    no_words: list[tuple[float, float]] = field(default_factory=list)  # VAD speech the ASR left empty: segments too
    kept_labelled: list[tuple[str, int, int]] = field(default_factory=list)  # (path, segments, label rows)
    transcribed: list[int] = field(default_factory=list)  # files whose units were (re)built
    caught_up: CatchUp = field(default_factory=CatchUp)  # new segments of analysed files, predicted at once

    def headline(self) -> str:
        lines = [f"transcribed {self.done} files ({self.words} words), {self.skipped} already done, "
                 f"{len(self.failed)} failed"]
        if self.no_words:
            lines.append(f"  NOTE {len(self.no_words)} stretches of speech ({sum(b - a for a, b in self.no_words):.0f} s) "
                         "had no words from the ASR: they are segments too, flagged 'no words', to label by ear")
        lines += [f"  KEPT {path}: {n} labelled segments of the earlier transcript stay, with their {k} label rows, "
                  f"beside the new utterances (marked superseded; still shown, exported and trained on)"
                  for path, n, k in self.kept_labelled]
        lines += [line for line in [self.caught_up.line()] if line]
        return "\n".join(lines)


def transcribe_corpus(
    store: Store, corpus: str, transcriber: Transcriber, *, progress: ProgressFn = no_progress,
    cancel: CancelFn | None = None, redo: bool = False,
) -> TranscribeReport:
    """Transcribe every decodable file of a corpus not transcribed yet; resumable at word granularity."""
    corpus_row = store.corpora.corpus(corpus)
    files = store.corpora.files(corpus_row.id, status="ok")
    report = TranscribeReport(files=len(files), notice=transcriber.notice)
    with tracked_job(store, "transcribe", {"corpus": corpus, "model": transcriber.label}) as job:
        for i, f in enumerate(files):
            check_cancel(cancel)
            progress(i, len(files), f.path.rsplit("/", 1)[-1])
            if f.transcribed_at is not None and not redo:
                report.skipped += 1
                continue
            with claim_file(store, "transcribe", f.id, job=job) as claim:  # one process per file, or words twice
                if claim is None:
                    report.busy.append(f.path)
                    continue
                f = store.corpora.file(f.id)
                if f.transcribed_at is not None and not redo:  # finished by another process meanwhile
                    report.skipped += 1
                    continue
                try:
                    name = f.path.rsplit("/", 1)[-1]
                    words, superseded = transcribe_file(
                        store, f, transcriber, cancel=claim.cancel(cancel), restart=redo,
                        on_position=lambda t, d, i=i, name=name: progress(i, len(files), in_file_message(name, t, d)))
                    report.words += words
                    report.no_words += list(superseded.no_words)
                    report.done += 1
                    report.transcribed.append(f.id)
                    if superseded.kept_labelled:
                        report.kept_labelled.append((f.path, superseded.kept_labelled, superseded.labels_kept))
                except (AudioError, OSError) as exc:
                    report.failed.append((f.path, str(exc)))
            store.jobs.update_job(job, progress=(i + 1) / max(1, len(files)))
        report.caught_up = catch_up_segments(store, report.transcribed, cancel=cancel)  # analysed files only
        finish_job(store, job, report.summary(), progress, len(files))
    return report


def transcribe_file(store: Store, f: AudioFile, transcriber: Transcriber, *, cancel: CancelFn | None = None,
                    restart: bool = False, on_position: Callable[[float, float], None] | None = None,
                    vad: Callable[..., list[tuple[float, float]]] = speech_regions) -> tuple[int, SupersedeResult]:
    """Words go to the store per ASR segment; a rerun starts after the last stored word. Returns the word count
    and what rebuilding the units did to earlier ones. `on_position(seconds, duration)` follows the work
    within the file: an hour-long file is one step of a per-file count, and "0/3" for minutes says nothing."""
    check_unchanged(f.path, f.size_bytes, f.fingerprint)  # changed on disk: FAILED, never "0 words, done"
    # where to go on, and the spans of words corrected by hand (the annotator's work: a rerun keeps them)
    resume_at, hand = store.words.transcription_start(f.id, restart=restart)
    source = AudioSource(f.path)
    reader = source.forward_reader()  # chunks only move forward: one decode pass for the whole file
    count = 0
    chunk_start = resume_at
    duration = f.duration or source.duration
    speech: list[tuple[float, float]] = []  # the VAD's speech: where the ASR left it empty, segments are made too
    while chunk_start < duration - 0.05:
        check_cancel(cancel)
        chunk_end = min(duration, chunk_start + CHUNK_SECONDS)
        audio = reader.read(chunk_start, chunk_end)
        if len(audio) < TARGET_SR * 0.1:
            break
        last_end = chunk_start
        speech += vad(audio, offset=chunk_start)
        for seg in transcriber.transcribe(audio, offset=chunk_start):
            check_cancel(cancel)
            words = repair_word_times([w for w in seg.words if w.start >= resume_at - 1e-3 and w.text.strip()
                                       and not any(a <= (w.start + w.end) / 2 <= b for a, b in hand)],
                                      seg.end)
            if not words:
                continue
            count += store.words.append_asr_words(f.id, words)  # committed per segment: an interrupted run keeps it
            last_end = max(last_end, words[-1].end)
            if on_position is not None:
                on_position(float(seg.end), float(duration))
        if chunk_end >= duration:
            break
        # Start the next chunk at the last word's end so a word cut by the chunk edge is heard again whole.
        chunk_start = max(chunk_end - 5.0, last_end) if last_end > chunk_start else chunk_end
        resume_at = chunk_start
    superseded = build_units(store, f.id, speech=speech)
    store.corpora.mark_transcribed(f.id, transcriber.label)
    return count, superseded


def build_units(store: Store, file_id: int, speech: list[tuple[float, float]] | None = None) -> SupersedeResult:
    """Imported and drawn segments (a split or merge included) are the annotator's segmentation: they keep their
    bounds and get their words (a word straddling one's edge is that segment's). The words outside every kept
    segment become utterance units, cut at speaker changes (when the file has speaker turns), ASR segment ends,
    pauses and kept segments (a unit never overlaps one: migration 0010 leaves imported segments out of the
    database's rule, so this is where that holds). An ELAN/Praat user imports 6 s of a 30 s file and expects the
    other 24 s segmented too. Earlier ASR units make way (`Store.segments.replace_units`, one transaction): the
    unlabelled ones go, the labelled ones stay beside the new units with every label, and job assignments follow
    the new units. Speech the VAD found (`speech`) and the ASR left without words becomes a segment too, with
    empty text (read as "no words"), outside every kept segment and unit; a rebuild (after diarization) keeps those."""
    words = store.words.words(file_id)
    segments = store.segments.segments(file_id, include_superseded=False)
    kept = sorted((seg for seg in segments if seg.origin in (SegmentOrigin.IMPORTED, SegmentOrigin.MANUAL)),
                  key=lambda seg: seg.start)
    owner = {w.id: _kept_owner(w, kept) for w in words}
    if kept:
        store.segments.set_segment_texts(file_id, {
            seg.id: (join_words(inside), [w.id for w in inside])
            for seg in kept for inside in [[w for w in words if owner[w.id] is seg]]})
    free = [w for w in words if owner[w.id] is None]
    silent = [(s.start, s.end) for s in segments if s.origin == SegmentOrigin.ASR and not (s.text or "").strip()]
    audio = store.corpora.file(file_id)
    turns = store.speakers.speaker_turns(file_id)  # utterances never span two speakers
    specs = []
    for run in _runs_between(kept, free):
        timed = [TimedWord(w.start, w.end, w.text, bool(w.segment_end),
                           (overlap_speaker(turns, w.start, max(w.end, w.start + 1e-3))
                            or speaker_at(turns, (w.start + w.end) / 2)) if turns else None)
                 for w in run]
        index = 0
        for unit in utterances(timed):
            ids = tuple(w.id for w in run[index:index + len(unit)])
            index += len(unit)
            speaker = next((w.speaker for w in unit if w.speaker), None) or audio.speaker
            specs.append(SegmentSpec(unit[0].start, unit[-1].end, SegmentOrigin.ASR, join_words(unit), speaker,
                                     audio.split, ids))
    # speech that holds no word, cut outside every kept segment and unit: the VAD's speech in a pause within a unit,
    # or over a unit's last word, had become a segment over the unit, and the database refused the whole file
    no_words = [(a, b) for a, b in _outside([*kept, *specs], speech_without_words([*silent, *(speech or [])], words))
                if b - a >= MIN_SPEECH_SECONDS]
    specs += [SegmentSpec(a, b, SegmentOrigin.ASR, "", (speaker_at(turns, (a + b) / 2) if turns else None)
                          or audio.speaker, audio.split) for a, b in no_words]
    result = store.segments.replace_units(file_id, SegmentOrigin.ASR, sorted(specs, key=lambda spec: spec.start))
    return replace(result, no_words=tuple(no_words))


def _kept_owner(word, kept):
    """The kept segment a word belongs to: the one holding its midpoint (`word_in`), else the one it straddles
    (most overlap); None when it lies outside every kept segment."""
    hold = next((seg for seg in kept if word_in(word, seg.start, seg.end)), None)
    if hold is not None:
        return hold
    touched = [seg for seg in kept if word.start < seg.end and seg.start < word.end]
    return max(touched, key=lambda seg: min(word.end, seg.end) - max(word.start, seg.start)) if touched else None


def _runs_between(kept, words):
    """Words (in time order, none inside a kept segment) cut into runs that no kept segment lies within, so a
    unit made from one run never covers a kept segment."""
    runs: list[list] = []
    for w in words:
        if runs and not any(runs[-1][-1].end < seg.end and seg.start < w.start for seg in kept):
            runs[-1].append(w)
        else:
            runs.append([w])
    return runs


def _outside(taken, spans):
    """`spans` with every span of `taken` (kept segments, units) cut out of them; one sweep over both, sorted
    (an hour's VAD regions against its units)."""
    blocked: list[list[float]] = []
    for seg in sorted(taken, key=lambda seg: seg.start):
        if blocked and seg.start <= blocked[-1][1]:
            blocked[-1][1] = max(blocked[-1][1], seg.end)
        else:
            blocked.append([seg.start, seg.end])
    out, first = [], 0
    for a, b in sorted((float(a), float(b)) for a, b in spans):
        while first < len(blocked) and blocked[first][1] <= a:
            first += 1
        x = a
        for start, end in blocked[first:]:
            if start >= b:
                break
            if start > x:
                out.append((x, start))
            x = max(x, end)
        if x < b:
            out.append((x, b))
    return out
