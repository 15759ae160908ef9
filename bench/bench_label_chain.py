"""Label chain benchmark (issue 23, item 5): what the hash chain costs a label save, and what `emotrace check`
and the check every opening runs cost on a store of 100,000 labels.

    python bench/bench_label_chain.py [--pg URL] [--saves 300] [--labels 100000]   # prints JSON lines

A save is `store.labels.record_label` (one transaction, as the editor's Save does), timed one by one; "without
the chain" runs the same code with `link` replaced by a stub that only fills the columns (no head lock, no hash,
no head update), so the difference is the chain's whole cost. Saves alternate between the two modes so that
a busy machine affects both alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import emotrace.core.store.labels as labels_module  # noqa: E402
from emotrace.core.store import AudioFile, LabelSpec, Segment, Store  # noqa: E402
from emotrace.core.store.integrity import quick_check  # noqa: E402


def _throwaway(pg: str | None, tmp: Path, name: str):
    if not pg:
        return f"sqlite:///{tmp / f'{name}.sqlite'}", lambda: None
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    db_name = f"emotrace_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{db_name}" WITH (FORCE)'))
    return make_url(pg).set(database=db_name).render_as_string(hide_password=False), drop


def _file_with_segments(store: Store, n: int) -> tuple[int, list[int]]:
    corpus = store.corpora.corpus("bench", create=True)
    with store.db.session() as s:
        f = AudioFile(corpus_id=corpus.id, path="/bench.wav", fingerprint="bench", duration=3.0 * n)
        s.add(f)
        s.flush()
        segs = [Segment(file_id=f.id, start=3.0 * k, end=3.0 * k + 3, origin="imported") for k in range(n)]
        s.add_all(segs)
        s.flush()
        return f.id, [g.id for g in segs]


def _no_chain(_session, rows) -> None:
    for row in rows:
        row.chain_seq, row.chain_hash = None, "-"


def bench_saves(url: str, saves: int) -> dict:
    store = Store(url)
    _fid, sids = _file_with_segments(store, 50)
    real = labels_module.link
    times: dict[str, list[float]] = {"chain": [], "no_chain": []}
    cpu_times: dict[str, list[float]] = {"chain": [], "no_chain": []}  # this process's CPU: less at the mercy of load
    for k in range(2 * saves):
        mode = "chain" if k % 2 else "no_chain"
        labels_module.link = real if mode == "chain" else _no_chain
        t, cpu = time.perf_counter(), time.process_time()
        store.labels.record_label(sids[k % len(sids)], annotator=f"a{k % 7}", arousal=1 + k % 7, valence=4,
                                  dominance=4)
        times[mode].append(time.perf_counter() - t)
        cpu_times[mode].append(time.process_time() - cpu)
    labels_module.link = real
    store.close()
    out = {f"save_{m}_median_ms": round(1000 * statistics.median(v), 3) for m, v in times.items()}
    out |= {f"save_{m}_p90_ms": round(1000 * statistics.quantiles(v, n=10)[-1], 3) for m, v in times.items()}
    out |= {f"save_{m}_cpu_median_ms": round(1000 * statistics.median(v), 3) for m, v in cpu_times.items()}
    return {"saves_each": saves, **out}


def bench_check(url: str, n_labels: int) -> dict:
    store = Store(url)
    fid, _sids = _file_with_segments(store, 1000)
    t = time.perf_counter()
    per = n_labels // 1000
    specs = [LabelSpec(fid, 3.0 * (k % 1000), 3.0 * (k % 1000) + 3, f"r{k // 1000}", (1 + k % 7, 4.0, 2.5))
             for k in range(per * 1000)]
    store.labels.import_labels(specs)
    imported = time.perf_counter() - t
    rows = store.stats()["label_rows"]
    t, cpu = time.perf_counter(), time.process_time()
    report = store.check()
    checked, checked_cpu = time.perf_counter() - t, time.process_time() - cpu
    assert report.whole, report.problems
    quick = []
    for _ in range(20):
        with store.engine.connect() as conn:
            t = time.perf_counter()
            assert quick_check(conn) is None
            quick.append(time.perf_counter() - t)
    store.close()
    t = time.perf_counter()
    Store(url).close()
    opened = time.perf_counter() - t
    return {"label_rows": rows, "import_s": round(imported, 2), "check_s": round(checked, 2),
            "check_cpu_s": round(checked_cpu, 2),
            "open_quick_check_median_ms": round(1000 * statistics.median(quick), 2), "open_s": round(opened, 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="a PostgreSQL server URL (a throwaway database is made there)")
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--labels", type=int, default=100_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    backend = "postgresql" if args.pg else "sqlite"
    for name, run, n in (("saves", bench_saves, args.saves), ("check", bench_check, args.labels)):
        url, drop = _throwaway(args.pg, tmp, name)
        try:
            print(json.dumps({"bench": name, "backend": backend, **run(url, n)}), flush=True)
        finally:
            drop()


if __name__ == "__main__":
    main()
