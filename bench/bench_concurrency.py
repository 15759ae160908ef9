"""The concurrency suite (issue 23, item 1): N processes on one store doing everything at once, not part of the
test run (a small seeded run of it is, tests/integration/test_concurrency.py and tests/postgres/).

Each run sets up a store (a SQLite file, or a throwaway database on the PostgreSQL server `--pg` names) with a
corpus of real speech: one file already transcribed (words and ASR units) and under an annotation job, the
others not yet. Then N processes start together, each in one role, round robin over:

  transcribe   `transcribe_corpus` with Whisper tiny.en (the real CLI code; every process takes the corpus)
  edits        random splits, merges, resizes (some overlapping their neighbours) and undos
  labels       label saves on random current segments, and word corrections
  analyze      `analyze_corpus` with a tiny random-weight model (real encoder, real pooling, real writes)
  diarize      `diarize_corpus` (resemblyzer) with --redo: new turns, every transcribed file's units rebuilt

and after all have ended the invariants are checked:

  - no duplicate words (file, start, end, text);
  - no two current (not imported) segments of a file overlap;
  - every current segment of a file the active model analysed has a segment prediction of that model, or the
    file is reported stale (`Store.predictions.stale_files`, shown by `emotrace stats`); after one catch-up
    `analyze` of the stale files, every one has a prediction;
  - no human row lost: every label a process saved is there (rows counted), every word correction, every
    annotation-job annotator still has assignments, and the integrity and foreign-key checks pass;
  - no process died of an error that is not a user-facing one (a raw IntegrityError or OperationalError).

Usage: python bench/bench_concurrency.py [--runs 20] [--procs 6] [--ops 120] [--pg URL] [--seed 0]
       python bench/bench_concurrency.py role ROLE URL SEED OPS   (one process's part; the runs start these)
Prints one JSON line per run and a summary line (the figures in bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import traceback
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROLES = ("transcribe", "edits", "labels", "analyze", "diarize")
CORPUS = "k"
ANNOTATORS = ("ann", "bob")


# -- one process's part --------------------------------------------------------------------------------------------
def _current(store, rng):
    from emotrace.core.vocab import SegmentOrigin

    files = store.corpora.files(store.corpora.corpus(CORPUS).id)
    having = [f for f in files if f.transcribed_at is not None] or files  # files with units to work on
    f = rng.choice(having)
    segs = [g for g in store.segments.segments(f.id, include_superseded=False) if g.origin != SegmentOrigin.IMPORTED]
    return f, segs


def role_edits(store, rng, ops: int) -> dict:
    from emotrace.core.store import LabelError

    done = refused = 0
    undo = []
    for _ in range(ops):
        f, segs = _current(store, rng)
        if not segs:
            time.sleep(0.05)
            continue
        g = rng.choice(segs)
        what = rng.random()
        try:
            if what < 0.3 and g.end - g.start > 0.3:
                edit = store.segments.split_segment(g.id, rng.uniform(g.start + 0.1, g.end - 0.1))
            elif what < 0.5 and len(segs) > 1:
                k = segs.index(g)
                pair = segs[k:k + 2] if k + 1 < len(segs) else segs[k - 1:k + 1]
                edit = store.segments.merge_segments([h.id for h in pair])
            elif what < 0.8:  # grow or shrink; often into a neighbour (refused, or a race before the rule)
                start = max(0.0, g.start + rng.uniform(-1.5, 0.5))
                end = min((f.duration or g.end), g.end + rng.uniform(-0.5, 1.5))
                if end - start < 0.1:
                    continue
                edit = store.segments.resize_segment(g.id, start, end)
            elif undo:
                edit = store.segments.edit_segments(**undo.pop().inverse())
            else:
                continue
            undo.append(edit)
            done += 1
        except LabelError:  # a segment another process changed meanwhile, an overlap refused: the user's kind
            refused += 1
    return {"ok": done, "refused": refused}


def role_labels(store, rng, ops: int) -> dict:
    from emotrace.core.store import LabelError

    saved = corrections = refused = 0
    for _ in range(ops):
        f, segs = _current(store, rng)
        try:
            if rng.random() < 0.2:
                words = store.words.words(f.id)
                if words:
                    store.words.edit_word(rng.choice(words).id, editor=rng.choice(ANNOTATORS),
                                          text=f"w{rng.randrange(1000)}")
                    corrections += 1
                continue
            if not segs:
                time.sleep(0.05)
                continue
            store.labels.record_label(rng.choice(segs).id, annotator=rng.choice(ANNOTATORS),
                                      arousal=rng.randint(1, 7), valence=rng.randint(1, 7), dominance=rng.randint(1, 7))
            saved += 1
        except LabelError:
            refused += 1
    return {"ok": saved + corrections, "labels": saved, "word_edits": corrections, "refused": refused}


def role_transcribe(store, rng, ops: int) -> dict:
    from emotrace.core.speech.asr import Transcriber
    from emotrace.core.workflows.transcribe import transcribe_corpus

    report = transcribe_corpus(store, CORPUS, Transcriber("tiny.en", device="cpu", beam_size=1))
    return {"ok": report.done, "busy": len(report.busy), "skipped": report.skipped, "failed": len(report.failed)}


def role_analyze(store, rng, ops: int) -> dict:
    from emotrace.core.workflows.analyze import analyze_corpus

    report = analyze_corpus(store, CORPUS, device="cpu")
    return {"ok": report.done, "failed": len(report.failed)}


def role_diarize(store, rng, ops: int) -> dict:
    from emotrace.core.speech.diarization import DiarizationOptions
    from emotrace.core.workflows.diarize import diarize_corpus

    report = diarize_corpus(store, CORPUS, DiarizationOptions(max_speakers=3), redo=True)
    return {"ok": report.done, "busy": len(report.busy), "kept_manual": len(report.kept_manual),
            "failed": len(report.failed)}


def role_main(role: str, url: str, seed: int, ops: int) -> int:
    from emotrace.core.store import Store

    store = Store(url, migrate=False)
    try:
        out = globals()[f"role_{role}"](store, random.Random(seed), ops)
        print(json.dumps({"role": role, **out}))
        return 0
    except Exception:  # noqa: BLE001 - the suite counts it: a raw error reached the user
        traceback.print_exc()
        return 1
    finally:
        store.close()


# -- a run ------------------------------------------------------------------------------------------------------------
def setup(url: str, root: Path, files: int) -> dict:
    """The store of one run; returns what the checks compare against."""
    from emotrace.core.store import SegmentSpec, Store, Word
    from emotrace.core.store.assignments import Assignment
    from emotrace.core.vocab import SegmentOrigin
    from emotrace.core.workflows.importing import import_folder
    from emotrace.training.registry import register
    from tests.conftest import tiny_ser_model
    from tests.helpers import speech_files

    store = Store(url)
    speech_files(root / "audio", files, repeats=3)
    import_folder(store, root / "audio", CORPUS)
    f = store.corpora.files(store.corpora.corpus(CORPUS).id)[0]
    with store.db.session() as s:  # file 0: transcribed already (a word every 0.5 s), units of 3 s
        s.add_all(Word(file_id=f.id, start=0.5 * i, end=0.5 * i + 0.4, text=f" w{i}")
                  for i in range(int(f.duration * 2) - 1))
    ids = store.segments.add_segments(f.id, [SegmentSpec(a, min(a + 3.0, f.duration), SegmentOrigin.ASR)
                                             for a in [3.0 * k for k in range(int(f.duration // 3))]])
    store.corpora.mark_transcribed(f.id, "synthetic")
    store.assignments.create_annotation_job(
        store.corpora.corpus(CORPUS).id, "job", [Assignment(sid, ANNOTATORS[k % 2], k) for k, sid in enumerate(ids)],
        blind=False, overlap=1, selection={})
    model = tiny_ser_model(root / "model")
    register(store, name="tiny", folder=model, parent_id=None, metrics={}, config={}, data_counts={}, activate=True)
    store.close()
    return {"assigned": {(1, a) for a in ANNOTATORS}}


def check(url: str, before: dict, saved_labels: int, saved_word_edits: int) -> dict:
    """Every invariant; returns the violations by name and the stale files (before and after a catch-up)."""
    from sqlalchemy import text

    from emotrace.core.store import Store
    from emotrace.core.workflows.analyze import analyze_corpus

    store = Store(url, migrate=False)
    v: dict[str, int] = {}
    with store.engine.connect() as conn:
        q = lambda sql: conn.execute(text(sql)).all()  # noqa: E731
        v["duplicate_words"] = len(q('SELECT file_id, start, "end", text FROM words GROUP BY 1, 2, 3, 4 '
                                     'HAVING count(*) > 1'))
        v["overlapping_current_segments"] = q(
            "SELECT count(*) FROM segments a JOIN segments b ON a.file_id = b.file_id AND a.id < b.id "
            "WHERE a.superseded_at IS NULL AND b.superseded_at IS NULL AND a.origin <> 'imported' "
            "AND b.origin <> 'imported' AND a.start < b.\"end\" - 0.001 AND b.start < a.\"end\" - 0.001")[0][0]
        v["labels_lost"] = max(0, saved_labels - q("SELECT count(*) FROM labels WHERE origin <> 'computed'")[0][0])
        v["word_edits_lost"] = max(0, saved_word_edits - q("SELECT count(*) FROM word_edits")[0][0])
        left = {(r[0], r[1]) for r in q("SELECT DISTINCT job_id, annotator FROM job_assignments")}
        v["assignments_lost"] = len(before["assigned"] - left)
        if conn.dialect.name == "sqlite":
            v["integrity"] = int(q("PRAGMA integrity_check")[0][0] != "ok") + len(q("PRAGMA foreign_key_check"))
    active = store.models.active_model()
    corpus = store.corpora.corpus(CORPUS)
    stale = store.predictions.stale_files(corpus.id, active.id)
    hidden = _unpredicted(store, active.id) - stale  # analysed files missing predictions that are not shown stale
    v["hidden_stale_files"] = len(hidden)
    if stale:
        analyze_corpus(store, CORPUS, device="cpu", file_ids=sorted(stale))
    v["unpredicted_after_catch_up"] = len(_unpredicted(store, active.id))
    store.close()
    return {"violations": v, "stale_files": len(stale)}


def _unpredicted(store, model_id: int) -> set[int]:
    corpus = store.corpora.corpus(CORPUS)
    out = set()
    for fid in store.predictions.predicted_files(corpus.id, model_id):
        have = store.predictions.segment_predictions(model_id, file_id=fid)
        if any(g.id not in have for g in store.segments.segments(fid, include_superseded=False)):
            out.add(fid)
    return out


def one_run(url: str, seed: int, procs: int, ops: int, root: Path, env: dict, files: int = 3) -> dict:
    t0 = time.perf_counter()
    before = setup(url, root, files)
    roles = [ROLES[k % len(ROLES)] for k in range(procs)]
    started = [subprocess.Popen([sys.executable, __file__, "role", role, url, str(seed * 100 + k), str(ops)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
               for k, role in enumerate(roles)]
    results, errors = [], []
    for p in started:
        out, err = p.communicate(timeout=900)
        if p.returncode != 0:
            lines = [ln for ln in err.strip().splitlines() if "Error" in ln or "error" in ln]
            errors.append(lines[-1][:300] if lines else f"rc {p.returncode}")
        else:
            results.append(json.loads(out.strip().splitlines()[-1]))
    saved = sum(r.get("labels", 0) for r in results)
    corrected = sum(r.get("word_edits", 0) for r in results)
    checked = check(url, before, saved, corrected)
    checked["violations"]["process_errors"] = len(errors)
    return {"seed": seed, "processes": procs, "roles": roles,
            "operations": sum(r.get("ok", 0) + r.get("refused", 0) for r in results),
            "refused": sum(r.get("refused", 0) for r in results), "busy_skips": sum(r.get("busy", 0) for r in results),
            **checked, "errors": errors, "seconds": round(time.perf_counter() - t0, 1)}


def _database(pg: str | None, root: Path):
    if pg is None:
        return nullcontext(f"sqlite:///{root / 'store.sqlite'}")
    from tests.postgres.conftest import throwaway_pg_database

    os.environ["EMOTRACE_TEST_PG_URL"] = pg
    return throwaway_pg_database("emotrace_conc")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "role":
        _role, role, url, seed, ops = sys.argv[1:6]
        raise SystemExit(role_main(role, url, int(seed), int(ops)))
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--procs", type=int, default=6)
    ap.add_argument("--ops", type=int, default=120, help="operations per editing or labelling process")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pg", help="a PostgreSQL server URL (scripts/pg_test_server.sh); SQLite otherwise")
    args = ap.parse_args()
    total = {"runs": 0, "processes": 0, "operations": 0, "violations": 0}
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="emotrace-conc-") as tmp:
            root = Path(tmp)
            env = {**os.environ, "EMOTRACE_HOME": str(root / "home"), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
                   "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1", "EMOTRACE_NO_DEFAULT_MODEL": "1"}
            os.environ.update({k: env[k] for k in ("EMOTRACE_HOME", "EMOTRACE_NO_DEFAULT_MODEL")})
            with _database(args.pg, root) as url:
                result = one_run(url, args.seed + run, args.procs, args.ops, root, env)
        print(json.dumps({"backend": "postgresql" if args.pg else "sqlite", **result}), flush=True)
        total["runs"] += 1
        total["processes"] += result["processes"]
        total["operations"] += result["operations"]
        total["violations"] += sum(result["violations"].values())
    print(json.dumps({"summary": True, "backend": "postgresql" if args.pg else "sqlite", **total}))


if __name__ == "__main__":
    main()
