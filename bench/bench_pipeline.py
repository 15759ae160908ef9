"""EmoTrace's default pipeline against faster-whisper alone, in one run, on the same file (issue 25, goal 1).

1. The file: `../shared/scripts/make_podcast.py --minutes N` (real speech and RAVDESS clips with pauses, the file of
   the issue) when ../shared is there, else the packaged demo audio looped with pauses.
2. faster-whisper alone, at its own defaults (beam 5, no VAD, no word times), the same Whisper model, int8 on the
   CPU: load, decode, transcribe. Also with EmoTrace's options (beam 5, word times, VAD) as a second reference.
3. EmoTrace's pipeline with the front ends' defaults: `import` + `transcribe` + `analyze` into a fresh store,
   each stage timed with its model loading.
4. Word error rate on the reference speech (jfk.flac, the two channels of stereo_diarization.wav and the
   pytest-audioeval English recordings) of faster-whisper at beam 5 and of EmoTrace's default transcriber.

Prints JSON lines and a last line with the ratio (pipeline seconds / faster-whisper seconds; goal <= 0.6) and
the WER check (goal: at most 2 points above beam 5). `--device cuda --minutes 60` on a GPU machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("EMOTRACE_HOME", tempfile.mkdtemp())
os.environ.setdefault("HF_HUB_OFFLINE", "1")
SHARED = ROOT.parent / "shared"
STEREO = ("He began a confused complaint against the wizard, who had vanished behind the curtain on the left.",
          "The horizon seems extremely distant.")


def podcast(path: Path, minutes: float) -> str:
    """The issue's podcast-like file when ../shared is there, else the demo audio looped with pauses."""
    script = SHARED / "scripts" / "make_podcast.py"
    if script.exists():
        subprocess.run([sys.executable, str(script), str(path), "--minutes", str(minutes)], check=True,
                       capture_output=True)
        return "make_podcast.py"
    from emotrace.core.audio.decode import AudioSource

    clips = [AudioSource(p).decode_all() for p in sorted((ROOT / "resources" / "demo").glob("*.flac"))]
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", 16000, 1, subtype="PCM_16") as out:
        written = 0.0
        while written < minutes * 60:
            clip = clips[int(rng.integers(len(clips)))]
            pause = np.zeros(int(16000 * rng.uniform(0.3, 1.5)), np.float32)
            out.write(np.concatenate([clip, pause]))
            written += (len(clip) + len(pause)) / 16000
    return "demo audio looped"


def reference_speech() -> dict[str, tuple[np.ndarray, str]]:
    from bench_asr_torch import corpus

    items = corpus()
    stereo = SHARED / "data" / "speech" / "stereo_diarization.wav"
    if stereo.exists():
        data, sr = sf.read(stereo, dtype="float32")
        if sr == 16000:
            for k, ref in enumerate(STEREO):
                items[f"stereo_diarization.wav[{k}]"] = (np.ascontiguousarray(data[:, k]), ref)
    return items


def wer(transcribe, items) -> float:
    import jiwer
    from bench_asr_torch import normalise

    refs = [normalise(ref) for _, ref in items.values()]
    hyps = [normalise(transcribe(audio)) for audio, _ in items.values()]
    return round(100 * jiwer.wer(refs, hyps), 2)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    from emotrace.core.speech.asr import DEFAULT_ASR_MODEL

    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--asr-model", default=DEFAULT_ASR_MODEL, help="default: the front ends' (base)")
    args = ap.parse_args()
    from faster_whisper import WhisperModel, decode_audio

    from emotrace.core.speech.asr_torch import open_transcriber
    from emotrace.core.speech.whisper_models import resolve_whisper_model
    from emotrace.core.store import Store
    from emotrace.core.workflows.analyze import analyze_corpus
    from emotrace.core.workflows.importing import import_folder
    from emotrace.core.workflows.transcribe import transcribe_corpus
    from emotrace.training.default_model import ensure_default_model

    tmp = Path(tempfile.mkdtemp())
    (tmp / "audio").mkdir()
    source = podcast(tmp / "audio" / "podcast.flac", args.minutes)
    audio_path = tmp / "audio" / "podcast.flac"
    audio_s = sf.info(audio_path).duration
    store = Store(f"sqlite:///{tmp / 'p.sqlite'}")
    ensure_default_model(store)
    from emotrace.core.ser.whisper_torch import load_whisper_encoder

    load_whisper_encoder("whisper:tiny.en")  # the one-time conversion of the packaged weights (1.4 s), not timed
    model = args.asr_model
    fw_device = "cuda" if args.device.startswith("cuda") else "cpu"
    fw_compute = "float16" if fw_device == "cuda" else "int8"
    print(json.dumps({"file": source, "audio_s": round(audio_s, 1), "asr_model": model, "device": args.device,
                      "cores": os.cpu_count(), "load_before": os.getloadavg()[0]}), flush=True)

    def faster_whisper_alone(**options):
        fw = WhisperModel(resolve_whisper_model(model), device=fw_device, compute_type=fw_compute)
        return sum(len(s.text) > 0 for s in fw.transcribe(decode_audio(str(audio_path)), **options)[0])

    from emotrace.core.speech.asr import cuda_usable

    reference = fw_device == "cpu" or cuda_usable()[0]  # CTranslate2 on a CUDA-13-only GPU: no reference there
    ref_s = ref2_s = float("nan")
    if reference:
        _, ref_s = timed(faster_whisper_alone)
        print(json.dumps({"stage": "faster-whisper alone, its defaults (beam 5)", "seconds": round(ref_s, 1),
                          "x_real_time": round(audio_s / ref_s, 1)}), flush=True)
        _, ref2_s = timed(lambda: faster_whisper_alone(beam_size=5, word_timestamps=True, vad_filter=True))
        print(json.dumps({"stage": "faster-whisper alone, beam 5 + word times + VAD", "seconds": round(ref2_s, 1),
                          "x_real_time": round(audio_s / ref2_s, 1)}), flush=True)
    else:
        print(json.dumps({"stage": "faster-whisper alone", "skipped": cuda_usable()[1]}), flush=True)

    total = 0.0
    for stage, run in (
        ("import", lambda: import_folder(store, tmp / "audio", "p")),
        ("transcribe", lambda: transcribe_corpus(store, "p", open_transcriber(model, device=args.device))),
        ("analyze", lambda: analyze_corpus(store, "p", device=args.device)),
    ):
        report, dt = timed(run)
        total += dt
        print(json.dumps({"stage": stage, "seconds": round(dt, 1), "x_real_time": round(audio_s / dt, 1),
                          "report": report.summary().splitlines()[0]}), flush=True)

    items = reference_speech()
    fw = WhisperModel(resolve_whisper_model(model), device=fw_device if reference else "cpu",
                      compute_type=fw_compute if reference else "int8")
    ours = open_transcriber(model, device=args.device)
    wer_ref = wer(lambda a: " ".join(s.text for s in fw.transcribe(a, beam_size=5)[0]), items)
    wer_ours = wer(lambda a: " ".join(w.text for s in ours.transcribe(a) for w in s.words), items)
    ratio = total / ref_s
    print(json.dumps({
        "stage": "summary", "audio_s": round(audio_s, 1), "pipeline_s": round(total, 1),
        "pipeline_x_real_time": round(audio_s / total, 1), "faster_whisper_s": round(ref_s, 1),
        "ratio": round(ratio, 3), "ratio_goal": 0.6, "ratio_with_word_times_vad": round(total / ref2_s, 3),
        "wer_beam5": wer_ref, "wer_emotrace": wer_ours, "wer_items": len(items),
        "wer_ok": wer_ours <= wer_ref + 2.0, "ok": ratio <= 0.6 and wer_ours <= wer_ref + 2.0,
        "load_after": os.getloadavg()[0]}), flush=True)


if __name__ == "__main__":
    main()
