"""`emotrace ...`: every headless job behind one entry point, above core, training and gui.

A user's error (a missing model, an unknown corpus, a broken file) prints one clear line and exits 2. A bug
prints one line too, but says so: its traceback goes to a log file (and to the terminal with `-v`), so a
programming error never passes for a user error."""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from datetime import datetime
from pathlib import Path

from emotrace.cli import acoustics, annotation, processing
from emotrace.cli.argtypes import out_file, plain_name
from emotrace.cli.common import open_store
from emotrace.core.paths import data_dir
from emotrace.core.progress import TqdmProgress
from emotrace.core.stats.agreement import agreement_report, format_report
from emotrace.core.vocab import EXPORT_SCALES


def cmd_import(args) -> int:
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    from emotrace.core.workflows.importing import LabelFileError, import_folder

    store = open_store(args)
    bar = TqdmProgress("import", disable=args.quiet)
    try:
        report = import_folder(store, args.folder, args.corpus, labels=args.labels, progress=bar)
    except (FileNotFoundError, LabelFileError) as exc:
        bar.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bar.close()
    print(report.summary())
    return 1 if report.problems else 0


def cmd_stats(args) -> int:
    store = open_store(args)
    corpus_id = store.corpora.corpus(args.corpus).id if args.corpus else None
    stats = store.stats(corpus_id)
    if args.json:
        print(json.dumps(stats))
        return 0
    if corpus_id is None:
        print("corpora: " + (", ".join(c.name for c in store.corpora.corpora()) or "none"))
    for key, value in stats.items():
        print(f"{key:>18}: {value}")
    failed = store.corpora.files(corpus_id, status="error") if corpus_id else []
    for f in failed:
        print(f"  failed {f.path}: {f.error}")
    return 0


def cmd_export(args) -> int:
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    from emotrace.core.formats.label_tables import export_msp, export_segments

    store = open_store(args)
    if args.rttm:
        # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
        from emotrace.core.formats.rttm import export_rttm

        print(f"wrote {export_rttm(store, args.corpus, args.out)} speaker turns to {args.out}")
        return 0
    if args.msp_detailed:
        # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
        from emotrace.core.formats.label_tables import export_msp_detailed

        n = export_msp_detailed(store, args.corpus, args.out)
    elif args.per_rater:
        # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
        from emotrace.core.formats.label_tables import export_raters

        n = export_raters(store, args.corpus, args.out, scale=args.scale)
    elif args.msp:
        n = export_msp(store, args.corpus, args.out, include_accepted=args.include_accepted,
                       annotator=args.annotator)
    else:
        n = export_segments(store, args.corpus, args.out, scale=args.scale)
    print(f"wrote {n} rows to {args.out}")
    return 0


def cmd_agreement(args) -> int:
    report = agreement_report(open_store(args), args.corpus, split=args.split)
    print(json.dumps(report, indent=1) if args.json else format_report(report))
    return 0


def cmd_check(args) -> int:
    """Is the store whole: 0 when it is, 1 with one line per problem when not (2 stays a user's error)."""
    store = open_store(args, repair_triggers=False)  # a missing trigger is reported, not quietly re-created
    report = store.check(repair_triggers=args.repair_triggers)
    for line in report.repaired + report.problems:
        print(line)
    if report.whole:
        print("store is whole: integrity, foreign keys, append-only triggers, label chain")
    return 0 if report.whole else 1


class OneLineParser(argparse.ArgumentParser):
    """A mistake on the command line is one line on stderr and exit code 2 (argparse printed the usage block
    first: 3 to 9 lines for `--lease 0` or `--seed -1`). Subcommand parsers are of the same class."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="emotrace", description=__doc__)
    parser.add_argument("--db", default=None,
                        help="SQLAlchemy URL or SQLite path (default: EMOTRACE_DB, else EMOTRACE_HOME's store, else "
                             "the default saved in the app's Settings, else the user data folder)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("import", help="import a folder of audio (and labels) into a corpus")
    p.add_argument("folder")
    p.add_argument("--corpus", required=True, type=plain_name)
    p.add_argument("--labels", help="labels CSV (MSP labels_consensus.csv or file,start,end,arousal,...)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("stats", help="what the store holds")
    p.add_argument("--corpus", type=plain_name)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("export", help="write segments with labels and predictions as CSV")
    p.add_argument("--corpus", required=True, type=plain_name)
    p.add_argument("--out", required=True, type=out_file(".csv", ".rttm"),
                   help="a .csv file (.rttm with --rttm)")
    p.add_argument("--msp", action="store_true", help="MSP-Podcast labels_consensus.csv form")
    p.add_argument("--include-accepted", action="store_true",
                   help="with --msp: also write segments whose current label is an accepted model prediction")
    p.add_argument("--rttm", action="store_true", help="the speaker turns of every file as RTTM")
    p.add_argument("--annotator", type=plain_name,
                   help="with --msp: whose values, e.g. consensus:mean, consensus:ewe, or consensus "
                        "(an imported labels_consensus.csv)")
    p.add_argument("--msp-detailed", action="store_true", help="MSP-Podcast labels_detailed.csv: one row per rater")
    p.add_argument("--per-rater", action="store_true",
                   help="one row per segment and annotator (people, accepted predictions, trace means, consensus): "
                        "`import --labels` reads it back as the same raters")
    p.add_argument("--scale", choices=EXPORT_SCALES, default="1-7",
                   help="flat CSV: values on 1-7, 0..1 or -1..1 (columns arousal_unit, ...; import reads them back)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("agreement", help="inter-rater agreement per dimension: ICC, Krippendorff's alpha, CCC, kappa")
    p.add_argument("--corpus", required=True, type=plain_name)
    p.add_argument("--split", help="only segments of this split (e.g. Test1)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_agreement)

    p = sub.add_parser("check", help="is the store whole: integrity, foreign keys, append-only triggers, label chain")
    p.add_argument("--repair-triggers", action="store_true",
                   help="re-create missing append-only triggers (never changes a label row or a hash)")
    p.set_defaults(func=cmd_check)

    for register in processing.REGISTRARS + annotation.REGISTRARS + acoustics.REGISTRARS:
        register(sub)
    return parser


def _log_traceback() -> Path | None:
    """Append the current exception's traceback to the user's log; None if even that cannot be written."""
    try:
        log = data_dir() / "emotrace-errors.log"
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.now().isoformat(timespec='seconds')} {' '.join(sys.argv)}\n")
            fh.write(traceback.format_exc())
        return log
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    from sqlalchemy.exc import SQLAlchemyError

    from emotrace.core.audio.decode import AudioError
    from emotrace.core.errors import UserFacingError
    from emotrace.core.formats.interchange import AnnotationFileError
    from emotrace.core.store import LabelError, StoreError, TurnError
    from emotrace.core.workflows.importing import LabelFileError

    try:
        return int(args.func(args) or 0)
    except (UserFacingError, StoreError, LabelError, LabelFileError, AudioError, TurnError, AnnotationFileError,
            FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:  # a full disk, a read-only or locked store, a lost server
        reason = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
        kept = "; what was committed before is kept" if getattr(args, "store_opened", False) else ""
        print(f"error: the store could not be read or written ({reason}){kept}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: what was done is kept in the store", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: say so, keep the traceback
        log = _log_traceback()
        if args.verbose:
            traceback.print_exc()
        where = f"; the traceback is in {log}" if log else ""
        print(f"internal error: {type(exc).__name__}: {exc}{where} (run with -v to print it). Please report it.",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
