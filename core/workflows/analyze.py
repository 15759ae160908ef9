"""`emotrace analyze`: predictions per segment and per-file A/V/D trajectories (sliding windows).

One encoder pass per chunk of each file; segments and every window are pooled from those frames. The words
inside a window are its text. Predictions go to the store under the model version, file by file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from emotrace.core.audio.decode import TARGET_SR, AudioError, AudioSource, check_unchanged
from emotrace.core.errors import UserFacingError
from emotrace.core.progress import CancelFn, ProgressFn, check_cancel, in_file_message, no_progress
from emotrace.core.segmentation import join_words
from emotrace.core.ser.config import MIN_HOP, MIN_WINDOW
from emotrace.core.ser.feature_cache import keep_pooled
from emotrace.core.ser.pipeline import Predictions, SERPipeline
from emotrace.core.ser.pooling import FileRequest, SpanPooler, iter_pooled
from emotrace.core.speech.diarization import change_points
from emotrace.core.store import AudioFile, ModelVersion, PredictionRow, Store
from emotrace.core.vocab import FileStatus, PredictionFlag, PredictionKind
from emotrace.core.workflows.tracking import JobReport, finish_job, tracked_job


@dataclass
class AnalyzeReport(JobReport):
    segments: int = 0
    windows: int = 0
    outside: int = 0  # windows outside the model's training domain (its trust indicator above 1)

    def headline(self) -> str:
        far = f"; {self.outside} windows outside the training domain" if self.outside else ""
        return (f"analyzed {self.done}/{self.files} files: {self.segments} segment and {self.windows} window "
                f"predictions, {len(self.failed)} failed{far}")

    def add(self, other: AnalyzeReport) -> None:
        """Count another corpus's analysis into this one (one report for a job that walks several corpora)."""
        self.files, self.done = self.files + other.files, self.done + other.done
        self.segments, self.windows = self.segments + other.segments, self.windows + other.windows
        self.outside += other.outside
        self.failed += other.failed
        self.notice = self.notice or other.notice


def window_spans(duration: float, window: float, hop: float) -> np.ndarray:
    """Windows `[start, end)` every hop; the last one ends at the file's end. A file shorter than a window
    gets one window over all of it."""
    if duration <= window:
        return np.array([[0.0, duration]])
    starts = np.arange(0.0, duration - window + 1e-9, hop)
    if starts[-1] + window < duration - 1e-6:
        starts = np.append(starts, duration - window)
    return np.stack([starts, starts + window], axis=1)


def split_at_changes(spans: np.ndarray, changes: np.ndarray, min_seconds: float = 0.5) -> np.ndarray:
    """No window spans a speaker change: each is cut at every change inside it, and pieces shorter than
    `min_seconds` are dropped (too little audio of one voice to say anything)."""
    if not len(changes) or not len(spans):
        return spans
    pieces = []
    for start, end in spans:
        inside = changes[(changes > start) & (changes < end)]
        bounds = np.concatenate([[start], inside, [end]])
        pieces += [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b - a >= min_seconds]
    out = np.unique(np.round(np.array(pieces, dtype=np.float64).reshape(-1, 2), 6), axis=0)
    return out[np.lexsort((out[:, 1], out[:, 0]))]


def trajectory_spans(store: Store, f: AudioFile, window: float, hop: float) -> np.ndarray:
    """A file's trajectory windows; with speaker turns, none spans a change (its prediction would mix voices)."""
    spans = window_spans(float(f.duration or 0.0), window, hop)
    turns = store.speakers.speaker_turns(f.id)
    return split_at_changes(spans, change_points(turns)) if turns else spans


def texts_for(spans: np.ndarray, words: list) -> list[str]:
    """Words whose midpoint lies in each span (two pointers over time-ordered words and spans)."""
    mids = np.array([(w.start + w.end) / 2 for w in words]) if words else np.zeros(0)
    lo = np.searchsorted(mids, spans[:, 0], side="left")
    hi = np.searchsorted(mids, spans[:, 1], side="left")
    return [join_words(words[a:b]) for a, b in zip(lo, hi)]


NO_AUDIO = PredictionFlag.NO_AUDIO.value  # the flag of a span with no decodable audio under it


def stack_pooled(feats: list[np.ndarray | None], layers: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """`[N, L, 2D]` and a mask of the spans that had no audio under them (a file shorter than its header said,
    a decode that stopped early). Those rows are zeros only to keep the batch shape: their outputs are flagged,
    never stored as predictions."""
    out = np.zeros((len(feats), layers, 2 * dim), np.float32)
    missing = np.ones(len(feats), dtype=bool)
    for k, x in enumerate(feats):
        if x is not None and x.shape == out.shape[1:] and np.isfinite(x).all():
            out[k] = x
            missing[k] = False
    return out, missing


def resolve_model(store: Store, ref: str | int | None) -> ModelVersion:
    if ref is not None:
        return store.models.model_version(ref)
    active = store.models.active_model()
    if active is None:
        raise UserFacingError("No trained model yet: label segments (or import a labelled corpus) and run "
                              "`emotrace train --corpus NAME`, then analyze again.")
    return active


def check_spans(window: float | None, hop: float | None) -> None:
    """Refuse a window or hop that is not a positive, finite, sensible number of seconds (None: the model's)."""
    for name, value, low in (("window", window, MIN_WINDOW), ("hop", hop, MIN_HOP)):
        if value is not None and not (np.isfinite(value) and value >= low):
            raise UserFacingError(f"--{name} must be at least {low} s, not {value}")


def load_pipeline(version: ModelVersion, device: str) -> SERPipeline:
    """The version's pipeline; a broken folder (truncated, wrong shapes, NaN weights) is one line that says which
    version and what to do, never a traceback from deep inside torch."""
    try:
        return SERPipeline(version.folder, device=device)
    except (OSError, ValueError) as exc:  # ModelFolderError is a ValueError
        raise UserFacingError(f"model v{version.id} ({version.name}) cannot be used: {exc}. Activate another "
                              "version (`emotrace models list`, `emotrace models activate VERSION`) or retrain."
                              ) from exc


def analyze_corpus(
    store: Store, corpus: str, *, model: str | int | None = None, pipeline: SERPipeline | None = None,
    device: str = "auto", window: float | None = None, hop: float | None = None, batch_size: int = 4,
    file_ids: list[int] | None = None, progress: ProgressFn = no_progress, cancel: CancelFn | None = None,
) -> AnalyzeReport:
    check_spans(window, hop)
    version = resolve_model(store, model)
    pipeline = pipeline or load_pipeline(version, device)
    window = window or pipeline.config.window_seconds
    hop = hop or pipeline.config.hop_seconds
    corpus_row = store.corpora.corpus(corpus)
    wanted = None if file_ids is None else set(file_ids)  # a set: a catch-up may name thousands of files
    files = [f for f in store.corpora.files(corpus_row.id, status=FileStatus.OK) if wanted is None or f.id in wanted]
    report = AnalyzeReport(files=len(files), notice=pipeline.encoders.notice)
    by_id = {f.id: f for f in files}
    reached: dict[int, float] = {}  # per file, the furthest final span so far (pieces may end out of order)

    def within(i: int, file_id: int, seconds: float) -> None:
        """How far analysis is inside a file: one long file is one step of the per-file count (issue 24)."""
        f = by_id[file_id]
        seconds = reached[file_id] = max(reached.get(file_id, 0.0), seconds)
        duration = max(float(f.duration or 0.0), seconds, 1e-9)
        progress(i, len(files), in_file_message(f.path.rsplit('/', 1)[-1], seconds, duration))

    with tracked_job(store, "analyze", {"corpus": corpus, "model_version": version.id}) as job:
        for i in range(0, len(files), batch_size):  # a few files at a time: short files share encoder batches
            check_cancel(cancel)
            progress(i, len(files), files[i].path.rsplit("/", 1)[-1])
            analyze_files(store, pipeline, version.id, files[i: i + batch_size], window, hop, report, cancel,
                          on_position=lambda file_id, seconds, i=i: within(i, file_id, seconds))
            store.jobs.update_job(job, progress=min(1.0, (i + batch_size) / max(1, len(files))))
        finish_job(store, job, report.summary(), progress, len(files))
    store.emit("predictions_changed", model_version_id=version.id)
    return report


def unanalysed(store: Store, model_version_id: int, first_corpus: str | None = None) -> list[tuple[str, list[int]]]:
    """Per corpus, the imported files a model has no predictions for, or stale ones (a current segment it has not
    predicted), `first_corpus` first (the one the user looks at), then by name; corpora with nothing left out are
    not listed."""
    plan = []
    for corpus in sorted(store.corpora.corpora(), key=lambda c: (c.name != first_corpus, c.name)):
        done = (store.predictions.predicted_files(corpus.id, model_version_id)
                - store.predictions.stale_files(corpus.id, model_version_id))
        todo = [f.id for f in store.corpora.files(corpus.id, status=FileStatus.OK) if f.id not in done]
        if todo:
            plan.append((corpus.name, todo))
    return plan


def analyze_everywhere(
    store: Store, model: str | int, *, first_corpus: str | None = None, device: str = "auto",
    progress: ProgressFn = no_progress, cancel: CancelFn | None = None,
) -> AnalyzeReport:
    """Bring every corpus up to date with one model (after it was activated): only the files it has not analysed,
    corpus after corpus with one loaded pipeline, `first_corpus` first. One job rather than one per corpus: two
    analyses at once would only contend for the same CPU cores, and each would load the encoders again."""
    version = resolve_model(store, model)
    stale = [fid for c in store.corpora.corpora() for fid in store.predictions.stale_files(c.id, version.id)]
    plan = unanalysed(store, version.id, first_corpus)
    report = AnalyzeReport()
    if not plan:
        report.notice = f"every corpus is already analysed with v{version.id}"
        return report
    progress(0, 1, f"loading v{version.id}")
    pipeline = load_pipeline(version, device)
    if stale:  # segments edited or rebuilt since: only they are predicted, from their own audio
        caught = catch_up_segments(store, stale, version=version, pipeline=pipeline, cancel=cancel)
        report.notice = caught.line().strip()
        plan = unanalysed(store, version.id, first_corpus)
    for k, (corpus, file_ids) in enumerate(plan):
        where = f"{corpus} ({k + 1}/{len(plan)} corpora)"
        report.add(analyze_corpus(store, corpus, model=version.id, pipeline=pipeline, file_ids=file_ids,
                                  progress=lambda d, t, m, w=where: progress(d, t, f"{w}: {m}"), cancel=cancel))
    return report


def analyze_files(store, pipeline, version_id, files: list[AudioFile], window, hop, report, cancel,
                  on_position: Callable[[int, float], None] | None = None) -> None:
    """Spans are predicted as soon as their pooled features are final, so only `[N, 3]` outputs are kept per
    file, never every window's `[layers, 2 x dim]` features (2.2 GB for HuBERT-large on a 3-hour file)."""
    plans = {}
    for f in files:
        try:  # the audio that was imported, or a FAILED line (a rerun retries)
            check_unchanged(f.path, f.size_bytes, f.fingerprint)
        except AudioError as exc:
            report.failed.append((f.path, str(exc)))
            continue
        segments = store.segments.segments(f.id)
        seg_spans = np.array([[s.start, s.end] for s in segments]).reshape(-1, 2)
        win_spans = trajectory_spans(store, f, window, hop)
        texts = [s.text or "" for s in segments] + texts_for(win_spans, store.words.words(f.id))
        plans[f.id] = _FilePlan(f, f.path, segments, np.concatenate([seg_spans, win_spans]), texts)

    def stream(plan: _FilePlan, index: np.ndarray, preds: Predictions) -> None:
        """Store a piece's trajectory windows at once, so the open file view draws them while the file is still
        analysed (they count only once the file's final rows replace them, in `_write`)."""
        windows = index >= len(plan.segments)
        if plan.streaming and windows.any():
            rows = _rows([], plan.spans[index[windows]], _subset(preds, windows), set())
            rows = [r for r, k in zip(rows, index[windows]) if int(k) not in plan.missing]
            plan.streaming = store.predictions.add_partial_windows(plan.file.id, version_id, rows,
                                                                   first=not plan.streamed)
            plan.streamed = True

    _predict_plans(pipeline, plans, cancel, on_position, on_piece=stream)
    for plan in plans.values():
        if plan.error is None and plan.file is not None:  # issue 25 item 4: training reads these segments' features
            keep_pooled(pipeline.encoders.audio, plan.file.fingerprint, plan.pooled_segments)
        if plan.error is None:
            plan.error = non_finite_output(plan, version_id)
        if plan.error is not None:
            report.failed.append((plan.file.path, plan.error))
            continue
        check_cancel(cancel)
        report.outside += _write(store, plan.file.id, version_id, plan.segments, plan.spans, plan.predictions(),
                                 plan.missing)
        report.done += 1
        report.segments += len(plan.segments)
        report.windows += len(plan.spans) - len(plan.segments)


def non_finite_output(plan: _FilePlan, version_id: int) -> str | None:
    """Why a file's predictions must not be stored: the model gave NaN or infinity where there was audio. Those
    used to be stored as `no_audio` under "0 failed"; a broken model is a FAILED line and the file stays
    unanalysed by it."""
    if not plan.parts:
        return None
    fused = plan.predictions().fused
    bad = [k for k in range(len(fused)) if k not in plan.missing and not np.isfinite(fused[k]).all()]
    if not bad:
        return None
    return (f"model v{version_id} gave outputs that are not finite (NaN or infinite) for {len(bad)} of {len(fused)} "
            f"spans with audio: the model is broken; activate another version or retrain")


def predict_spans(pipeline: SERPipeline, path: str, spans: np.ndarray, texts: list[str] | None = None,
                  cancel: CancelFn | None = None) -> tuple[Predictions, set[int]]:
    """Store-free: one audio file's spans through the pipeline, encoded chunk by chunk as analysis does (the
    notebook API's `emotrace.predict`). Returns the predictions and the spans that had no audio under them."""
    plan = _FilePlan(None, str(path), [], np.asarray(spans, dtype=float).reshape(-1, 2),
                     texts if texts is not None else [""] * len(spans))
    _predict_plans(pipeline, {0: plan}, cancel)
    if plan.error is not None:
        raise AudioError(f"{path}: {plan.error}")
    return plan.predictions(), plan.missing


def _predict_plans(pipeline: SERPipeline, plans: dict, cancel: CancelFn | None,
                   on_position: Callable[[object, float], None] | None = None,
                   on_piece: Callable[[_FilePlan, np.ndarray, Predictions], None] | None = None) -> None:
    """Every plan's spans, pooled from one pass over each file's audio (files batched together);
    `on_piece(plan, span_indices, predictions)` and `on_position(key, seconds)` after each piece: what was just
    predicted, and how far into that file its final spans reach."""
    if pipeline.config.uses_audio:
        enc = pipeline.encoders.audio
        requests = [FileRequest(key, plan.path, plan.spans) for key, plan in plans.items()]
        for key, part in iter_pooled(enc, requests, cancel=cancel):
            plan = plans[key]
            if isinstance(part, Exception):
                plan.error = str(part)
                continue
            if not part:  # a file's closing piece when every span was already final
                continue
            index = np.array([k for k, _ in part])
            pooled, missing = stack_pooled([x for _, x in part], enc.num_layers, enc.dim)
            plan.missing.update(int(k) for k in index[missing])
            plan.keep_segments(index, pooled)  # issue 25 item 4: the segments' features, for the feature cache
            preds = _predict(pipeline, plan, index, pooled)
            plan.add(index, preds)
            if on_piece is not None:
                on_piece(plan, index, preds)
            if on_position is not None:
                on_position(key, float(plan.spans[index, 1].max()))
    else:
        for plan in plans.values():
            index = np.arange(len(plan.spans))
            plan.add(index, _predict(pipeline, plan, index, None))


class _FilePlan:
    """One file's spans and texts, and its predictions as they arrive piece by piece."""

    def __init__(self, file: AudioFile | None, path: str, segments: list, spans: np.ndarray, texts: list[str]) -> None:
        self.file, self.path, self.segments, self.spans, self.texts = file, path, segments, spans, texts
        self.error: str | None = None
        self.missing: set[int] = set()  # spans with no audio under them
        self.streaming = file is not None  # its windows are stored piece by piece while it is analysed
        self.streamed = False  # a piece was stored in this run (the first replaces what a killed run left)
        self.parts: list[tuple[np.ndarray, Predictions]] = []
        self.pooled_segments: list[tuple[float, float, np.ndarray]] = []  # (start, end, [L, 2D]) of its segments

    def keep_segments(self, index: np.ndarray, pooled: np.ndarray) -> None:
        """Keep the pooled features of this piece's segments (not its windows: those are many, and no label
        points at them), so analysis leaves them in the training feature cache (issue 25, item 4)."""
        self.pooled_segments += [(float(self.spans[k, 0]), float(self.spans[k, 1]), pooled[j].copy())
                                 for j, k in enumerate(index) if k < len(self.segments)]

    def add(self, index: np.ndarray, preds: Predictions) -> None:
        self.parts.append((index, preds))

    def predictions(self) -> Predictions:
        """All pieces back in span order."""
        order = np.argsort(np.concatenate([index for index, _ in self.parts]), kind="stable")

        def joined(name: str):
            pieces = [getattr(p, name) for _, p in self.parts]
            return None if pieces[0] is None else np.concatenate(pieces)[order]

        return Predictions(joined("fused"), joined("audio_only"), joined("text_only"), joined("uncertainty"),
                           joined("trust"))


def _subset(preds: Predictions, keep: np.ndarray) -> Predictions:
    def part(x):
        return None if x is None else x[keep]

    return Predictions(part(preds.fused), part(preds.audio_only), part(preds.text_only), part(preds.uncertainty),
                       part(preds.trust))


def _predict(pipeline: SERPipeline, plan: _FilePlan, index: np.ndarray, audio: np.ndarray | None) -> Predictions:
    texts = [plan.texts[k] for k in index]
    present = np.array([bool(t) for t in texts], dtype=np.float32)
    text = pipeline.encoders.text.encode(texts).astype(np.float32) if pipeline.config.uses_text else None
    return pipeline.predict(audio, text, present)


def _write(store: Store, file_id: int, version_id: int, segments, spans, preds, missing: set[int]) -> int:
    """Store a file's predictions; returns how many of its windows lie outside the training domain."""
    rows = _rows(segments, spans, preds, missing)
    store.predictions.replace_predictions(file_id, version_id, rows)
    return sum(1 for r in rows if r.kind == PredictionKind.WINDOW and r.trust is not None and r.trust > 1.0)


def _rows(segments, spans, preds, missing: set[int]) -> list[PredictionRow]:
    """Prediction rows: the first `len(segments)` spans are those segments, the rest trajectory windows."""
    n_seg = len(segments)
    rows = []
    for k, (start, end) in enumerate(spans):
        kind = PredictionKind.SEGMENT if k < n_seg else PredictionKind.WINDOW
        segment_id = segments[k].id if k < n_seg else None
        fused = preds.fused[k]
        if k in missing or not np.isfinite(fused).all():
            rows.append(PredictionRow(segment_id, kind, float(start), float(end), (None, None, None), flag=NO_AUDIO))
            continue
        rows.append(PredictionRow(
            segment_id, kind, float(start), float(end), tuple(float(x) for x in fused),
            audio_only=[round(float(x), 4) for x in preds.audio_only[k]] if preds.audio_only is not None else None,
            text_only=[round(float(x), 4) for x in preds.text_only[k]] if preds.text_only is not None else None,
            uncertainty=float(preds.uncertainty[k]) if preds.uncertainty is not None else None,
            trust=round(float(preds.trust[k]), 4) if preds.trust is not None and np.isfinite(preds.trust[k]) else None,
        ))
    return rows


@dataclass
class CatchUp:
    """What `catch_up_segments` did: segments predicted, and why it could not (a FAILED-style note), if so."""
    segments: int = 0
    version: int | None = None
    problem: str = ""

    def line(self) -> str:
        if self.problem:
            return f"  STALE: new segments left without predictions ({self.problem}); `emotrace analyze` catches up"
        return (f"  predicted {self.segments} new segments with v{self.version} from their own audio (no re-analysis)"
                if self.segments else "")


def catch_up_segments(store: Store, file_ids, *, device: str = "auto", pipeline: SERPipeline | None = None,
                      version: ModelVersion | None = None, cancel: CancelFn | None = None) -> CatchUp:
    """After a rebuild of an analysed file's units (diarization, RTTM import, re-transcription), its new current
    segments get predictions of the active model, so "every current segment of an analysed file has a prediction"
    holds right after it. Only the new segments' audio is decoded (one forward pass) and encoded; the windows and
    the other segments' predictions stay. Files the active model never analysed are left alone (they are not
    stale, just unanalysed). `version`: another than the active one (with its `pipeline`)."""
    out = CatchUp()
    version = version or store.models.active_model()
    if version is None:
        return out
    out.version = version.id
    todo = []
    for file_id in dict.fromkeys(file_ids):
        if version.id not in store.predictions.predicted_models(file_id):
            continue
        done = store.predictions.segment_predictions(version.id, file_id=file_id)
        new = [s for s in store.segments.segments(file_id, include_superseded=False) if s.id not in done]
        if new:
            todo.append((store.corpora.file(file_id), new))
    if not todo:
        return out
    try:
        pipeline = pipeline or load_pipeline(version, device)
        for f, segments in todo:
            check_cancel(cancel)
            check_unchanged(f.path, f.size_bytes, f.fingerprint)
            segments = sorted(segments, key=lambda s: s.start)
            plan = _FilePlan(f, f.path, segments, np.array([[s.start, s.end] for s in segments]).reshape(-1, 2),
                             [s.text or "" for s in segments])
            index = np.arange(len(segments))
            pooled = None
            if pipeline.config.uses_audio:
                enc = pipeline.encoders.audio
                pooled, missing = stack_pooled(_pool_spans(enc, f.path, plan.spans, cancel), enc.num_layers, enc.dim)
                plan.missing.update(int(k) for k in index[missing])
            plan.add(index, _predict(pipeline, plan, index, pooled))
            problem = non_finite_output(plan, version.id)
            if problem:
                raise AudioError(problem)
            out.segments += store.predictions.add_segment_predictions(
                f.id, version.id, _rows(segments, plan.spans, plan.predictions(), plan.missing))
    except (UserFacingError, AudioError, OSError) as exc:
        out.problem = str(exc)
    return out


def _pool_spans(enc, path: str, spans: np.ndarray, cancel: CancelFn | None, batch: int = 8) -> list[np.ndarray | None]:
    """Each span's pooled `[L, 2D]` features from its own audio only: the spans' audio (read forward in one decode
    pass) is laid end to end and encoded in the encoder's chunks, as analysis encodes a file, so short segments
    share a chunk (an encoder with a fixed input length, Whisper's 30 s, would otherwise pay a whole chunk for
    each). A catch-up encodes the new segments' seconds, not the file; memory holds a batch of chunks."""
    lengths = [max(0, int(round(e * TARGET_SR)) - int(round(s * TARGET_SR))) for s, e in spans]
    ends = np.cumsum(lengths) / TARGET_SR
    pooler = SpanPooler(np.stack([ends - np.array(lengths) / TARGET_SR, ends], axis=1), enc.frame_rate)
    step = int(enc.chunk_seconds * TARGET_SR)

    def chunks():
        reader, held, at = AudioSource(path).forward_reader(), [], 0
        for (start, end), n in zip(spans, lengths):  # spans sorted by start: the reader only moves forward
            audio = reader.read(start, end)[:n]
            held.append(np.pad(audio, (0, n - len(audio))))  # past the audio's end: silence keeps the layout
            joined = np.concatenate(held)
            while len(joined) >= step:
                yield joined[:step], at
                joined, at = joined[step:], at + step
            held = [joined]
        if held and len(held[0]):
            yield held[0], at

    stream, feats = chunks(), [None] * len(spans)
    while group := [c for _, c in zip(range(batch), stream)]:
        check_cancel(cancel)
        for (_audio, at), frames in zip(group, enc.encode_batch([audio for audio, _ in group])):
            pooler.add(frames, at / TARGET_SR)
    pooler.close()
    for k, x in pooler.finished():
        feats[k] = x
    return feats
