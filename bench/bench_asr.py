"""ASR real-time factor on this machine: tiny.en and base, int8 on the CPU (or float16 on a GPU), beam 1 and 5.

RTF = processing seconds / audio seconds (lower is faster). Audio: ../shared/data/speech (decoded once).
Run on a GPU machine with `--device cuda` (needs CUDA 12's cuBLAS for CTranslate2).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emotrace.core.audio.decode import AudioSource  # noqa: E402
from emotrace.core.speech.asr import Transcriber  # noqa: E402

SPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--models", default="tiny.en,base")
    ap.add_argument("--folder", default=str(SPEECH))
    args = ap.parse_args()
    audios = {p.name: AudioSource(p).decode_all() for p in sorted(Path(args.folder).glob("*")) if p.suffix in
              (".flac", ".wav", ".mp3")}
    total = sum(len(a) for a in audios.values()) / 16000
    rows = []
    for model in args.models.split(","):
        for beam, batch in ((1, 0), (5, 0), (1, 8), (5, 8)):
            tr = Transcriber(model, device=args.device, beam_size=beam, batch_size=batch)
            list(tr.transcribe(audios[next(iter(audios))][:16000 * 5]))  # warm-up
            t = time.perf_counter()
            words = sum(len(s.words) for a in audios.values() for s in tr.transcribe(a))
            dt = time.perf_counter() - t
            rows.append({"model": model, "device": tr.device, "compute": tr.compute_type, "beam": beam,
                         "batched": batch or None,
                         "audio_s": round(total, 1), "wall_s": round(dt, 2), "rtf": round(dt / total, 3),
                         "words": words})
            print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()
