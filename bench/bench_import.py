"""Import benchmark: 1,000 generated files into a fresh SQLite store; one file's 10,000 segments queried."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emotrace.core.store import AudioFile, Label, Prediction, Segment, Store  # noqa: E402
from emotrace.core.workflows.importing import import_folder  # noqa: E402


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(0)
    root = tmp / "corpus"
    for i in range(1000):
        sec = rng.uniform(2.75, 11.0)
        x = (0.1 * rng.standard_normal(int(sec * 16000))).astype(np.float32)
        path = root / f"spk{i % 20:02d}" / f"utt{i:04d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, x, 16000)
    store = Store(f"sqlite:///{tmp / 'bench.sqlite'}")
    t = time.perf_counter()
    report = import_folder(store, root, "bench")
    first = time.perf_counter() - t
    t = time.perf_counter()
    import_folder(store, root, "bench")
    again = time.perf_counter() - t

    with store.db.session() as s:  # one 3-hour file with 10,000 segments, a label and a prediction each
        f = AudioFile(corpus_id=store.corpora.corpus("bench").id, path="/long.wav", fingerprint="long", duration=10800)
        s.add(f)
        s.flush()
        from emotrace.core.store import ModelVersion

        mv = ModelVersion(name="bench", folder="/tmp")
        s.add(mv)
        s.flush()
        segs = [Segment(file_id=f.id, start=i * 1.08, end=i * 1.08 + 1.0, origin="asr") for i in range(10000)]
        s.add_all(segs)
        s.flush()
        s.add_all(Label(segment_id=g.id, annotator="a", arousal=4, valence=4, dominance=4, origin="manual") for g in segs)
        s.add_all(Prediction(file_id=f.id, segment_id=None, model_version_id=mv.id, kind="window", start=i * 1.0,
                             end=i + 4.0, arousal=4, valence=4, dominance=4) for i in range(10800))
        file_id, mv_id = f.id, mv.id
    timings = {"segments": [], "current_labels": [], "segment_labels": [], "trajectory": []}
    for _ in range(5):
        for name, fn in (("segments", lambda: store.segments.segments(file_id)),
                         ("current_labels", lambda: store.labels.current_labels(file_id=file_id)),
                         ("segment_labels", lambda: store.labels.segment_labels(file_id=file_id)),
                         ("trajectory", lambda: store.predictions.trajectory(file_id, mv_id)[0])):
            t = time.perf_counter()
            n = len(fn())
            timings[name].append(time.perf_counter() - t)
            assert n >= 10000
    result = {
        "files": report.added, "failed": len(report.failed), "import_s": round(first, 2),
        "files_per_s": round(1000 / first, 1), "reimport_s": round(again, 2),
        **{f"query_{k}_ms_median": round(1000 * statistics.median(v), 1) for k, v in timings.items()},
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
