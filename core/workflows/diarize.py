"""Corpus jobs for speakers: diarize every file, import RTTM (core.formats.rttm reads and writes the format).
Each writes turns through the store's speaker repository (a new revision, nothing removed) and rebuilds a
transcribed file's utterances so they are cut at speaker changes; labels are not touched."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from emotrace.core.audio.decode import AudioError, check_unchanged
from emotrace.core.formats.rttm import import_rttm as write_turns
from emotrace.core.progress import CancelFn, ProgressFn, check_cancel, in_file_message, no_progress
from emotrace.core.speech.diarization import DiarizationOptions, SpeakerEncoder, diarize_file
from emotrace.core.store import Store
from emotrace.core.store.speakers import UNDO_NOTE
from emotrace.core.vocab import FileStatus, TurnSource
from emotrace.core.workflows.analyze import CatchUp, catch_up_segments
from emotrace.core.workflows.tracking import JobReport, claim_file, finish_job, tracked_job
from emotrace.core.workflows.transcribe import build_units


@dataclass
class DiarizeReport(JobReport):
    speakers: dict[str, int] = field(default_factory=dict)  # path -> speakers found
    kept_labelled: int = 0
    skipped: int = 0  # already diarized (a rerun after a killed run does not diarize a finished file again)
    kept_manual: list[str] = field(default_factory=list)  # files whose turns carry someone's corrections
    rebuilt: list[int] = field(default_factory=list)  # files whose units were rebuilt at the new turns
    caught_up: CatchUp = field(default_factory=CatchUp)  # their new segments' predictions (analysed files)

    def headline(self) -> str:
        found = ", ".join(f"{Path(p).name}: {n}" for p, n in list(self.speakers.items())[:8])
        more = f" (+{len(self.speakers) - 8} more)" if len(self.speakers) > 8 else ""
        lines = [f"diarized {self.done}/{self.files} files, {len(self.failed)} failed; speakers per file: "
                 f"{found or '-'}{more}"]
        if self.skipped:
            lines.append(f"  {self.skipped} files already diarized (--redo diarizes them again)")
        lines += [f"  KEPT {p}: its speaker turns carry manual corrections (rename, reassign, split); a new "
                  "diarization would replace them, so it was not run (`speakers undo` back to the diarization, "
                  "then --redo, to replace them)" for p in self.kept_manual]
        if self.kept_labelled:
            lines.append(f"  KEPT {self.kept_labelled} labelled utterances of the earlier units beside the new ones "
                         "(marked superseded; their labels unchanged)")
        lines += [line for line in [self.caught_up.line()] if line]
        return "\n".join(lines)


def _rebuild_units(store: Store, file_id: int, report) -> None:
    if store.corpora.file(file_id).transcribed_at is not None:
        report.kept_labelled += build_units(store, file_id).kept_labelled
        report.rebuilt.append(file_id)


def manually_corrected(store: Store, file_id: int) -> bool:
    """Whether the file's standing turns are someone's correction (the newest revision is manual, not an undo)."""
    revisions = store.speakers.speaker_revisions(file_id)
    return bool(revisions) and revisions[-1].source == TurnSource.MANUAL and \
        not (revisions[-1].note or "").startswith(UNDO_NOTE)


def diarize_corpus(store: Store, corpus: str, options: DiarizationOptions = DiarizationOptions(), *,
                   device: str = "cpu", progress: ProgressFn = no_progress,
                   cancel: CancelFn | None = None, redo: bool = False) -> DiarizeReport:
    """Speaker turns for every file not diarized yet (all with `redo`), one process per file (the work queue's
    claim); a file whose turns someone corrected by hand keeps them, and the report says so. Within a file,
    `progress` hears how far it is, written as transcribe and analyze write it ("talk.flac 40% (2:00 of 5:00)")."""
    corpus_row = store.corpora.corpus(corpus)
    files = store.corpora.files(corpus_row.id, status=FileStatus.OK)
    report = DiarizeReport(files=len(files))
    encoder = SpeakerEncoder(device)
    with tracked_job(store, "diarize", {"corpus": corpus, "pipeline": SpeakerEncoder.name}) as job:
        for i, f in enumerate(files):
            check_cancel(cancel)
            progress(i, len(files), Path(f.path).name)
            with claim_file(store, "diarize", f.id, job=job) as claim:
                if claim is None:
                    report.busy.append(f.path)
                    continue
                if manually_corrected(store, f.id):
                    report.kept_manual.append(f.path)
                    continue
                if store.speakers.speaker_revisions(f.id) and not redo:
                    report.skipped += 1
                    continue
                try:
                    check_unchanged(f.path, f.size_bytes, f.fingerprint)  # changed on disk: FAILED, never 0 speakers
                    name = Path(f.path).name
                    turns = diarize_file(f.path, encoder, options, words=store.words.words(f.id) or None,
                                         on_position=lambda t, d, i=i, name=name: progress(
                                             i, len(files), in_file_message(name, t, d)))
                except (AudioError, OSError) as exc:
                    report.failed.append((f.path, str(exc)))
                    continue
                check_cancel(claim.cancel(cancel))
                if turns:
                    note = f"{SpeakerEncoder.name}, {len({t.speaker for t in turns})} speakers"
                    store.speakers.write_speaker_turns(f.id, turns, TurnSource.DIARIZATION, note)
                    _rebuild_units(store, f.id, report)
                report.speakers[f.path] = len({t.speaker for t in turns})
                report.done += 1
            store.jobs.update_job(job, progress=(i + 1) / max(1, len(files)))
        report.caught_up = catch_up_segments(store, report.rebuilt, device=device, cancel=cancel)
        finish_job(store, job, report.summary(), progress, len(files))
    return report


def import_rttm(store: Store, corpus: str, path: str | Path) -> DiarizeReport:
    """Turns from an RTTM (core.formats.rttm), then each transcribed file's utterances rebuilt at its turns."""
    written = write_turns(store, corpus, path)
    report = DiarizeReport(files=len(written))
    by_path = {f.path: f.id for f in store.corpora.files(store.corpora.corpus(corpus).id)}
    for file_path in written:
        _rebuild_units(store, by_path[file_path], report)
        report.speakers[file_path] = len({t.speaker for t in store.speakers.speaker_turns(by_path[file_path])})
        report.done += 1
    report.caught_up = catch_up_segments(store, report.rebuilt)
    return report
