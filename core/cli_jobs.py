"""The job subcommands (transcribe, analyze, train, evaluate, models, gui), kept apart from the core CLI."""

from __future__ import annotations

import sys

from core.progress import TqdmProgress


def _store(args):
    from core.store import Store

    return Store(args.db)


def cmd_transcribe(args) -> int:
    from core.asr import Transcriber, transcribe_corpus

    store = _store(args)
    store.corpus(args.corpus)  # fail fast on a wrong name, before loading a model
    transcriber = Transcriber(args.model, device=args.device, beam_size=args.beam_size, batch_size=args.batch_size)
    if transcriber.notice:
        print(f"note: {transcriber.notice}", file=sys.stderr)
    bar = TqdmProgress("transcribe", disable=args.quiet)
    try:
        report = transcribe_corpus(store, args.corpus, transcriber, progress=bar, redo=args.redo)
    finally:
        bar.close()
    print(report.summary())
    return 1 if report.failed else 0


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
