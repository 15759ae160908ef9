"""`emotrace worker`: take per-file work from the store's queue until there is none, on any machine.

Each worker loads its models once (an ASR model, an SER pipeline, a speaker encoder, as items ask for them),
claims one file at a time, keeps its lease alive from a heartbeat thread, and runs the same per-file code as
the single-process commands (`transcribe_file`, `analyze_files`, `diarize_file`), so results are identical
however many workers share the work. One worker per GPU: `--device cuda:N` (torchrun/SLURM set LOCAL_RANK).
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field

from emotrace.core.audio.decode import AudioError, check_unchanged
from emotrace.core.progress import Cancelled
from emotrace.core.speech.asr import DEFAULT_ASR_MODEL, DEFAULT_BATCH_SIZE, DEFAULT_BEAM_SIZE
from emotrace.core.speech.diarization import DiarizationOptions, SpeakerEncoder, diarize_file
from emotrace.core.store import Store
from emotrace.core.store.queue import Claim
from emotrace.core.vocab import TurnSource
from emotrace.core.workflows.diarize import manually_corrected
from emotrace.core.workflows.tracking import LeaseHeartbeat
from emotrace.core.workflows.transcribe import transcribe_file

KINDS = ("transcribe", "analyze", "diarize")


@dataclass
class WorkerReport:
    name: str
    done: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    lost: int = 0  # items whose lease another worker took over

    def summary(self) -> str:
        return f"worker {self.name}: {self.done} files done, {len(self.failed)} failed, {self.lost} leases lost"


class Worker:
    def __init__(self, store: Store, kinds: tuple[str, ...] = KINDS, *, device: str = "auto",
                 name: str | None = None, lease_seconds: float = 60.0, batch: int | None = None) -> None:
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown work kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
        self.store, self.kinds, self.device, self.lease, self.batch = store, kinds, device, lease_seconds, batch
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self._models: dict[tuple, object] = {}

    def _model(self, key: tuple, load):
        if key not in self._models:
            self._models[key] = load()
        return self._models[key]

    def run(self, *, idle_exit: float | None = 5.0, max_items: int | None = None,
            stop=lambda: False) -> WorkerReport:
        """Work until the queue stays empty for `idle_exit` seconds (None: forever) or `stop()` says so."""
        report = WorkerReport(self.name)
        idle_since = time.monotonic()
        while not stop() and (max_items is None or report.done + len(report.failed) < max_items):
            claim = self.store.queue.claim(self.name, self.kinds, self.lease, batch=self.batch)
            if claim is None:
                if self.batch is not None:  # a batch's worker waits out other workers' leases, then leaves
                    counts = self.store.queue.queue_counts(self.batch)
                    if counts["queued"] + counts["claimed"] == 0:
                        break
                elif idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                    break
                time.sleep(0.5)
                continue
            self._process(claim, report)
            idle_since = time.monotonic()
        return report

    def _process(self, claim: Claim, report: WorkerReport) -> None:
        beat = LeaseHeartbeat(self.store.url, claim.id, self.name, self.lease)
        beat.start()
        error = None
        try:
            getattr(self, f"_{claim.kind}")(claim, lambda: beat.lost)
        except Cancelled:
            report.lost += 1
            return
        except (AudioError, OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            beat.stop.set()
        if self.store.queue.finish(claim.id, self.name, error):
            if error:
                report.failed.append((claim.file_id, error))
            else:
                report.done += 1
        else:
            report.lost += 1

    # -- the kinds of work: the single-process commands' own per-file code ---------------------------
    def _transcribe(self, claim: Claim, cancel) -> None:
        # lazy: a worker loads only the engines (torch, CTranslate2) of the kinds it takes
        from emotrace.core.speech.asr_torch import open_transcriber

        p = claim.params
        beam, batch = p.get("beam_size", DEFAULT_BEAM_SIZE), p.get("batch_size", DEFAULT_BATCH_SIZE)
        key = ("asr", p.get("model", DEFAULT_ASR_MODEL), beam, batch, p.get("backend", "auto"))
        model = self._model(key, lambda: open_transcriber(p.get("model", DEFAULT_ASR_MODEL), device=self.device,
                                                          backend=p.get("backend", "auto"), beam_size=beam,
                                                          batch_size=batch))
        f = self.store.corpora.file(claim.file_id)
        # a redo restarts the file only on its first attempt; a retry resumes after the last committed word
        transcribe_file(self.store, f, model, cancel=cancel, restart=bool(p.get("redo")) and claim.attempts == 1)

    def _analyze(self, claim: Claim, cancel) -> None:
        # lazy: a worker loads only the engines (torch, CTranslate2) of the kinds it takes
        from emotrace.core.ser.pipeline import SERPipeline
        from emotrace.core.workflows.analyze import AnalyzeReport, analyze_files, resolve_model

        version = resolve_model(self.store, claim.params.get("model"))
        pipeline = self._model(("ser", version.id), lambda: SERPipeline(version.folder, device=self.device))
        window = claim.params.get("window") or pipeline.config.window_seconds
        hop = claim.params.get("hop") or pipeline.config.hop_seconds
        report = AnalyzeReport(files=1)
        analyze_files(self.store, pipeline, version.id, [self.store.corpora.file(claim.file_id)], window, hop, report,
                      cancel)
        if report.failed:
            raise ValueError(report.failed[0][1])

    def _diarize(self, claim: Claim, cancel) -> None:
        encoder = self._model(("speakers",), lambda: SpeakerEncoder("cpu" if self.device == "auto" else self.device))
        options = DiarizationOptions(**claim.params.get("options", {}))
        f = self.store.corpora.file(claim.file_id)
        if manually_corrected(self.store, f.id):  # someone's speaker corrections are never replaced by a rerun
            return
        check_unchanged(f.path, f.size_bytes, f.fingerprint)
        turns = diarize_file(f.path, encoder, options, words=self.store.words.words(f.id) or None)
        if cancel():
            raise Cancelled("lease lost")
        if turns:
            self.store.speakers.write_speaker_turns(f.id, turns, TurnSource.DIARIZATION,
                                                    f"{encoder.name} (worker {self.name})")
