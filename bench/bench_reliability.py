"""Reliability under SIGKILL (issue 16), the long suite: not part of the test run.

Each trial starts one CLI job (`import`, `transcribe`, `analyze` or `train`) in its own process on one SQLite store,
kills it with SIGKILL at a random point of its work (import, transcribe and analyze: a uniform delay after their
job row appears, up to the job's typical length; train, which has no job row: a uniform point of its whole run),
runs the same command again to completion, and then checks:

- `PRAGMA integrity_check` is `ok` and `PRAGMA foreign_key_check` is empty;
- nothing committed before the kill is lost (file, segment, label, word and model-version ids are a superset);
- nothing is duplicated (files by fingerprint and path, words, predictions, model folders);
- the active model's folder passes `check_model_folder` and loads; every registered folder exists;
- no job row is left `running` (the killed one is `interrupted`).

Usage: python bench/bench_reliability.py [--trials 50] [--seed 0] [--speech ../shared/data/speech]
Prints one JSON line per trial and a summary (the figures in bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import labelled_corpus  # noqa: E402

KINDS = ("import", "transcribe", "analyze", "train")


def cli(db: str, *args: str, env: dict) -> list[str]:
    return [sys.executable, "-m", "emotrace.cli", "--db", db, "-q", *args]


def run(cmd: list[str], env: dict, timeout: float = 600) -> tuple[int, str, float]:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout)
    return r.returncode, r.stderr[-2000:], time.perf_counter() - t


def max_job_id(db_path: Path) -> int:
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("SELECT coalesce(max(id), 0) FROM jobs").fetchone()[0]
    finally:
        con.close()


def run_and_kill(cmd: list[str], env: dict, delay: float, db_path: Path | None) -> bool:
    """Start `cmd` and SIGKILL it `delay` s after its job row appears (after its start when `db_path` is None);
    True if it was still running then."""
    first = max_job_id(db_path) if db_path is not None else 0
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    if db_path is not None:
        while proc.poll() is None and max_job_id(db_path) == first:
            time.sleep(0.05)
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


def snapshot(db_path: Path) -> dict:
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        ids = {t: {r[0] for r in con.execute(f"SELECT id FROM {t}")}  # noqa: S608 - fixed table names
               for t in ("audio_files", "segments", "labels", "words", "model_versions")}
        return ids
    finally:
        con.close()


def check(db_path: Path, before: dict, models_dir: Path) -> list[str]:
    """Every invariant the issue names; returns the ones that fail (empty: the trial passed)."""
    from emotrace.core.ser.modeling import EmoTraceModel, ModelFolderError, check_model_folder

    problems = []
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            problems.append(f"integrity_check: {integrity}")
        if con.execute("PRAGMA foreign_key_check").fetchall():
            problems.append("foreign_key_check reports dangling references")
        after = snapshot(db_path)
        for table, old in before.items():
            lost = old - after[table]
            if lost:
                problems.append(f"{len(lost)} committed {table} rows lost")
        dup_queries = {
            "files by fingerprint": "SELECT corpus_id, fingerprint, count(*) FROM audio_files "
                                    "GROUP BY 1, 2 HAVING count(*) > 1",
            "files by path": "SELECT corpus_id, path, count(*) FROM audio_files WHERE status = 'ok' "
                             "GROUP BY 1, 2 HAVING count(*) > 1",
            "words": "SELECT file_id, start, \"end\", text, count(*) FROM words GROUP BY 1, 2, 3, 4 HAVING count(*) > 1",
            "predictions": "SELECT file_id, model_version_id, kind, start, \"end\", segment_id, count(*) FROM predictions "
                           "GROUP BY 1, 2, 3, 4, 5, 6 HAVING count(*) > 1",
            "model folders": "SELECT folder, count(*) FROM model_versions GROUP BY 1 HAVING count(*) > 1",
            "labels": "SELECT segment_id, annotator, origin, arousal, valence, dominance, count(*) FROM labels "
                      "WHERE origin = 'imported' GROUP BY 1, 2, 3, 4, 5, 6 HAVING count(*) > 1",
        }
        for what, q in dup_queries.items():
            if con.execute(q).fetchall():
                problems.append(f"duplicated {what}")
        running = con.execute("SELECT count(*) FROM jobs WHERE status = 'running'").fetchone()[0]
        if running:
            problems.append(f"{running} job rows left running")
        folders = [r[0] for r in con.execute("SELECT folder FROM model_versions")]
        active = [r[0] for r in con.execute("SELECT folder FROM model_versions WHERE active")]
    finally:
        con.close()
    for folder in folders:
        if not Path(folder).is_dir():
            problems.append(f"registered folder missing: {folder}")
    if len(active) != 1:
        problems.append(f"{len(active)} active models")
    else:
        try:
            check_model_folder(active[0])
            EmoTraceModel.from_pretrained(active[0])
        except (ModelFolderError, OSError, ValueError) as exc:
            problems.append(f"active model does not load: {exc}")
    return problems


def job_statuses(db_path: Path) -> Counter:
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return Counter(r[0] for r in con.execute("SELECT status FROM jobs"))
    finally:
        con.close()


def orphan_folders(db_path: Path, models_dir: Path) -> int:
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    registered = {Path(r[0]).name for r in con.execute("SELECT folder FROM model_versions")}
    con.close()
    return sum(1 for p in models_dir.iterdir() if p.is_dir() and p.name not in registered)


def new_import_folder(base: Path, k: int, n: int = 150) -> Path:
    """Noise files at 44.1 kHz (resampled on import), so the import job lasts a few seconds to kill it inside."""
    rng = np.random.default_rng(1000 + k)
    folder = base / f"imp{k:03d}"
    for i in range(n):
        x = (0.1 * rng.standard_normal(int(rng.uniform(2.0, 5.0) * 44100))).astype(np.float32)
        path = folder / f"spk{i % 4}" / f"u{i:03d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, x, 44100)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--speech", default=str(ROOT.parent / "shared" / "data" / "speech"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="emotrace-reliability-"))
    home = tmp / "home"
    env = {**os.environ, "EMOTRACE_HOME": str(home), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "2"}
    os.environ["EMOTRACE_HOME"] = str(home)
    db_path = tmp / "store.sqlite"
    db = str(db_path)
    t0 = time.perf_counter()
    labelled_corpus(tmp / "gen", speakers=8, per_speaker=4)
    speech = tmp / "speech"
    speech.mkdir()
    for name in ("jfk.flac",):
        if (Path(args.speech) / name).is_file():
            shutil.copy(Path(args.speech) / name, speech / name)
    typical = {}
    for kind, cmd in (("import", cli(db, "import", str(tmp / "gen"), "--corpus", "gen", env=env)),
                      ("import", cli(db, "import", str(speech), "--corpus", "speech", env=env)),
                      ("train", cli(db, "train", "--corpus", "gen", "--epochs", "30", env=env)),
                      ("transcribe", cli(db, "transcribe", "--corpus", "speech", "--model", "tiny.en", "--device",
                                         "cpu", env=env)),
                      ("analyze", cli(db, "analyze", "--corpus", "gen", "--device", "cpu", env=env)),
                      ("train", cli(db, "train", "--corpus", "gen", "--epochs", "30", env=env))):
        rc, err, seconds = run(cmd, env)
        if rc != 0:
            raise SystemExit(f"setup step {kind} failed (rc {rc}): {err}")
        typical[kind] = seconds
    imp = new_import_folder(tmp / "imports", 0)
    rc, err, _ = run(cli(db, "import", str(imp), "--corpus", "imp", env=env), env)
    con = sqlite3.connect(db_path)  # how long each kind's job itself runs, from its row's timestamps
    for kind in ("import", "transcribe", "analyze"):
        row = con.execute("SELECT (julianday(updated_at) - julianday(created_at)) * 86400 FROM jobs WHERE kind = ? "
                          "ORDER BY id DESC LIMIT 1", (kind,)).fetchone()
        typical[kind] = max(0.5, float(row[0] or 2.0)) if row else 2.0
    con.close()
    setup_s = time.perf_counter() - t0
    print(json.dumps({"setup_seconds": round(setup_s, 1), "typical_seconds": {k: round(v, 1) for k, v in typical.items()}}),
          flush=True)

    commands = {
        "transcribe": lambda k: cli(db, "transcribe", "--corpus", f"speech{k:03d}", "--model", "tiny.en", "--device",
                                    "cpu", env=env),
        "analyze": lambda k: cli(db, "analyze", "--corpus", "gen", "--device", "cpu", env=env),
        "train": lambda k: cli(db, "train", "--corpus", "gen", "--epochs", "30", "--seed", str(k), env=env),
    }
    results = []
    for k in range(args.trials):
        kind = KINDS[k % len(KINDS)]
        if kind == "import":
            folder = new_import_folder(tmp / "imports", k + 1)
            cmd = cli(db, "import", str(folder), "--corpus", "imp", env=env)
            again = cmd
        else:
            cmd = commands[kind](k)
            again = commands[kind](k)
        if kind == "transcribe":  # a fresh corpus each time, so the killed run has work and its words must survive
            run(cli(db, "import", str(speech), "--corpus", f"speech{k:03d}", env=env), env)
        delay = rnd.uniform(0.0, 1.0) * typical[kind] if kind != "train" else rnd.uniform(0.3, 1.0) * typical[kind]
        before = snapshot(db_path)
        jobs_before = job_statuses(db_path)
        versions_before = len(before["model_versions"])
        t = time.perf_counter()
        killed = run_and_kill(cmd, env, delay, None if kind == "train" else db_path)
        rc, err, _s = run(again, env)
        problems = check(db_path, before, home / "models")
        if rc != 0:
            problems.append(f"rerun rc {rc}: {err.strip().splitlines()[-1] if err.strip() else ''}")
        new_jobs = job_statuses(db_path) - jobs_before
        # inside the work: the killed job's row is `interrupted`; for train, only the rerun registered a version
        inside = (new_jobs.get("interrupted", 0) > 0 if kind != "train"
                  else len(snapshot(db_path)["model_versions"]) - versions_before == 1)
        record = {"trial": k, "kind": kind, "delay_s": round(delay, 2), "killed_alive": killed,
                  "killed_inside_job": inside, "rerun_rc": rc,
                  "new_job_rows": dict(new_jobs),
                  "ok": not problems, "problems": problems, "seconds": round(time.perf_counter() - t, 1)}
        results.append(record)
        print(json.dumps(record), flush=True)
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    jobs = dict(Counter(r[0] for r in con.execute("SELECT status FROM jobs")))
    versions = con.execute("SELECT count(*) FROM model_versions").fetchone()[0]
    con.close()
    summary = {
        "trials": len(results), "passed": sum(r["ok"] for r in results),
        "killed_alive": sum(r["killed_alive"] for r in results),
        "killed_inside_job": sum(r["killed_inside_job"] for r in results),
        "by_kind": {kind: {"trials": sum(r["kind"] == kind for r in results),
                           "killed_inside_job": sum(r["kind"] == kind and r["killed_inside_job"] for r in results),
                           "passed": sum(r["kind"] == kind and r["ok"] for r in results)} for kind in KINDS},
        "job_statuses": jobs, "model_versions": versions,
        "orphan_model_folders": orphan_folders(db_path, home / "models"),
        "total_seconds": round(time.perf_counter() - t0, 1),
        "failures": [r for r in results if not r["ok"]],
    }
    print(json.dumps({"summary": summary}), flush=True)
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
