"""Shared fixtures: a real SQLite store in a temporary folder, and audio files the tests write themselves."""

from __future__ import annotations

import importlib.util
import os
from contextlib import contextmanager
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
    monkeypatch.setenv("EMOTRACE_NO_DEFAULT_MODEL", "1")  # an empty registry unless a test asks for the bundled model


@pytest.fixture
def store(tmp_path):
    from emotrace.core.store import Store

    s = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    yield s
    s.close()


SPEECH_SAMPLES = (Path(list(importlib.util.find_spec("pytest_audioeval").submodule_search_locations)[0])
                  / "samples" / "audio" / "en")  # real English WAVs + transcripts (pytest-audioeval)


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


def labelled_corpus(root: Path, speakers: int = 8, per_speaker: int = 6, seed: int = 0) -> Path:
    """Utterance-like files whose arousal is audible (louder, higher, faster-modulated = more aroused), with
    MSP-style labels: speakers 1-5 Train, 6-7 Development, 8 Test1. Valence and dominance follow other cues."""
    rng = np.random.default_rng(seed)
    rows = ["FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set"]
    for spk in range(1, speakers + 1):
        base = 120 + 15 * spk
        for k in range(per_speaker):
            arousal = float(rng.uniform(1.5, 6.5))
            valence = float(rng.uniform(1.5, 6.5))
            seconds = float(rng.uniform(2.8, 4.0))
            sr = 16000
            t = np.arange(int(seconds * sr)) / sr
            f0 = base * (1 + 0.12 * (arousal - 4))
            amp = 0.05 + 0.05 * arousal
            mod = 2 + arousal
            x = amp * np.sin(2 * np.pi * f0 * t + 0.3 * valence * np.sin(2 * np.pi * 5 * t))
            x *= 0.6 + 0.4 * np.sin(2 * np.pi * mod * t) ** 2
            x += 0.002 * rng.standard_normal(len(t))
            rel = f"spk{spk}/utt{k}.wav"
            (root / f"spk{spk}").mkdir(parents=True, exist_ok=True)
            sf.write(root / rel, x.astype(np.float32), sr)
            split = "Train" if spk <= 5 else "Development" if spk <= 7 else "Test1"
            dominance = float(np.clip(0.5 * arousal + 0.5 * valence + rng.normal(0, 0.3), 1, 7))
            rows.append(f"{rel},N,{arousal:.2f},{valence:.2f},{dominance:.2f},{spk},Female,{split}")
    (root / "labels_consensus.csv").write_text("\n".join(rows) + "\n")
    return root


def tiny_hubert(folder: Path, layers: int = 2, hidden: int = 32) -> Path:
    """A DistilHuBERT-shaped model with random weights, saved like a downloaded one (config + safetensors)."""
    from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

    config = HubertConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2, intermediate_size=64,
                          conv_dim=(32, 32, 32, 32, 32, 32, 32), num_conv_pos_embeddings=16,
                          num_conv_pos_embedding_groups=2)
    HubertModel(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=False).save_pretrained(folder)
    return folder


def tiny_ser_model(folder: Path) -> Path:
    """A loadable, untrained audio-only EmoTrace model on `tiny_hubert` (its encoder inside `folder`): analysis
    runs for real, in a fraction of a second per minute of audio."""
    from emotrace.core.ser.config import EmoTraceConfig
    from emotrace.core.ser.modeling import EmoTraceModel

    backbone = tiny_hubert(folder / "encoder")
    EmoTraceModel(EmoTraceConfig(audio_backbone=str(backbone), modalities="audio", audio_layers=3, audio_dim=32,
                                 hidden_size=8)).save_pretrained(folder)
    return folder


@pytest.fixture
def qt_settings(tmp_path):
    """QSettings in a temporary folder, so GUI tests never read or write the user's."""
    from PySide6.QtCore import QCoreApplication, QSettings

    QCoreApplication.setOrganizationName("EmoTraceTests")
    QCoreApplication.setApplicationName(f"EmoTraceTests-{tmp_path.name}")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))


@pytest.fixture
def populated(store, tmp_path):
    """A 60 s file with 3 labelled segments, words, and a model version with window predictions."""
    from emotrace.core.store import ModelVersion, Prediction, Segment, Word
    from emotrace.core.workflows.importing import import_folder

    root = tmp_path / "c"
    write_audio(root / "talk.wav", 60.0)
    (root / "labels.csv").write_text("file,start,end,arousal,valence,dominance,category,annotator\n"
                                     "talk.wav,0,10,3,4,5,N,alice\ntalk.wav,10,20,6,2,3,A,alice\n"
                                     "talk.wav,30,40,2,6,4,H,bob\n")
    import_folder(store, root, "c")
    f = store.corpora.files(store.corpora.corpus("c").id)[0]
    with store.db.session() as s:
        mv = ModelVersion(name="m", folder=str(tmp_path / "none"), active=True)
        s.add(mv)
        s.flush()
        s.add_all(Word(file_id=f.id, start=i * 2.0 + 0.1, end=i * 2.0 + 0.8, text=f" w{i}") for i in range(30))
        t = np.arange(0, 57, 1.0)
        s.add_all(Prediction(file_id=f.id, model_version_id=mv.id, kind="window", start=float(a), end=float(a) + 4,
                             arousal=4 + np.sin(a / 5), valence=4.0, dominance=3.5) for a in t)
        segs = s.query(Segment).filter_by(file_id=f.id).order_by(Segment.start).all()
        s.add_all(Prediction(file_id=f.id, segment_id=g.id, model_version_id=mv.id, kind="segment", start=g.start,
                             end=g.end, arousal=5.0, valence=4.0, dominance=4.0, audio_only=[5.5, 3.0, 4.0],
                             text_only=[4.5, 5.0, 4.0]) for g in segs)
        mv_id = mv.id
    return store, f.id, mv_id


@pytest.fixture
def window(qtbot, populated, qt_settings):
    from emotrace.gui.main_window import MainWindow
    from emotrace.gui.settings import AppSettings

    store, file_id, mv_id = populated
    w = MainWindow(store, AppSettings(db_url=store.url, annotator="tester"))
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    w.browser.select_row(0)
    qtbot.waitUntil(lambda: w.data is not None)
    return w


@contextmanager
def throwaway_pg_database(prefix: str = "emotrace_test"):
    """A fresh database on the PostgreSQL test server (EMOTRACE_TEST_PG_URL), dropped afterwards; skips the test
    where there is no server. Yields its SQLAlchemy URL."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = os.environ.get("EMOTRACE_TEST_PG_URL")
    if not server:
        pytest.skip("no PostgreSQL test server (EMOTRACE_TEST_PG_URL unset)")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
