"""The job subcommands (transcribe, analyze, train, evaluate, models, gui), kept apart from the core CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from emotrace.cli.argtypes import device, number, plain_name, seconds, version, whole, work_kinds
from emotrace.cli.common import open_store, run_with_bar
from emotrace.core.errors import UserFacingError
from emotrace.core.formats import traces as tr
from emotrace.core.formats.interchange import rater_name
from emotrace.core.progress import TqdmProgress
from emotrace.core.ser.hub import DEFAULT_TEXT, OFFLINE_AUDIO
from emotrace.core.speech.asr import DEFAULT_ASR_MODEL, DEFAULT_BATCH_SIZE, DEFAULT_BEAM_SIZE
from emotrace.core.stats.traces import trace_agreement
from emotrace.core.vocab import DIMENSIONS, SCALES, FileStatus


def _queue_options(p) -> None:
    p.add_argument("--workers", type=whole(0, 256), default=0,
                   help="spread the files over N local worker processes (through the store's queue)")
    p.add_argument("--queue", action="store_true",
                   help="only queue the files, for `emotrace worker` processes on any machine sharing the store")


def _through_queue(args, kind: str, params: dict, only_new=None) -> int | None:
    """`--queue` / `--workers N`: queue the corpus's files for this kind; with N, run N local workers and wait.
    None when neither was asked for (the command runs in this process as before)."""
    if not (args.queue or args.workers):
        return None
    if args.workers < 0:
        raise UserFacingError("--workers must be 0 or more")
    store = open_store(args)
    files = store.corpora.files(store.corpora.corpus(args.corpus).id, status=FileStatus.OK)
    files = [f for f in files if only_new is None or only_new(f)]
    batch = store.jobs.start_job(f"{kind}-queue", {"corpus": args.corpus, **params})
    queued = store.queue.enqueue(batch, kind, [f.id for f in files], params)
    if args.queue:
        print(f"queued {queued} files as batch {batch}: start `emotrace --db URL worker --kinds {kind}` anywhere")
        store.jobs.update_job(batch, status="done", progress=1.0, message=f"queued {queued} files")
        return 0
    if store.engine.dialect.name == "sqlite" and args.workers > 1:
        print("note: SQLite has one writer at a time: local workers take turns at it (PostgreSQL for many)",
              file=sys.stderr)
    cmd = [sys.executable, "-m", "emotrace.cli", "--db", store.url, "-q", "worker", "--kinds", kind, "--batch", str(batch),
           "--device", getattr(args, "device", "auto")]
    procs = [subprocess.Popen(cmd) for _ in range(args.workers)]
    bar = TqdmProgress(f"{kind} x{args.workers}", disable=args.quiet)
    try:
        while any(p.poll() is None for p in procs):
            counts = store.queue.queue_counts(batch)
            bar(counts["done"] + counts["failed"], queued, f"{counts['workers']} workers busy")
            time.sleep(0.5)
    except KeyboardInterrupt:
        for p in procs:
            p.terminate()
        raise
    finally:
        bar.close()
    counts = store.queue.queue_counts(batch)
    failures = store.queue.queue_failures(batch)
    names = {f.id: f.path for f in files}
    print(f"{kind}: {counts['done']} files done, {counts['failed']} failed, {counts['queued'] + counts['claimed']} "
          f"left, by {args.workers} workers")
    for fid, why in failures:
        print(f"  FAILED {names.get(fid, fid)}: {why}")
    store.jobs.update_job(batch, status="done" if not counts["queued"] + counts["claimed"] else "interrupted",
                          progress=1.0, message=f"{counts['done']} done, {counts['failed']} failed")
    return 1 if counts["failed"] or counts["queued"] + counts["claimed"] else 0


def cmd_worker(args) -> int:
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    from emotrace.core.workflows.worker import Worker

    store = open_store(args)
    device = args.device
    if device == "auto" and os.environ.get("LOCAL_RANK") is not None:  # torchrun / SLURM: one worker per GPU
        device = f"cuda:{os.environ['LOCAL_RANK']}"
    worker = Worker(store, tuple(k.strip() for k in args.kinds.split(",") if k.strip()), device=device,
                    lease_seconds=args.lease, batch=args.batch)
    report = worker.run(idle_exit=None if args.forever else args.idle_exit)
    print(report.summary())
    return 1 if report.failed else 0


def register_worker(sub) -> None:
    p = sub.add_parser("worker", help="take queued files (transcribe, analyze, diarize) from the store until done")
    p.add_argument("--kinds", type=work_kinds, default="transcribe,analyze,diarize")
    p.add_argument("--device", default="auto", type=device, help="auto, cpu, cuda or cuda:N (under torchrun: LOCAL_RANK)")
    p.add_argument("--lease", type=seconds(1, 86400), default=60.0, help="seconds a claim lasts without a heartbeat")
    p.add_argument("--batch", type=int, help="only this batch's items; leave when it is finished")
    p.add_argument("--idle-exit", type=seconds(0, 86400), default=10.0, help="leave after this many idle seconds")
    p.add_argument("--forever", action="store_true", help="never leave; wait for new work")
    p.set_defaults(func=cmd_worker)


def cmd_transcribe(args) -> int:
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    from emotrace.core.speech.asr_torch import open_transcriber
    from emotrace.core.workflows.transcribe import transcribe_corpus

    queued = _through_queue(args, "transcribe", {"model": args.model, "beam_size": args.beam_size,
                                                 "batch_size": args.batch_size, "redo": args.redo,
                                                 "backend": args.asr_backend},
                            only_new=None if args.redo else (lambda f: f.transcribed_at is None))
    if queued is not None:
        return queued
    store = open_store(args)
    store.corpora.corpus(args.corpus)  # fail fast on a wrong name, before loading a model
    transcriber = open_transcriber(args.model, device=args.device, backend=args.asr_backend, beam_size=args.beam_size,
                                   batch_size=args.batch_size)
    if transcriber.notice:
        print(f"note: {transcriber.notice}", file=sys.stderr)
    return run_with_bar("transcribe", args.quiet,
                         lambda bar: transcribe_corpus(store, args.corpus, transcriber, progress=bar, redo=args.redo))


def register_transcribe(sub) -> None:
    p = sub.add_parser("transcribe", help="ASR (faster-whisper, or Whisper on PyTorch): words with times, utterances")
    p.add_argument("--corpus", required=True, type=plain_name)
    p.add_argument("--model", default=DEFAULT_ASR_MODEL, help="tiny.en, base, small, large-v3, distil-large-v3 or a folder")
    p.add_argument("--device", default="auto", type=device, help="auto, cpu, cuda or cuda:N")
    p.add_argument("--beam-size", type=whole(1, 64), default=DEFAULT_BEAM_SIZE,
                   help="1: greedy (default); 5: faster-whisper's own default")
    p.add_argument("--batch-size", type=whole(0, 4096), default=DEFAULT_BATCH_SIZE,
                   help="VAD chunks decoded together (BatchedInferencePipeline; default 8); 0 or 1: sequential")
    p.add_argument("--redo", action="store_true", help="transcribe finished files again")
    p.add_argument("--asr-backend", default="auto", choices=["auto", "ctranslate2", "torch"],
                   help="auto: faster-whisper, or Whisper on PyTorch where a GPU is present that CTranslate2 cannot "
                        "use (no CUDA 12 cuBLAS)")
    _queue_options(p)
    p.set_defaults(func=cmd_transcribe)


REGISTRARS: list = [register_transcribe, register_worker]


def cmd_analyze(args) -> int:
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    from emotrace.core.workflows.analyze import analyze_corpus, resolve_model

    if args.queue or args.workers:
        model = resolve_model(open_store(args), args.model)  # one version for every worker, fixed now
        return _through_queue(args, "analyze", {"model": model.id, "window": args.window, "hop": args.hop})
    store = open_store(args)
    store.corpora.corpus(args.corpus)
    return run_with_bar("analyze", args.quiet, lambda bar: analyze_corpus(
        store, args.corpus, model=args.model, device=args.device, window=args.window, hop=args.hop, progress=bar))


def register_analyze(sub) -> None:
    p = sub.add_parser("analyze", help="SER predictions per segment and sliding-window trajectories")
    p.add_argument("--corpus", required=True, type=plain_name)
    p.add_argument("--model", type=version, help="model version id or name (default: the active one)")
    p.add_argument("--device", default="auto", type=device)
    p.add_argument("--window", type=seconds(0.5, 600), help="trajectory window in seconds, 0.5-600 (default: the "
                                                            "model's, 4)")
    p.add_argument("--hop", type=seconds(0.1, 600), help="trajectory hop in seconds, 0.1-600 (default: the model's, 1)")
    _queue_options(p)
    p.set_defaults(func=cmd_analyze)


def _print_event(quiet: bool):
    def show(event: dict) -> None:
        if event["type"] == "notice":
            print(f"note: {event['message']}", file=sys.stderr)
        elif event["type"] == "epoch" and not quiet:
            print(f"epoch {event['epoch']:3d}  loss {event['loss']:.4f}  dev CCC {event['dev_ccc']}", file=sys.stderr)
        elif event["type"] == "layer_weights":
            for dim, row in zip(DIMENSIONS, event["weights"]):
                print(f"layer weights {dim:>9}: " + " ".join(f"{w:.3f}" for w in row), file=sys.stderr)
        elif event["type"] == "start" and not quiet:
            print(f"training on {event['train']} segments, selecting on {event['dev']} "
                  f"({event['backbone']})", file=sys.stderr)
    return show


def _init_distributed() -> bool:
    """Under `torchrun --nproc_per_node N` the same command trains with DistributedDataParallel."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    import torch
    import torch.distributed as dist

    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return True


def cmd_train(args) -> int:
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    import torch.distributed as dist

    from emotrace.core.ser.hub import refuse_pickled
    from emotrace.core.store import Store
    from emotrace.training.trainer import TrainConfig, train

    for kind, ref in (("Audio", args.backbone), ("Text", args.text)):  # a pickled folder: one line, before any work
        if ref:
            refuse_pickled(kind, ref)
    distributed = _init_distributed()
    if distributed:
        if dist.get_rank() != 0:
            dist.barrier()  # rank 0 opens (and migrates) the store first
            store = Store(args.db, migrate=False)
        else:
            store = open_store(args)
            dist.barrier()
    else:
        store = open_store(args)
    cfg = TrainConfig(corpus=args.corpus, mode=args.mode, audio_backbone=args.backbone, text_backbone=args.text,
                      modalities=args.modalities, epochs=args.epochs, seed=args.seed, device=args.device,
                      annotator=args.annotator, include_accepted=args.include_accepted, targets=args.targets,
                      activate="never" if args.no_activate else args.activate, batch_size=args.batch_size,
                      grad_accum=args.grad_accum, layer_lr=args.layer_lr)
    try:
        result = train(store, cfg, on_event=_print_event(args.quiet))
    finally:
        if distributed:
            dist.destroy_process_group()
    if result.model_version_id < 0:  # a non-zero torchrun rank: rank 0 reports
        return 0
    out = {"model_version_id": result.model_version_id, "seconds": round(result.seconds, 2),
           "ccc": result.metrics["ccc"], "split": result.metrics["split"],
           "parent_ccc": (result.parent_metrics or {}).get("ccc"),
           "activated": bool(result.activation and result.activation["activate"]),
           "activation_reason": (result.activation or {}).get("reason"),
           "layer_weights": result.metrics.get("layer_weights")}
    print(f"v{result.model_version_id}: {out['activation_reason']}", file=sys.stderr)
    print(json.dumps(out))
    return 0


def register_train(sub) -> None:
    p = sub.add_parser("train", help="train a new model version from the corpus labels")
    p.add_argument("--corpus", required=True, type=plain_name)
    p.add_argument("--mode", default="layers", choices=["layers", "heads", "full"],
                   help="layers: heads + per-dimension layer weights on cached features (default); heads: layer "
                        "weights kept uniform; full: fine-tune the audio encoder too")
    p.add_argument("--backbone", help="audio encoder: hub id, folder or whisper:tiny.en (default: the active "
                                      "model's, else the offline whisper:tiny.en)")
    p.add_argument("--text", default=DEFAULT_TEXT, help="text encoder: minilm, distilroberta, distilbert, id or folder")
    p.add_argument("--modalities", default="both", choices=["audio", "text", "both"])
    p.add_argument("--epochs", type=whole(1, 100_000), default=80)
    p.add_argument("--batch-size", type=whole(2, 1_000_000), default=64, help="at least 2 (CCC needs two examples)")
    p.add_argument("--grad-accum", type=whole(1, 10_000), default=1)
    p.add_argument("--layer-lr", type=float, default=5e-2,
                   help="learning rate of the softmax layer logits (the heads use 2e-3; at that rate the weights "
                        "barely leave uniform)")
    p.add_argument("--seed", type=whole(0, 2**32 - 1), default=0)
    p.add_argument("--device", default="auto", type=device)
    p.add_argument("--annotator", type=plain_name,
                   help="train on one annotator's labels (default: the latest label per segment)")
    p.add_argument("--include-accepted", action="store_true",
                   help="also train on accepted model predictions (default: human judgements only)")
    p.add_argument("--targets", default="labels", choices=["labels", "traces", "both"],
                   help="segment labels, the means of continuous traces over segments, or both")
    p.add_argument("--activate", default="auto", choices=["auto", "always", "never"],
                   help="auto (default): activate the new version only if it is valid and not worse than the active "
                        "one on the same development data; always; never")
    p.add_argument("--no-activate", action="store_true", help="the same as --activate never")
    p.set_defaults(func=cmd_train)


def cmd_evaluate(args) -> int:
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    from emotrace.training.baseline import format_baseline
    from emotrace.training.evaluate import evaluate

    result = evaluate(open_store(args), args.corpus, args.split, args.model, device=args.device, annotator=args.annotator,
                      baseline=not args.no_baseline)
    if args.json:
        print(json.dumps({k: result[k] for k in ("model", "split", "n", "ccc", "egemaps_ridge") if k in result}))
    else:
        print(f"{result['model']} (v{result['model_version_id']}) on {result['split']} (n={result['n']}): "
              + "  ".join(f"{k} {v:.3f}" for k, v in result["ccc"].items()))
        if "egemaps_ridge" in result:
            print(format_baseline(result["egemaps_ridge"]))
    return 0


def register_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="CCC per dimension on a split")
    p.add_argument("--corpus", required=True, type=plain_name)
    p.add_argument("--split", default="Development")
    p.add_argument("--model", type=version, help="model version id or name (default: the active one)")
    p.add_argument("--annotator", type=plain_name)
    p.add_argument("--device", default="auto", type=device)
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-baseline", action="store_true", help="skip the eGeMAPS + ridge baseline beside the model")
    p.set_defaults(func=cmd_evaluate)


def cmd_models(args) -> int:
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    from emotrace.training.registry import rollback

    store = open_store(args)
    if args.analyze and args.action == "list":
        raise UserFacingError("--analyze goes with activate or rollback (it analyses with the version made active)")
    if args.action == "activate":
        # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
        from emotrace.training.registry import activate

        if not args.version:
            raise UserFacingError("models activate needs a version id or name (see `emotrace models list`)")
        # the one gate: the folder is checked and the model run on a reference clip; a broken one never becomes active
        activate(store, args.version, device=args.device)
    elif args.action == "rollback":
        try:
            mv = rollback(store, device=args.device)
        except ValueError as exc:
            raise UserFacingError(str(exc)) from exc
        print(f"active: v{mv.id} {mv.name}")
        return _catch_up(store, mv.id, args)
    if args.action == "activate":
        code = _catch_up(store, store.models.active_model().id, args)
        if code:
            return code
    for mv in store.models.model_versions():
        ccc = (mv.metrics or {}).get("ccc", {})
        print(f"{'*' if mv.active else ' '} v{mv.id:<3d} {mv.name:<14} parent={mv.parent_id or '-':<4} "
              f"{mv.created_at:%Y-%m-%d %H:%M}  n={(mv.data_counts or {}).get('train', '-')}  "
              + " ".join(f"{k[0].upper()}={v:.3f}" for k, v in ccc.items()) + f"  {mv.folder}")
    return 0


def _catch_up(store, model_version_id: int, args) -> int:
    """After activating: with --analyze, analyse every file of every corpus the version has not analysed (as the
    app does); without, say how many there are, so no corpus silently shows an older model."""
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    from emotrace.core.workflows.analyze import analyze_everywhere, unanalysed

    if args.analyze:  # it plans for itself
        return run_with_bar("analyze", args.quiet, lambda bar: analyze_everywhere(
            store, model_version_id, device=args.device, progress=bar))
    plan = unanalysed(store, model_version_id)
    if plan:
        files = sum(len(ids) for _c, ids in plan)
        print(f"v{model_version_id} has not analysed {files} file(s) in {len(plan)} corpus(es) "
              f"({', '.join(c for c, _ids in plan)}): add --analyze, or Analyze in the app")
    return 0


def register_models(sub) -> None:
    p = sub.add_parser("models", help="list, activate or roll back model versions")
    p.add_argument("action", choices=["list", "activate", "rollback"])
    p.add_argument("version", nargs="?", type=version, help="version id or name (for activate)")
    p.add_argument("--analyze", action="store_true",
                   help="after activate or rollback, analyse every file of every corpus the version has not analysed")
    p.add_argument("--device", default="auto", type=device)
    p.set_defaults(func=cmd_models)


def cmd_layers(args) -> int:
    """Per-layer probe CCC per dimension (fit on Train, scored on --split) and a model's learnt layer weights."""
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    from emotrace.training.baseline import egemaps_ridge
    from emotrace.training.data import load_examples
    from emotrace.training.probe import format_table, layer_relevance

    store = open_store(args)
    store.corpora.corpus(args.corpus)
    version = store.models.model_version(args.model) if args.model else store.models.active_model()
    model_backbone = (version.config or {}).get("audio_backbone") if version is not None else None
    backbone = args.backbone or model_backbone or OFFLINE_AUDIO
    weights = None
    if version is not None and model_backbone == backbone and (version.metrics or {}).get("layer_weights"):
        weights = (version.metrics["layer_weights"], f"v{version.id} {version.name}")
        if len(weights[0][0]) < 2:
            weights = None  # a last-layer model has nothing to weigh
    elif args.model:
        raise UserFacingError(f"model v{version.id} reads {model_backbone}, not {backbone}")
    bar = TqdmProgress("features", disable=args.quiet)
    try:
        report = layer_relevance(store, args.corpus, backbone, split=args.split, device=args.device, weights=weights,
                                 progress=bar)
        if not args.no_baseline:  # the field's baseline on the same split, beside the probes
            report.baseline = egemaps_ridge(load_examples(store, args.corpus), args.split)
    finally:
        bar.close()
    if args.png:
        # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
        from emotrace.training.layer_figure import render_png

        render_png([report.to_dict()], args.png)
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        print(format_table(report))
        if args.png:
            print(f"figure: {args.png}")
    return 0


def register_layers(sub) -> None:
    p = sub.add_parser("layers", help="which encoder layers carry arousal, valence, dominance (probe per layer)")
    p.add_argument("--corpus", required=True, type=plain_name)
    p.add_argument("--backbone", help="audio encoder (default: the active model's, else the offline whisper:tiny.en)")
    p.add_argument("--split", default="Development", help="split the probes are scored on (fit on Train)")
    p.add_argument("--model", type=version,
                   help="model version whose learnt layer weights to show (default: the active one)")
    p.add_argument("--device", default="auto", type=device)
    p.add_argument("--json", action="store_true")
    p.add_argument("--png", help="write the figure to this PNG file")
    p.add_argument("--no-baseline", action="store_true", help="skip the eGeMAPS + ridge baseline row")
    p.set_defaults(func=cmd_layers)


REGISTRARS += [register_analyze, register_train, register_evaluate, register_models, register_layers]


def cmd_gui(args) -> int:
    # lazy: the CLI works without the gui extra (PySide6); only `emotrace gui` needs the app
    from emotrace.gui.preflight import gui_problem  # Qt-free: says why the app cannot start, before Qt aborts

    problem = gui_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from emotrace.gui.app import run  # lazy: PySide6 and the whole app

    return run(args.db, args.corpus)


def register_gui(sub) -> None:
    p = sub.add_parser("gui", help="open the desktop app")
    p.add_argument("--corpus", type=plain_name, help="corpus to show first")
    p.set_defaults(func=cmd_gui)


REGISTRARS += [register_gui]


def cmd_diarize(args) -> int:
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    from emotrace.core.speech.diarization import DiarizationOptions
    from emotrace.core.workflows.diarize import diarize_corpus

    store = open_store(args)
    store.corpora.corpus(args.corpus)
    options = DiarizationOptions(speakers=args.speakers, min_speakers=args.min_speakers,
                                 max_speakers=args.max_speakers)
    return run_with_bar("diarize", args.quiet, lambda bar: diarize_corpus(
        store, args.corpus, options, device=args.device, progress=bar, redo=args.redo))


def register_diarize(sub) -> None:
    p = sub.add_parser("diarize", help="who speaks when: speaker turns per file (utterances are then cut at them)")
    p.add_argument("--corpus", required=True, type=plain_name)
    p.add_argument("--speakers", type=whole(1, 100), help="the exact number of speakers per file, when known")
    p.add_argument("--min-speakers", type=whole(1, 100), default=1)
    p.add_argument("--max-speakers", type=whole(1, 100), default=6)
    p.add_argument("--device", default="cpu", type=device)
    p.add_argument("--redo", action="store_true",
                   help="diarize files that have speaker turns again (turns someone corrected are kept)")
    p.set_defaults(func=cmd_diarize)


def cmd_speakers(args) -> int:

    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    from emotrace.core.workflows.diarize import import_rttm

    if args.action in ("rename", "merge", "reassign", "split") and not (args.to or "").strip():
        raise UserFacingError(f"speakers {args.action} needs --to NAME")  # it used to rename to "None"
    store = open_store(args)
    corpus = store.corpora.corpus(args.corpus)
    if args.action == "import":
        if not args.rttm:
            raise UserFacingError("speakers import needs --rttm FILE")
        report = import_rttm(store, args.corpus, args.rttm)
        print(report.summary())
        return 1 if report.failed else 0
    files = [f for f in store.corpora.files(corpus.id) if args.file is None or Path(f.path).name == args.file
             or Path(f.path).stem == args.file]
    if args.file and len(files) != 1:
        raise UserFacingError(f"no single file named {args.file!r} in corpus {args.corpus!r}")
    if args.action == "list":
        for f in files:
            turns = store.speakers.speaker_turns(f.id)
            talk: dict[str, float] = {}
            for t in turns:
                talk[t.speaker] = talk.get(t.speaker, 0.0) + t.end - t.start
            revisions = store.speakers.speaker_revisions(f.id)
            print(f"{Path(f.path).name}: {len(turns)} turns, revision {revisions[-1].revision if revisions else '-'} "
                  + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(talk.items())))
            if args.turns:
                for i, t in enumerate(turns):
                    print(f"  {i:4d} {t.start:9.2f} {t.end:9.2f}  {t.speaker}")
        return 0
    if not args.file:
        raise UserFacingError(f"speakers {args.action} needs --file NAME (one file of the corpus)")
    fid = files[0].id
    if args.action in ("rename", "merge"):
        revision = store.speakers.merge_speakers(fid, args.speaker, args.to)
    elif args.action == "reassign":
        revision = store.speakers.reassign_turn(fid, args.turn, args.to)
    elif args.action == "split":
        revision = store.speakers.split_turn(fid, args.turn, args.at, args.to)
    else:  # undo
        revision = store.speakers.undo_speaker_edit(fid)
    print(f"{files[0].path}: speaker turns revision {revision}")
    return 0


def register_speakers(sub) -> None:
    p = sub.add_parser("speakers", help="list, correct (rename, merge, reassign, split, undo) or import speaker turns")
    p.add_argument("action", choices=["list", "rename", "merge", "reassign", "split", "undo", "import"])
    p.add_argument("--corpus", required=True, type=plain_name)
    p.add_argument("--file", help="the file (name or name without extension)")
    p.add_argument("--speaker", help="rename/merge: the speaker to rename or merge away")
    p.add_argument("--to", type=plain_name, help="rename/merge/reassign/split: the new (or other) speaker name")
    p.add_argument("--turn", type=int, help="reassign/split: the turn's index (`speakers list --turns`)")
    p.add_argument("--at", type=float, help="split: where to cut the turn (s)")
    p.add_argument("--turns", action="store_true", help="list: print every turn")
    p.add_argument("--rttm", help="import: an RTTM file whose file ids are the corpus files' names")
    p.set_defaults(func=cmd_speakers)


REGISTRARS += [register_diarize, register_speakers]


def cmd_traces(args) -> int:
    store = open_store(args)
    corpus = store.corpora.corpus(args.corpus)
    files = [f for f in store.corpora.files(corpus.id) if args.file is None or args.file in (Path(f.path).name,
                                                                                      Path(f.path).stem)]
    if args.file and len(files) != 1:
        raise UserFacingError(f"no single file named {args.file!r} in corpus {args.corpus!r}")
    if args.action == "list":
        for f in files:
            for p in store.traces.trace_passes(f.id):
                print(f"{Path(f.path).name}  {p.annotator:<12} {p.dimension:<9} pass {p.pass_no}  {p.rate:g} Hz  "
                      f"{p.samples} samples  {p.start or 0:.1f}-{p.end or 0:.1f} s"
                      + (f"  (from model v{p.assisted_by})" if p.assisted_by else ""))
        return 0
    if args.action == "labels":
        total = sum(store.traces.trace_labels(f.id)[1] for f in files)
        print(f"{total} trace-mean labels added (rater '<annotator> (trace)', origin trace)")
        return 0
    if args.action == "agreement":
        rows = trace_agreement(store, corpus.id, {f.id for f in files}, max_lag=args.max_lag)
        if args.json:
            print(json.dumps(rows))
        else:
            for r in rows:
                icc = "" if r.get("icc21") is None else f", ICC(2,1) {r['icc21']:.3f}"
                print(f"{r['file']} {r['dimension']:<9} {r['other']} vs {r['reference']}: CCC {r['ccc']:.3f}{icc} "
                      f"(n={r['n']}), best at lag {r['best_lag']:.1f} s: {r['ccc_at_best_lag']:.3f}")
        return 0
    if not (args.file and args.annotator and args.dimension and args.path):
        raise UserFacingError(f"traces {args.action} needs --file, --annotator, --dimension and --path")
    f = files[0]
    if args.action == "export":
        t, v = store.traces.current_trace(f.id, args.annotator, args.dimension)
        if args.format == "nova":
            out = tr.write_nova(args.path, t, v, annotator=args.annotator, dimension=args.dimension,
                                rate=args.rate, duration=float(f.duration or 0))
        else:
            tr.write_carma_csv(args.path, t, v, scale=args.scale)
            out = args.path
        print(f"wrote {len(t)} samples to {out}")
        return 0
    annotator = rater_name(args.path, args.annotator)  # the one rule for names, as in every other import
    if args.format == "nova":
        t, v, meta = tr.read_nova(args.path, duration=f.duration)
        rate = float(meta["sr"])
    else:
        t, v = tr.read_carma_csv(args.path, scale=args.scale, duration=f.duration)
        rate = float(1 / np.median(np.diff(t))) if len(t) > 1 else args.rate
    pass_no = store.traces.import_trace(f.id, annotator=annotator, dimension=args.dimension, rate=min(100.0, rate),
                                 times=t, values=v)
    print(f"imported {len(t)} samples as pass {pass_no}")
    return 0


def register_traces(sub) -> None:
    p = sub.add_parser("traces", help="continuous traces: list, agreement (with lag), labels, export, import")
    p.add_argument("action", choices=["list", "agreement", "labels", "export", "import"])
    p.add_argument("--corpus", required=True, type=plain_name)
    p.add_argument("--file")
    p.add_argument("--annotator", type=plain_name)
    p.add_argument("--dimension", choices=DIMENSIONS)
    p.add_argument("--path", help="export/import: the CSV, or NOVA's .annotation header")
    p.add_argument("--format", default="carma", choices=["carma", "nova"])
    p.add_argument("--scale", default="carma", choices=list(SCALES), help="CSV values' scale")
    p.add_argument("--rate", type=number(0, 1000, " Hz"), default=10.0, help="NOVA export: frames per second")
    p.add_argument("--max-lag", type=seconds(0, 60), default=4.0, help="agreement: the longest lag searched (s)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_traces)


REGISTRARS += [register_traces]
