"""Subcommands for raters, consensus and annotation jobs (issue 14), kept apart from the core CLI."""

from __future__ import annotations

import json
import sys

from emotrace.cli.argtypes import name_list, out_file, plain_name, version, whole
from emotrace.cli.common import open_store
from emotrace.core.errors import UserFacingError
from emotrace.core.vocab import EXPORT_SCALES, JOB_SELECTIONS


def cmd_consensus(args) -> int:
    store = open_store(args)
    corpus_id = store.corpora.corpus(args.corpus).id
    written = store.labels.compute_consensus(corpus_id, reweight=not args.keep_weights)
    weights = store.raters.rater_weights(corpus_id)
    print(f"{written} consensus values written (consensus:mean, consensus:ewe); EWE weights for {len(weights)} raters"
          + (" kept" if args.keep_weights else " re-estimated"))
    return 0


def register_consensus(sub) -> None:
    p = sub.add_parser("consensus", help="compute the mean and EWE consensus of a corpus's raters")
    p.add_argument("--corpus", required=True, type=plain_name)
    p.add_argument("--keep-weights", action="store_true", help="use the stored EWE weights instead of re-estimating")
    p.set_defaults(func=cmd_consensus)


def cmd_raters(args) -> int:
    store = open_store(args)
    for name in args.blind or []:
        store.raters.set_blind(name, True)
    for name in args.not_blind or []:
        store.raters.set_blind(name, False)
    kinds = store.raters.rater_kinds()
    rows = [{"name": n, "kind": k.value, "blind": store.raters.is_blind(n)} for n, k in sorted(kinds.items())]
    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            print(f"{r['name']:>24}  {r['kind']:<15}{'  blind' if r['blind'] else ''}")
        print(f"{len(rows)} registered raters (an annotator not listed is a person, not blind)")
    return 0


def register_raters(sub) -> None:
    p = sub.add_parser("raters", help="list raters and their kind; set blind labelling per annotator")
    p.add_argument("--blind", action="append", metavar="NAME", type=plain_name, help="this annotator labels blind")
    p.add_argument("--not-blind", action="append", metavar="NAME", type=plain_name)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_raters)


def cmd_job(args) -> int:
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    from emotrace.core.workflows.annotation_jobs import create_job, job_progress

    store = open_store(args)
    corpus_id = store.corpora.corpus(args.corpus).id
    if args.action == "create":
        if not args.name or not args.annotators:
            print("error: job create needs --name and --annotators", file=sys.stderr)
            return 2
        job = create_job(store, args.corpus, args.name, args.annotators.split(","), how=args.select, n=args.n,
                         split=args.split, overlap=args.overlap, blind=not args.not_blind, seed=args.seed)
        print(f"job {job.name}: {job.selection['segments']} segments, {job.overlap} annotator(s) each"
              f"{', blind' if job.blind else ''}")
        return 0
    jobs = ([store.assignments.annotation_job(corpus_id, args.name)] if args.name
            else store.assignments.annotation_jobs(corpus_id))
    out = [{"job": j.name, "blind": j.blind, "overlap": j.overlap, "selection": j.selection,
            "progress": [{"annotator": p.annotator, "assigned": p.assigned, "done": p.done}
                         for p in job_progress(store, j)]} for j in jobs]
    if args.json:
        print(json.dumps(out))
        return 0
    for j in out:
        print(f"{j['job']}{' (blind)' if j['blind'] else ''}: {j['selection'].get('segments')} segments x "
              f"{j['overlap']}")
        for p in j["progress"]:
            print(f"  {p['annotator']:>20}  {p['done']:>5}/{p['assigned']:<5} "
                  f"{100 * p['done'] / max(p['assigned'], 1):5.1f}%")
    return 0


def register_job(sub) -> None:
    p = sub.add_parser("job", help="annotation jobs: assign segments to annotators (with overlap, blind) and "
                                   "show their progress")
    p.add_argument("action", choices=["create", "progress"])
    p.add_argument("--corpus", required=True, type=plain_name)
    p.add_argument("--name", type=plain_name)
    p.add_argument("--annotators", type=name_list, help="comma-separated names")
    p.add_argument("--select", choices=JOB_SELECTIONS, default="sample",
                   help="a random sample, a split, or the review queue's top N")
    p.add_argument("-n", type=whole(1), help="how many segments (sample / review top N / first N of a split)")
    p.add_argument("--split")
    p.add_argument("--overlap", type=whole(1, 1000), default=1, help="annotators per segment")
    p.add_argument("--not-blind", action="store_true", help="annotators see the model and others from the start")
    p.add_argument("--seed", type=whole(0, 2**32 - 1), default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_job)


def cmd_annotations(args) -> int:
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    from emotrace.core.formats.batch import check_annotation_file, export_corpus

    if args.action == "export" and not args.out:
        raise UserFacingError("annotations export needs --out FOLDER")
    if args.action == "import" and not args.files:
        raise UserFacingError("annotations import needs at least one file or audformat folder")
    store = open_store(args)
    if args.action == "export":
        written = export_corpus(store, args.corpus, args.out, args.format)
        print(f"wrote {len(written)} {args.format} files to {args.out}")
        return 0
    writes = [check_annotation_file(store, args.corpus, path, audio=args.audio) for path in args.files]
    for write in writes:  # every file was checked whole before the first is written: a bad one writes nothing
        print(write().summary())
    return 0


def register_annotations(sub) -> None:
    p = sub.add_parser("annotations", help="ELAN .eaf / Praat TextGrid (tiers ANNOTATOR/DIMENSION and transcript), "
                                           "audformat (a table per dimension, a column per rater)")
    p.add_argument("action", choices=["import", "export"])
    p.add_argument("files", nargs="*", help="with import: .eaf, .TextGrid or .rttm files, or audformat folders")
    p.add_argument("--corpus", required=True, type=plain_name)
    p.add_argument("--format", choices=["eaf", "textgrid", "audformat", "rttm"], default="eaf", help="with export")
    p.add_argument("--out", help="with export: a folder (one file per audio file)")
    p.add_argument("--audio", help="with import: the corpus audio file the annotations belong to")
    p.set_defaults(func=cmd_annotations)


def cmd_trajectories(args) -> int:
    # lazy: `emotrace --help` builds every subcommand's parser; it loads no SQLAlchemy, torch or soundfile
    from emotrace.core.formats.trajectories import export_trajectories

    store = open_store(args)
    model = store.models.model_version(args.model).id if args.model else None
    n = export_trajectories(store, args.corpus, args.out, model, scale=args.scale)
    print(f"wrote {n} windows to {args.out}")
    return 0


def register_trajectories(sub) -> None:
    p = sub.add_parser("trajectories", help="export a model version's per-window trajectories (CSV or .parquet)")
    p.add_argument("--corpus", required=True, type=plain_name)
    p.add_argument("--out", required=True, type=out_file(".csv", ".parquet"), help="a .csv or .parquet file")
    p.add_argument("--model", type=version, help="model version id or name (default: the active one)")
    p.add_argument("--scale", choices=EXPORT_SCALES, default="1-7")
    p.set_defaults(func=cmd_trajectories)


REGISTRARS: list = [register_consensus, register_raters, register_job, register_annotations, register_trajectories]
