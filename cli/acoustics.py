"""`emotrace acoustics`: eGeMAPS v02 functionals per trajectory window (or per segment) as CSV or Parquet."""

from __future__ import annotations

from emotrace.cli.argtypes import out_file, plain_name, seconds, version
from emotrace.cli.common import open_store, run_with_bar


def cmd_acoustics(args) -> int:
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    from emotrace.core.audio.acoustics import egemaps_names
    from emotrace.core.workflows.acoustics import check_out, export_acoustics

    egemaps_names()  # without openSMILE: one line and rc 2, before the store is opened
    check_out(args.out)
    store = open_store(args)
    store.corpora.corpus(args.corpus)
    return run_with_bar("acoustics", args.quiet, lambda bar: export_acoustics(
        store, args.corpus, args.out, segments=args.segments, model=args.model, window=args.window, hop=args.hop,
        progress=bar))


def register_acoustics(sub) -> None:
    p = sub.add_parser("acoustics", help="eGeMAPS v02 functionals (openSMILE) per trajectory window or segment")
    p.add_argument("--corpus", required=True, type=plain_name)
    p.add_argument("--out", required=True, type=out_file(".csv", ".parquet"), help="a .csv or .parquet file")
    p.add_argument("--segments", action="store_true", help="one row per segment instead of per trajectory window")
    p.add_argument("--model", type=version, help="whose trajectory windows (default: the active model's)")
    p.add_argument("--window", type=seconds(0.5, 600), help="window seconds instead of the model's windows")
    p.add_argument("--hop", type=seconds(0.1, 600), help="hop seconds instead of the model's windows")
    p.set_defaults(func=cmd_acoustics)


REGISTRARS: list = [register_acoustics]
