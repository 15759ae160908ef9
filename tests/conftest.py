"""Shared fixtures: a real SQLite store in a temporary folder, and audio files the tests write themselves."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own user data folder, so none touches the real one."""
    monkeypatch.setenv("EMOTRACE_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture
def store(tmp_path):
    from core.store import Store

    s = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    yield s
    s.close()


def tone(seconds: float, sr: int = 16000, freq: float = 220.0, channels: int = 1, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    x = (amp * np.sin(2 * np.pi * freq * t) * (1 + 0.3 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    return x if channels == 1 else np.stack([x] * channels, axis=1)


def write_audio(path: Path, seconds: float = 3.0, sr: int = 16000, channels: int = 1, freq: float = 220.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), tone(seconds, sr, freq, channels), sr)
    return path


@pytest.fixture
def audio_dir(tmp_path) -> Path:
    """Six files of several formats, rates, channel counts and lengths, two speakers, MSP-style labels."""
    root = tmp_path / "corpus"
    specs = [
        ("spk1/a.wav", 3.0, 16000, 1, 200), ("spk1/b.flac", 4.5, 44100, 2, 250),
        ("spk1/c.ogg", 2.8, 22050, 1, 300), ("spk2/d.mp3", 5.0, 44100, 1, 350),
        ("spk2/e.wav", 6.2, 48000, 2, 400), ("spk2/f.flac", 3.3, 8000, 1, 450),
    ]
    for rel, sec, sr, ch, f in specs:
        write_audio(root / rel, sec, sr, ch, f)
    rows = ["FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set"]
    for i, (rel, *_rest) in enumerate(specs):
        spk = rel.split("/")[0]
        rows.append(f"{rel},N,{2 + i * 0.5},{3 + i * 0.3},{4},{spk},Female,{'Train' if spk == 'spk1' else 'Development'}")
    (root / "labels_consensus.csv").write_text("\n".join(rows) + "\n")
    return root
