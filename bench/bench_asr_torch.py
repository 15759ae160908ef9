"""Whisper on PyTorch against faster-whisper: word error rate on speech with reference text, and speed.

References: jfk.flac (../shared/data/speech, its README's text) and the three pytest-audioeval WAVs with their
transcripts. Both engines with the same packaged weights (tiny.en, base) and beam 1; RTF = processing
seconds / audio seconds. `--device cuda` on a GPU machine times the torch engine in float16 (the CTranslate2
engine needs CUDA 12's cuBLAS and is skipped there when it cannot load).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jiwer  # noqa: E402

from emotrace.core.audio.decode import AudioSource  # noqa: E402

SPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech"
JFK = ("And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your "
       "country.")
NUMBERS = dict(zip("zero one two three four five six seven eight nine ten".split(), map(str, range(11))))


def normalise(text: str) -> str:
    words = re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()
    return re.sub(r"(?<=\d) (?=\d)", "", " ".join(NUMBERS.get(w, w) for w in words))


def corpus() -> dict[str, tuple]:
    items = {}
    if (SPEECH / "jfk.flac").exists():
        items["jfk.flac"] = (AudioSource(SPEECH / "jfk.flac").decode_all(), JFK)
    samples = Path(list(importlib.util.find_spec("pytest_audioeval").submodule_search_locations)[0]) / "samples"
    for wav in sorted((samples / "audio" / "en").glob("*.wav")):
        items[wav.name] = (AudioSource(wav).decode_all(), wav.with_suffix(".txt").read_text().strip())
    return items


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--models", default="tiny.en,base")
    args = ap.parse_args()
    from emotrace.core.speech.asr import Transcriber
    from emotrace.core.speech.asr_torch import TorchTranscriber

    items = corpus()
    seconds = sum(len(a) for a, _ in items.values()) / 16000
    for model in args.models.split(","):
        for name, make in (("ctranslate2", lambda m=model: Transcriber(m, device=args.device, beam_size=1)),
                           ("torch", lambda m=model: TorchTranscriber(m, device=args.device, beam_size=1))):
            try:
                engine = make()
            except Exception as exc:  # noqa: BLE001 - e.g. CTranslate2 on a CUDA-13-only GPU: report, go on
                print(json.dumps({"model": model, "engine": name, "error": str(exc)[:200]}), flush=True)
                continue
            list(engine.transcribe(next(iter(items.values()))[0][:16000 * 3]))  # warm-up
            hyps, refs = [], []
            t = time.perf_counter()
            for audio, ref in items.values():
                hyps.append(normalise(" ".join(w.text for s in engine.transcribe(audio) for w in s.words)))
                refs.append(normalise(ref))
            dt = time.perf_counter() - t
            print(json.dumps({"model": model, "engine": name, "device": args.device, "files": len(items),
                              "audio_s": round(seconds, 1), "wer": round(jiwer.wer(refs, hyps), 4),
                              "rtf": round(dt / seconds, 3)}), flush=True)


if __name__ == "__main__":
    main()
