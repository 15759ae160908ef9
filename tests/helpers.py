"""Helpers that test modules of several files (and tiers) share: builders of test data, wrappers, and the checks
that run on SQLite in one tier and on PostgreSQL in another. Test modules import from here (or from
tests/conftest.py), never from each other. Nothing heavy is imported at module level: the unit tier imports
this module too."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf
from sqlalchemy import text

from tests.conftest import write_audio

if TYPE_CHECKING:
    from emotrace.core.store import Store

REPO = Path(__file__).resolve().parents[1]  # the repository root, whichever tier folder a test lives in
assert (REPO / "pyproject.toml").is_file(), REPO


WORKERS = [f"WORKER{i:05d}" for i in range(1, 9)]


def msp_corpus(root, files: int = 12, seed: int = 3):
    """Audio plus MSP-style detailed (5 raters per file, some with 3-4, one rater leaving dominance open) and
    consensus CSVs, the consensus being the raters' mean as MSP states it (4 decimals)."""
    rng = np.random.default_rng(seed)
    detailed = [["FileName", "WorkerID", "EmoClass", "EmoAct", "EmoVal", "EmoDom"]]
    consensus = [["FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set"]]
    truth = {}
    for k in range(files):
        name = f"MSP-PODCAST_0001_{k:04d}.wav"
        write_audio(root / "Audios" / name, 1.0 + 0.1 * k)
        true = rng.uniform(2, 6, size=3)
        n_raters = 5 if k % 4 else 3 + k % 2  # some files have fewer raters
        raters = rng.choice(WORKERS, size=n_raters, replace=False)
        given = []
        for r in raters:
            noise = 1.5 if r == "WORKER00008" else 0.4  # one careless rater
            vals = np.clip(np.round(true + rng.normal(0, noise, 3)), 1, 7)
            cells = [f"{v:.1f}" for v in vals]
            if r == "WORKER00003" and k == 5:
                cells[2] = ""  # left dominance open
            cat = rng.choice(["N", "H", "A"])
            detailed.append([name, r, cat, *cells])
            given.append([float(c) if c else np.nan for c in cells])
        mean = np.nanmean(np.array(given), axis=0)
        truth[name] = mean
        consensus.append([name, "N", *(f"{m:.4f}" for m in mean), f"{k % 3}", "Female",
                          "Train" if k < 8 else "Development"])
    (root / "Labels").mkdir(parents=True, exist_ok=True)
    for fname, rows in (("labels_detailed.csv", detailed), ("labels_consensus.csv", consensus)):
        with open(root / "Labels" / fname, "w", newline="") as fh:
            csv.writer(fh).writerows(rows)
    return truth


def all_label_rows(store: Store) -> list[tuple]:
    with store.session() as s:
        return [tuple(r) for r in s.execute(text("SELECT id, segment_id, annotator, arousal, valence, dominance, "
                                                 "origin, retracts_id FROM labels ORDER BY id"))]


class CountingEncoder:
    """Wraps a real encoder and counts the audio seconds it is asked to encode."""

    def __init__(self, inner):
        self.inner, self.seconds = inner, 0.0
        self.name, self.num_layers, self.dim = inner.name, inner.num_layers, inner.dim
        self.frame_rate, self.chunk_seconds = inner.frame_rate, 10.0

    def encode_batch(self, chunks):
        self.seconds += sum(len(c) for c in chunks) / 16000
        return self.inner.encode_batch(chunks)


SR = 16000


def write_podcast_like(path: Path, minutes: float) -> Path:
    """Tone and noise with a slow loudness swell and pauses, written minute by minute (bounded memory)."""
    rng = np.random.default_rng(12)
    with sf.SoundFile(path, "w", SR, 1, subtype="PCM_16") as out:
        for k in range(int(minutes)):
            t = np.arange(60 * SR) / SR + 60 * k
            env = (0.25 + 0.2 * np.sin(2 * np.pi * t / 83)) * (np.sin(2 * np.pi * t / 7) > -0.7)
            x = env * np.sin(2 * np.pi * (140 + 40 * np.sin(t / 11)) * t) + 0.01 * rng.standard_normal(len(t))
            out.write((0.5 * x).astype(np.float32))
    return path
