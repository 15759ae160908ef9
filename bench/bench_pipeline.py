"""The whole pipeline on one machine: import, transcribe, analyze an N-minute file into a fresh store, timed.

Decode + ASR (`--asr-backend`, default auto: Whisper on PyTorch where CTranslate2 cannot use the GPU) + SER
(the bundled default model) + store writes. On a GPU: `--device cuda --minutes 60` (goal: at least 120x real
time for the whole run). Prints one JSON line per stage and a total.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("EMOTRACE_HOME", tempfile.mkdtemp())


def speech_like(path: Path, minutes: float) -> None:
    """Real speech when ../shared is there (its recordings looped with pauses), else the demo audio looped."""
    from emotrace.core.audio.decode import AudioSource

    root = Path(__file__).resolve().parents[1]
    sources = sorted((root.parent / "shared" / "data" / "speech").glob("*.flac")) or sorted(
        (root / "resources" / "demo").glob("*.flac"))
    clips = [AudioSource(p).decode_all() for p in sources]
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", 16000, 1, subtype="PCM_16") as out:
        written = 0.0
        while written < minutes * 60:
            clip = clips[int(rng.integers(len(clips)))]
            pause = np.zeros(int(16000 * rng.uniform(0.3, 1.5)), np.float32)
            out.write(np.concatenate([clip, pause]))
            written += (len(clip) + len(pause)) / 16000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--asr-model", default="tiny.en")
    ap.add_argument("--asr-backend", default="auto")
    args = ap.parse_args()
    from emotrace.core.speech.asr_torch import open_transcriber
    from emotrace.core.store import Store
    from emotrace.core.workflows.analyze import analyze_corpus
    from emotrace.core.workflows.importing import import_folder
    from emotrace.core.workflows.transcribe import transcribe_corpus
    from emotrace.training.default_model import ensure_default_model

    tmp = Path(tempfile.mkdtemp())
    (tmp / "audio").mkdir()
    speech_like(tmp / "audio" / "long.wav", args.minutes)
    store = Store(f"sqlite:///{tmp / 'p.sqlite'}")
    ensure_default_model(store)
    total, audio_s = 0.0, args.minutes * 60
    for stage, run in (
        ("import", lambda: import_folder(store, tmp / "audio", "p")),
        ("transcribe", lambda: transcribe_corpus(store, "p", open_transcriber(
            args.asr_model, device=args.device, backend=args.asr_backend, beam_size=1))),
        ("analyze", lambda: analyze_corpus(store, "p", device=args.device)),
    ):
        t = time.perf_counter()
        report = run()
        dt = time.perf_counter() - t
        total += dt
        print(json.dumps({"stage": stage, "seconds": round(dt, 1), "x_real_time": round(audio_s / dt, 1),
                          "report": report.summary().splitlines()[0]}), flush=True)
    print(json.dumps({"stage": "total", "audio_s": audio_s, "seconds": round(total, 1),
                      "x_real_time": round(audio_s / total, 1), "device": args.device}), flush=True)


if __name__ == "__main__":
    main()
