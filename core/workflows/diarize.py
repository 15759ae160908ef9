"""Corpus jobs for speakers: diarize every file, import RTTM (core.formats.rttm reads and writes the format).
Each writes turns through the store's speaker repository (a new revision, nothing removed) and rebuilds a
transcribed file's utterances so they are cut at speaker changes; labels are not touched."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from emotrace.core.audio.decode import AudioError, check_unchanged
from emotrace.core.formats.rttm import import_rttm as write_turns
from emotrace.core.progress import CancelFn, ProgressFn, check_cancel, no_progress
from emotrace.core.speech.diarization import DiarizationOptions, SpeakerEncoder, diarize_file
from emotrace.core.store import Store
from emotrace.core.vocab import FileStatus, TurnSource
from emotrace.core.workflows.tracking import JobReport, finish_job, tracked_job
from emotrace.core.workflows.transcribe import build_units


@dataclass
class DiarizeReport(JobReport):
    speakers: dict[str, int] = field(default_factory=dict)  # path -> speakers found
    kept_labelled: int = 0

    def headline(self) -> str:
        found = ", ".join(f"{Path(p).name}: {n}" for p, n in list(self.speakers.items())[:8])
        more = f" (+{len(self.speakers) - 8} more)" if len(self.speakers) > 8 else ""
        lines = [f"diarized {self.done}/{self.files} files, {len(self.failed)} failed; speakers per file: "
                 f"{found or '-'}{more}"]
        if self.kept_labelled:
            lines.append(f"  KEPT {self.kept_labelled} labelled utterances of the earlier units beside the new ones "
                         "(marked superseded; their labels unchanged)")
        return "\n".join(lines)


def _rebuild_units(store: Store, file_id: int, report) -> None:
    if store.corpora.file(file_id).transcribed_at is not None:
        report.kept_labelled += build_units(store, file_id).kept_labelled


def diarize_corpus(store: Store, corpus: str, options: DiarizationOptions = DiarizationOptions(), *,
                   device: str = "cpu", progress: ProgressFn = no_progress,
                   cancel: CancelFn | None = None) -> DiarizeReport:
    corpus_row = store.corpora.corpus(corpus)
    files = store.corpora.files(corpus_row.id, status=FileStatus.OK)
    report = DiarizeReport(files=len(files))
    encoder = SpeakerEncoder(device)
    with tracked_job(store, "diarize", {"corpus": corpus, "pipeline": SpeakerEncoder.name}) as job:
        for i, f in enumerate(files):
            check_cancel(cancel)
            progress(i, len(files), Path(f.path).name)
            try:
                check_unchanged(f.path, f.size_bytes, f.fingerprint)  # changed on disk: FAILED, never 0 speakers
                turns = diarize_file(f.path, encoder, options, words=store.words.words(f.id) or None)
            except (AudioError, OSError) as exc:
                report.failed.append((f.path, str(exc)))
                continue
            if turns:
                note = f"{SpeakerEncoder.name}, {len({t.speaker for t in turns})} speakers"
                store.speakers.write_speaker_turns(f.id, turns, TurnSource.DIARIZATION, note)
                _rebuild_units(store, f.id, report)
            report.speakers[f.path] = len({t.speaker for t in turns})
            report.done += 1
            store.jobs.update_job(job, progress=(i + 1) / max(1, len(files)))
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
    return report
