"""Trace import at the sizes issue 21 measured (a 34 MB CARMA CSV, an 18 MB NOVA file): time and peak memory of
reading + validating + writing one pass into a real SQLite store. Before the interchange model the same files
took 220 s / 5.1 GB (CARMA) and over 300 s / 7.6 GB (NOVA, killed).

    python bench/bench_trace_import.py            # prints one line per format
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from emotrace.core.formats.traces import read_carma_csv, read_nova
from emotrace.core.store import Store
from emotrace.core.store.models import AudioFile, Corpus


def _store(tmp: Path, hours: float) -> tuple[Store, int]:
    store = Store(f"sqlite:///{tmp / 'bench.sqlite'}")
    with store.db.session() as s:  # a bench-only file row of the right length (no audio needs decoding)
        corpus = Corpus(name="bench", root=str(tmp))
        s.add(corpus)
        s.flush()
        f = AudioFile(corpus_id=corpus.id, path=str(tmp / "long.wav"), fingerprint="bench", duration=hours * 3600,
                      sample_rate=16000, channels=1)
        s.add(f)
        s.flush()
        return store, f.id


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "carma"
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if kind == "carma":
            n = 2_000_000  # ~34 MB: 5.6 h at 100 Hz
            t = np.arange(n) / 100.0
            path = tmp / "trace.csv"
            with open(path, "w") as fh:
                fh.write("time,value\n")
                fh.writelines(f"{a:.3f},{b:.4f}\n" for a, b in zip(t, 80 * np.sin(t / 7)))
            store, fid = _store(tmp, n / 100 / 3600 + 0.01)
            start = time.perf_counter()
            tt, vv = read_carma_csv(path, duration=n / 100 + 1)
            rate = 100.0
        else:
            n = 1_800_000  # ~18 MB of `score;1` lines: 20 h at 25 Hz
            header = tmp / "ann.annotation"
            header.write_text('<?xml version="1.0"?><annotation><scheme name="arousal" type="CONTINUOUS" sr="25" '
                              'min="0" max="1"/></annotation>')
            with open(str(header) + "~", "w") as fh:
                fh.writelines(f"{0.5 + 0.4 * np.sin(k / 300):.5f};1\n" for k in range(n))
            path = header
            store, fid = _store(tmp, n / 25 / 3600 + 0.01)
            start = time.perf_counter()
            tt, vv, _meta = read_nova(path, duration=n / 25 + 1)
            rate = 25.0
        read = time.perf_counter() - start
        store.traces.import_trace(fid, annotator="ann", dimension="arousal", rate=rate, times=tt, values=vv)
        total = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size = (path.stat().st_size + (Path(str(path) + "~").stat().st_size if kind == "nova" else 0)) / 1e6
        print(f"{kind}: {size:.0f} MB, {len(tt):,} samples: read+check {read:.1f} s, with the store write "
              f"{total:.1f} s, peak RSS {peak:.0f} MB")
        store.close()


if __name__ == "__main__":
    main()
