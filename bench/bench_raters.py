"""Raters benchmark: 10,000 per-rater labels (2,000 files x 5 of 50 raters, MSP labels_detailed.csv style) into a
fresh SQLite store; time the import with its consensus, a full recomputation, one correction's follow-up and the
agreement report; and how close mean and EWE consensus come to the generating truth when 3 raters are careless.

    python bench/bench_raters.py [--pg URL]   # prints JSON lines
    python bench/bench_raters.py --msp-scale  # the statistics alone on 500k ratings by 10k raters
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emotrace.core.stats.agreement import agreement_report  # noqa: E402
from emotrace.core.stats.metrics import ccc  # noqa: E402
from emotrace.core.store import AudioFile, Store  # noqa: E402
from emotrace.core.workflows.importing import import_labels  # noqa: E402

FILES, RATERS, PER_FILE, CARELESS = 2000, 50, 5, 3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="a PostgreSQL URL to run against instead of a SQLite file")
    parser.add_argument("--msp-scale", action="store_true", help="only the statistics on 500k generated ratings")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url, drop = f"sqlite:///{tmp / 'bench.sqlite'}", None
    if args.pg:  # a throwaway database on that server, dropped at the end
        import uuid

        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        db_name = f"emotrace_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        url = make_url(args.pg).set(database=db_name).render_as_string(hide_password=False)

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{db_name}" WITH (FORCE)'))
    store = Store(url)
    corpus = store.corpora.corpus("bench", create=True, root=str(tmp))
    with store.db.session() as s:
        s.add_all(AudioFile(corpus_id=corpus.id, path=str(tmp / f"MSP-PODCAST_{i:05d}.wav"), fingerprint=f"{i:064x}",
                            duration=5.0, status="ok") for i in range(FILES))
    rng = np.random.default_rng(0)
    truth = rng.uniform(2, 6, size=(FILES, 3))
    bias = rng.normal(0, 0.3, size=(RATERS, 3))
    noise = np.where(np.arange(RATERS) < CARELESS, 1.8, 0.5)
    path = tmp / "labels_detailed.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["FileName", "WorkerID", "EmoClass", "EmoAct", "EmoVal", "EmoDom"])
        for i in range(FILES):
            for r in rng.choice(RATERS, PER_FILE, replace=False):
                v = np.clip(np.round(truth[i] + bias[r] + rng.normal(0, noise[r], 3)), 1, 7)
                w.writerow([f"MSP-PODCAST_{i:05d}.wav", f"W{r:03d}", "N", *(f"{x:.0f}" for x in v)])
    t0 = time.perf_counter()
    report = import_labels(store, "bench", path)
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    rewritten = store.labels.compute_consensus(corpus.id, reweight=True)
    t_full = time.perf_counter() - t0
    seg = store.segments.corpus_segments(corpus.id)[0]
    rater = store.labels.human_labels(segment_ids=[seg.id])[0]
    t0 = time.perf_counter()
    store.labels.record_label(seg.id, annotator=rater.annotator, arousal=7, valence=4, dominance=4)
    t_follow = time.perf_counter() - t0
    t0 = time.perf_counter()
    agreement = agreement_report(store, "bench")
    t_agreement = time.perf_counter() - t0
    order = {s.file_id: i for i, s in enumerate(store.segments.corpus_segments(corpus.id))}
    seg_file = {s.id: s.file_id for s in store.segments.corpus_segments(corpus.id)}
    file_index = {f.id: int(Path(f.path).stem.split("_")[1]) for f in store.corpora.files(corpus.id)}
    closeness = {}
    for name in ("consensus:mean", "consensus:ewe"):
        labels = store.labels.segment_labels(corpus_id=corpus.id, annotator=name)
        got = np.array([labels[sid].values for sid in sorted(labels)], dtype=float)
        want = truth[[file_index[seg_file[sid]] for sid in sorted(labels)]]
        closeness[name] = {d: round(ccc(got[:, k], want[:, k]), 4) for k, d in enumerate(("A", "V", "D"))}
    weights = store.raters.rater_weights(corpus.id)
    careless = np.mean([weights[f"W{r:03d}"][0] for r in range(CARELESS)])
    careful = np.mean([weights[f"W{r:03d}"][0] for r in range(CARELESS, RATERS)])
    out = {"store": store.engine.dialect.name, "ratings": report.labels_added, "segments": len(order),
           "import_with_consensus_s": round(t_import, 2), "consensus_rows": report.consensus_rows,
           "full_recompute_s": round(t_full, 2), "rows_rewritten_by_recompute": rewritten,
           "one_correction_with_follow_ms": round(t_follow * 1000, 1), "agreement_report_s": round(t_agreement, 2),
           "ccc_vs_truth": closeness, "ewe_weight_arousal": {"careless": round(careless, 3),
                                                              "careful": round(careful, 3)},
           "alpha_interval": {d: e["krippendorff_alpha_interval"] for d, e in agreement["dimensions"].items()},
           "icc_block": {d: (e["icc"] or {}).get("segments") for d, e in agreement["dimensions"].items()}}
    print(json.dumps(out))
    store.close()
    if drop:
        drop()


if __name__ == "__main__" and "--msp-scale" not in sys.argv:
    main()


def msp_scale(segments: int = 100_000, raters: int = 10_000, per_segment: int = 5) -> dict:
    """The agreement statistics alone (no store) at MSP-Podcast's size: 500k ratings by 10k workers."""
    from emotrace.core.stats.agreement import Ratings, alpha_sparse, icc_block, pairwise_ccc, rater_vs_others

    rng = np.random.default_rng(1)
    truth = rng.uniform(2, 6, segments)
    seg = np.repeat(np.arange(segments), per_segment)
    who = np.concatenate([rng.choice(raters, per_segment, replace=False) for _ in range(segments)])
    value = np.clip(np.round(truth[seg] + rng.normal(0, 0.7, len(seg))), 1, 7)
    r = Ratings(seg, who, value, [f"W{i:05d}" for i in range(raters)], segments)
    out = {"ratings": len(value)}
    for name, fn in (("alpha", alpha_sparse), ("vs_others", rater_vs_others), ("pairs", pairwise_ccc),
                     ("icc_block", icc_block)):
        t0 = time.perf_counter()
        result = fn(r)
        out[f"{name}_s"] = round(time.perf_counter() - t0, 2)
        if name == "alpha":
            out["alpha"] = result
    return out


if __name__ == "__main__" and "--msp-scale" in sys.argv:
    print(json.dumps(msp_scale()))
