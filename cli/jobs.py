"""The job subcommands (transcribe, analyze, train, evaluate, models, gui), kept apart from the core CLI."""

from __future__ import annotations

import json
import sys

from cli.main import _store
from core.progress import TqdmProgress


def _run_with_bar(desc: str, quiet: bool, job) -> int:
    """Run a corpus job under a progress bar, print its report; exit code 1 when some files failed."""
    bar = TqdmProgress(desc, disable=quiet)
    try:
        report = job(bar)
    finally:
        bar.close()
    print(report.summary())
    return 1 if report.failed else 0


def cmd_transcribe(args) -> int:
    from core.asr import Transcriber, transcribe_corpus

    store = _store(args)
    store.corpus(args.corpus)  # fail fast on a wrong name, before loading a model
    transcriber = Transcriber(args.model, device=args.device, beam_size=args.beam_size, batch_size=args.batch_size)
    if transcriber.notice:
        print(f"note: {transcriber.notice}", file=sys.stderr)
    return _run_with_bar("transcribe", args.quiet,
                         lambda bar: transcribe_corpus(store, args.corpus, transcriber, progress=bar, redo=args.redo))


def register_transcribe(sub) -> None:
    p = sub.add_parser("transcribe", help="ASR with faster-whisper: words with times, utterance segments")
    p.add_argument("--corpus", required=True)
    p.add_argument("--model", default="base", help="tiny.en, base, small, large-v3, distil-large-v3 or a folder")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--beam-size", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=0, help=">1 uses BatchedInferencePipeline")
    p.add_argument("--redo", action="store_true", help="transcribe finished files again")
    p.set_defaults(func=cmd_transcribe)


REGISTRARS: list = [register_transcribe]


def cmd_analyze(args) -> int:
    from core.analysis import analyze_corpus

    store = _store(args)
    store.corpus(args.corpus)
    return _run_with_bar("analyze", args.quiet, lambda bar: analyze_corpus(
        store, args.corpus, model=args.model, device=args.device, window=args.window, hop=args.hop, progress=bar))


def register_analyze(sub) -> None:
    p = sub.add_parser("analyze", help="SER predictions per segment and sliding-window trajectories")
    p.add_argument("--corpus", required=True)
    p.add_argument("--model", help="model version id or name (default: the active one)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--window", type=float, help="trajectory window in seconds (default: the model's, 4)")
    p.add_argument("--hop", type=float, help="trajectory hop in seconds (default: the model's, 1)")
    p.set_defaults(func=cmd_analyze)


def _print_event(quiet: bool):
    def show(event: dict) -> None:
        if event["type"] == "notice":
            print(f"note: {event['message']}", file=sys.stderr)
        elif event["type"] == "epoch" and not quiet:
            print(f"epoch {event['epoch']:3d}  loss {event['loss']:.4f}  dev CCC {event['dev_ccc']}", file=sys.stderr)
        elif event["type"] == "layer_weights":
            from core.ser.config import DIMENSIONS

            for dim, row in zip(DIMENSIONS, event["weights"]):
                print(f"layer weights {dim:>9}: " + " ".join(f"{w:.3f}" for w in row), file=sys.stderr)
        elif event["type"] == "start" and not quiet:
            print(f"training on {event['train']} segments, selecting on {event['dev']} "
                  f"({event['backbone']})", file=sys.stderr)
    return show


def _init_distributed() -> bool:
    """Under `torchrun --nproc_per_node N` the same command trains with DistributedDataParallel."""
    import os

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    import torch
    import torch.distributed as dist

    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return True


def cmd_train(args) -> int:
    from core.store import Store
    from training.trainer import TrainConfig, train

    distributed = _init_distributed()
    if distributed:
        import torch.distributed as dist

        if dist.get_rank() != 0:
            dist.barrier()  # rank 0 opens (and migrates) the store first
            store = Store(args.db, migrate=False)
        else:
            store = _store(args)
            dist.barrier()
    else:
        store = _store(args)
    cfg = TrainConfig(corpus=args.corpus, mode=args.mode, audio_backbone=args.backbone, text_backbone=args.text,
                      modalities=args.modalities, epochs=args.epochs, seed=args.seed, device=args.device,
                      annotator=args.annotator, include_accepted=args.include_accepted,
                      activate=not args.no_activate, batch_size=args.batch_size,
                      grad_accum=args.grad_accum, layer_lr=args.layer_lr)
    try:
        result = train(store, cfg, on_event=_print_event(args.quiet))
    finally:
        if distributed:
            import torch.distributed as dist

            dist.destroy_process_group()
    if result.model_version_id < 0:  # a non-zero torchrun rank: rank 0 reports
        return 0
    out = {"model_version_id": result.model_version_id, "seconds": round(result.seconds, 2),
           "ccc": result.metrics["ccc"], "split": result.metrics["split"],
           "parent_ccc": (result.parent_metrics or {}).get("ccc"),
           "layer_weights": result.metrics.get("layer_weights")}
    print(json.dumps(out))
    return 0


def register_train(sub) -> None:
    from core.ser.encoders import DEFAULT_TEXT

    p = sub.add_parser("train", help="train a new model version from the corpus labels")
    p.add_argument("--corpus", required=True)
    p.add_argument("--mode", default="layers", choices=["layers", "heads", "full"],
                   help="layers: heads + per-dimension layer weights on cached features (default); heads: layer "
                        "weights kept uniform; full: fine-tune the audio encoder too")
    p.add_argument("--backbone", help="audio encoder: hub id, folder or whisper:tiny.en (default: the active "
                                      "model's, else the offline whisper:tiny.en)")
    p.add_argument("--text", default=DEFAULT_TEXT, help="text encoder: minilm, distilroberta, distilbert, id or folder")
    p.add_argument("--modalities", default="both", choices=["audio", "text", "both"])
    p.add_argument("--epochs", type=int, default=80)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--grad-accum", type=int, default=1)
    p.add_argument("--layer-lr", type=float, default=5e-2,
                   help="learning rate of the softmax layer logits (the heads use 2e-3; at that rate the weights "
                        "barely leave uniform)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--annotator", help="train on one annotator's labels (default: the latest label per segment)")
    p.add_argument("--include-accepted", action="store_true",
                   help="also train on accepted model predictions (default: human judgements only)")
    p.add_argument("--no-activate", action="store_true", help="register the new version but keep the active one")
    p.set_defaults(func=cmd_train)


def cmd_evaluate(args) -> int:
    from training.evaluate import evaluate

    result = evaluate(_store(args), args.corpus, args.split, args.model, device=args.device, annotator=args.annotator)
    if args.json:
        print(json.dumps({k: result[k] for k in ("model", "split", "n", "ccc")}))
    else:
        print(f"{result['model']} (v{result['model_version_id']}) on {result['split']} (n={result['n']}): "
              + "  ".join(f"{k} {v:.3f}" for k, v in result["ccc"].items()))
    return 0


def register_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="CCC per dimension on a split")
    p.add_argument("--corpus", required=True)
    p.add_argument("--split", default="Development")
    p.add_argument("--model", help="model version id or name (default: the active one)")
    p.add_argument("--annotator")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)


def cmd_models(args) -> int:
    from training.registry import rollback

    store = _store(args)
    if args.action == "activate":
        store.activate_model(store.model_version(args.version).id)
    elif args.action == "rollback":
        mv = rollback(store)
        print(f"active: v{mv.id} {mv.name}")
        return 0
    for mv in store.model_versions():
        ccc = (mv.metrics or {}).get("ccc", {})
        print(f"{'*' if mv.active else ' '} v{mv.id:<3d} {mv.name:<14} parent={mv.parent_id or '-':<4} "
              f"{mv.created_at:%Y-%m-%d %H:%M}  n={(mv.data_counts or {}).get('train', '-')}  "
              + " ".join(f"{k[0].upper()}={v:.3f}" for k, v in ccc.items()) + f"  {mv.folder}")
    return 0


def register_models(sub) -> None:
    p = sub.add_parser("models", help="list, activate or roll back model versions")
    p.add_argument("action", choices=["list", "activate", "rollback"])
    p.add_argument("version", nargs="?", help="version id or name (for activate)")
    p.set_defaults(func=cmd_models)


def cmd_layers(args) -> int:
    """Per-layer probe CCC per dimension (fit on Train, scored on --split) and a model's learnt layer weights."""
    from core.errors import UserFacingError
    from core.ser.encoders import OFFLINE_AUDIO
    from training.probe import format_table, layer_relevance

    store = _store(args)
    store.corpus(args.corpus)
    version = store.model_version(args.model) if args.model else store.active_model()
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
    finally:
        bar.close()
    if args.png:
        from core.layer_figure import render_png

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
    p.add_argument("--corpus", required=True)
    p.add_argument("--backbone", help="audio encoder (default: the active model's, else the offline whisper:tiny.en)")
    p.add_argument("--split", default="Development", help="split the probes are scored on (fit on Train)")
    p.add_argument("--model", help="model version whose learnt layer weights to show (default: the active one)")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true")
    p.add_argument("--png", help="write the figure to this PNG file")
    p.set_defaults(func=cmd_layers)


REGISTRARS += [register_analyze, register_train, register_evaluate, register_models, register_layers]


def cmd_gui(args) -> int:
    try:
        from gui.app import run
    except ImportError as exc:
        print(f"error: the desktop app needs the gui extra: pip install 'emotrace[gui]' ({exc})", file=sys.stderr)
        return 2
    return run(args.db, args.corpus)


def register_gui(sub) -> None:
    p = sub.add_parser("gui", help="open the desktop app")
    p.add_argument("--corpus", help="corpus to show first")
    p.set_defaults(func=cmd_gui)


REGISTRARS += [register_gui]
