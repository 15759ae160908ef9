"""Diarization error rate and speed of `emotrace.core.speech.diarization` on audio whose truth is known.

1. ../shared/data/speech/two_speakers_30s.wav against its RTTM (pyannote's tutorial clip, with overlap).
2. A podcast-like file (`../shared/scripts/make_podcast.py --minutes 20`: the shared conversational speech and
   RAVDESS clips in turn, with its layout of what plays when): `emotrace import` then `emotrace diarize` as a
   user runs them, in their own processes; the diarize command is timed end to end (x real time) and its
   turns scored against the layout (each RAVDESS clip one actor, trimmed to its loud part; the two-speaker
   clip by its RTTM; JFK one speaker). The podcast has more voices than `--max-speakers` (6), so its DER is
   high by construction: compare it before and after a change, not with the other figures.
3. Mixes built here from RAVDESS actors (../shared/data/ravdess-dev): utterances of 2, 3 and 4 actors in turn,
   0.4-1.2 s pauses, so every turn boundary is known. Speakers are not given: the count is estimated.

DER by pyannote.metrics with a 0.25 s collar on each side of a reference boundary (pyannote's `collar=0.5`,
the NIST md-eval convention), overlap scored. Prints JSON lines.
`.venv/bin/python bench/bench_diarization.py [--minutes 20] [--podcast-only]`
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emotrace.core.audio.decode import AudioSource  # noqa: E402
from emotrace.core.speech.diarization import DiarizationOptions, SpeakerEncoder, diarize_file  # noqa: E402

# ../shared beside the checkout (a worktree one level deeper finds it too)
SHARED = next((p / "shared" / "data" for p in Path(__file__).resolve().parents[1:] if (p / "shared" / "data").is_dir()),
              Path(__file__).resolve().parents[2] / "shared" / "data")
MAKE_PODCAST = SHARED.parent / "scripts" / "make_podcast.py"


def der(reference: list[tuple[float, float, str]], turns) -> dict:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref, hyp = Annotation(), Annotation()
    for a, b, s in reference:
        ref[Segment(a, b)] = s
    for t in turns:
        hyp[Segment(t.start, t.end)] = t.speaker
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = DiarizationErrorRate(collar=0.5)(ref, hyp, detailed=True)
    total = d["total"]
    return {"der": round(d["diarization error rate"], 4), "missed": round(d["missed detection"] / total, 4),
            "false_alarm": round(d["false alarm"] / total, 4), "confusion": round(d["confusion"] / total, 4)}


def speech_bounds(x: np.ndarray, frame: int = 160) -> tuple[float, float]:
    """First and last 10 ms frame whose RMS is within 30 dB of the clip's loudest frame."""
    rms = np.sqrt(np.mean(x[: len(x) // frame * frame].reshape(-1, frame) ** 2, axis=1)) + 1e-9
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > -30)
    return loud[0] * frame / 16000, (loud[-1] + 1) * frame / 16000


def ravdess_mix(actors: list[int], turns: int, out: Path, seed: int) -> list[tuple[float, float, str]]:
    rng = np.random.default_rng(seed)
    pieces, truth, t = [], [], 0.0
    for k in range(turns):
        actor = actors[k % len(actors)] if k < len(actors) else int(rng.choice(actors))
        files = sorted((SHARED / "ravdess-dev" / f"Actor_{actor:02d}").glob("*.flac"))
        x = AudioSource(files[int(rng.integers(len(files)))]).decode_all()
        pieces.append(x)
        a, b = speech_bounds(x)  # RAVDESS clips have about a second of silence around the sentence
        truth.append((t + a, t + b, f"actor{actor}"))
        t += len(x) / 16000
        pause = np.zeros(int(16000 * rng.uniform(0.4, 1.2)), np.float32)
        pieces.append(pause)
        t += len(pause) / 16000
    sf.write(out, np.concatenate(pieces), 16000)
    return truth


def podcast_reference(flac: Path) -> list[tuple[float, float, str]]:
    """Who speaks when in a make_podcast.py file, from its layout TSV (beside it)."""
    audio = AudioSource(flac).decode_all()
    rttm = [line.split() for line in (SHARED / "speech" / "two_speakers_30s.rttm").read_text().splitlines()]
    reference = []
    for line in flac.with_suffix(".layout.tsv").read_text().splitlines()[1:]:
        start, end, source = line.split("\t")
        start, end = float(start), float(end)
        if source == "gap":
            continue
        if source.endswith("two_speakers_30s.wav"):
            reference += [(start + float(p[3]), start + float(p[3]) + float(p[4]), f"pyannote-{p[7]}") for p in rttm]
        else:
            a, b = speech_bounds(audio[int(start * 16000): int(end * 16000)])
            who = source.split("/")[1] if source.startswith("ravdess") else Path(source).stem
            reference.append((start + a, start + b, who))
    return reference


def podcast(minutes: float) -> None:
    """`emotrace import` + `emotrace diarize` of a generated podcast in a fresh store; the diarize step timed."""
    # lazy: the store only for this section (the others run the diarizer in process)
    from emotrace.training.default_model import open_store

    tmp = Path(tempfile.mkdtemp())
    (tmp / "audio").mkdir()
    flac = tmp / "audio" / f"podcast{minutes:g}.flac"
    subprocess.run([sys.executable, str(MAKE_PODCAST), str(flac), "--minutes", str(minutes)], check=True,
                   stdout=subprocess.DEVNULL)
    flac.with_suffix(".layout.tsv").rename(tmp / "layout.tsv")  # not an audio file: kept out of the import
    env = {**os.environ, "EMOTRACE_HOME": str(tmp / "home"), "HF_HUB_OFFLINE": "1"}
    cli = [sys.executable, "-m", "emotrace.cli", "--quiet"]
    subprocess.run([*cli, "import", str(tmp / "audio"), "--corpus", "pod"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    t = time.perf_counter()
    subprocess.run([*cli, "diarize", "--corpus", "pod"], check=True, env=env, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t
    (tmp / "layout.tsv").rename(flac.with_suffix(".layout.tsv"))
    os.environ["EMOTRACE_HOME"] = str(tmp / "home")
    store = open_store()
    f = store.corpora.files(store.corpora.corpus("pod").id)[0]
    turns = store.speakers.speaker_turns(f.id)
    duration = AudioSource(flac).duration
    print(json.dumps({"audio": f"podcast {minutes:g} min", "seconds": round(duration, 1),
                      "found": len({x.speaker for x in turns}), **der(podcast_reference(flac), turns),
                      "diarize_command_s": round(seconds, 1), "x_real_time": round(duration / seconds, 1),
                      "load_1min": round(os.getloadavg()[0], 2)}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=20, help="length of the generated podcast")
    ap.add_argument("--podcast-only", action="store_true", help="skip the two-speaker clip and the RAVDESS mixes")
    args = ap.parse_args()
    if not args.podcast_only:
        two_speakers()
    podcast(args.minutes)
    if not args.podcast_only:
        ravdess_mixes()


def two_speakers() -> None:
    encoder = SpeakerEncoder()
    clip = SHARED / "speech" / "two_speakers_30s.wav"
    reference = []
    for line in (SHARED / "speech" / "two_speakers_30s.rttm").read_text().splitlines():
        p = line.split()
        reference.append((float(p[3]), float(p[3]) + float(p[4]), p[7]))
    diarize_file(clip, encoder)  # warm-up: the first call pays the VAD's and clustering's imports
    for opts in (DiarizationOptions(), DiarizationOptions(speakers=2)):
        t = time.perf_counter()
        turns = diarize_file(clip, encoder, opts)
        seconds = time.perf_counter() - t
        print(json.dumps({"audio": "two_speakers_30s", "given_speakers": opts.speakers,
                          "found": len({x.speaker for x in turns}), **der(reference, turns),
                          "audio_s_per_s": round(30.0 / seconds, 1)}), flush=True)


def ravdess_mixes() -> None:
    encoder = SpeakerEncoder()
    tmp = Path(tempfile.mkdtemp())
    for actors, seed in (([1, 2], 0), ([3, 4, 5], 1), ([6, 7, 8, 9], 2), ([10, 11], 3), ([12, 13, 14], 4)):
        wav = tmp / f"mix{seed}.wav"
        truth = ravdess_mix(actors, 16, wav, seed)
        duration = truth[-1][1]
        for given in (None, len(actors)):
            t = time.perf_counter()
            turns = diarize_file(wav, encoder, DiarizationOptions(speakers=given))
            seconds = time.perf_counter() - t
            print(json.dumps({"audio": f"ravdess actors {actors}", "seconds": round(duration, 1),
                              "given_speakers": given, "found": len({x.speaker for x in turns}), **der(truth, turns),
                              "audio_s_per_s": round(duration / seconds, 1)}), flush=True)


if __name__ == "__main__":
    main()
