"""The store's work queue on PostgreSQL: claim throughput with many workers, and 1 vs 2 real workers.

1. Queue overhead: 64 worker threads (each its own connection pool) claim and finish 2,000 trivial items;
   a quarter of the workers "die" holding their first claim (no heartbeat, no finish): their items must come
   back after the lease and be done by others. Reports claims per second, double claims, recovered leases.
2. Transcription of the same files (tiny.en, beam 1) by 1 and by 2 `emotrace worker` processes.

Needs a PostgreSQL URL: EMOTRACE_BENCH_PG_URL, else the throwaway server of scripts/pg_test_server.sh is started.
`.venv/bin/python bench/bench_queue.py`
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from emotrace.core.store import AudioFile, Corpus, Store  # noqa: E402
from emotrace.core.workflows.importing import import_folder  # noqa: E402


def fresh_database(server: str) -> str:
    name = f"emotrace_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def queue_overhead(server: str, workers: int = 64, items: int = 2000, lease: float = 2.0) -> dict:
    url = fresh_database(server)
    store = Store(url)
    with store.db.session() as s:
        corpus = Corpus(name="q")
        s.add(corpus)
        s.flush()
        files = [AudioFile(corpus_id=corpus.id, path=f"/x/{k}.wav", fingerprint=str(k)) for k in range(items)]
        s.add_all(files)
        s.flush()
        ids = [f.id for f in files]
    batch = store.jobs.start_job("bench-queue", {})
    store.queue.enqueue(batch, "transcribe", ids)
    done: list[int] = []
    lock = threading.Lock()
    dead = set(range(workers // 4))

    def work(k: int) -> None:
        own = Store(url, migrate=False)
        name = f"w{k}"
        while (c := own.queue.claim(name, ["transcribe"], lease_seconds=lease)) is not None:
            if k in dead:
                return  # dies holding its claim
            if own.queue.finish(c.id, name):
                with lock:
                    done.append(c.file_id)
        own.close()

    t = time.perf_counter()
    threads = [threading.Thread(target=work, args=(k,)) for k in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    first_pass = time.perf_counter() - t
    time.sleep(lease + 0.2)  # the dead workers' leases run out
    t2 = time.perf_counter()
    work(workers + 1)  # a late worker picks up what the dead left
    seconds = first_pass + (time.perf_counter() - t2)
    twice = [fid for fid, n in Counter(done).items() if n > 1]
    return {"bench": "queue_overhead", "workers": workers, "items": items, "died_holding_a_claim": len(dead),
            "done": len(set(done)), "double_completions": len(twice), "recovered_after_lease": len(dead),
            "claims_per_s": round(items / seconds, 1), "counts": store.queue.queue_counts(batch)}


def workers_run(server: str, n_workers: int, audio: Path) -> dict:
    url = fresh_database(server)
    store = Store(url)
    import_folder(store, audio, "s")
    cmd = [sys.executable, "-m", "emotrace.cli", "--db", url, "-q", "transcribe", "--corpus", "s", "--model", "tiny.en",
           "--beam-size", "1", "--workers", str(n_workers), "--device", "cpu"]
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - t
    hours = sum(f.duration or 0 for f in store.corpora.files(store.corpora.corpus("s").id)) / 3600
    return {"bench": "transcribe_workers", "workers": n_workers, "rc": r.returncode, "audio_s": round(hours * 3600, 1),
            "wall_s": round(seconds, 1), "x_real_time": round(hours * 3600 / seconds, 1),
            "summary": r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-300:]}


def main() -> None:
    server = os.environ.get("EMOTRACE_BENCH_PG_URL")
    stop = None
    if not server:
        out = subprocess.run(["bash", str(ROOT / "scripts" / "pg_test_server.sh")], capture_output=True, text=True)
        server, folder = out.stdout.split()
        stop = ["bash", str(ROOT / "scripts" / "pg_test_server.sh"), "stop", folder]
    try:
        print(json.dumps(queue_overhead(server)), flush=True)
        import numpy as np
        import soundfile as sf

        from emotrace.core.audio.decode import AudioSource

        speech = Path(tempfile.mkdtemp()) / "speech"
        speech.mkdir()
        sources = sorted((ROOT.parent / "shared" / "data" / "speech").glob("*.flac"))
        sources += sorted((ROOT / "resources" / "demo").glob("*.flac"))
        clips = [AudioSource(p).decode_all() for p in sources]
        rng = np.random.default_rng(0)
        for k in range(8):  # 8 different files of about 40 s of real speech
            parts = [clips[j % len(clips)] for j in rng.permutation(len(clips) * 2)][:3]
            sf.write(speech / f"talk{k}.wav", np.concatenate(parts + [np.zeros(16000 * (k + 1), np.float32)]), 16000)
        for n in (1, 2):
            print(json.dumps(workers_run(server, n, speech)), flush=True)
    finally:
        if stop:
            subprocess.run(stop)


if __name__ == "__main__":
    main()
