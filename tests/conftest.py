"""Shared by every tier: a real SQLite store in a temporary folder, audio files the tests write themselves, the
data builders tests import (`from tests.conftest import write_audio`), and the tier markers.

The tiers are folders: tests/unit (no subprocess, no real ASR or SER model: `scripts/test.sh --fast`),
tests/integration (the CLI as a subprocess, real models, training, workers), tests/gui (pytest-qt on the real
widgets, offscreen) and tests/postgres (the throwaway PostgreSQL server). Fixtures only one tier uses live in
that tier's conftest.py; helpers that several test modules share, in tests/helpers.py."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


TIERS = ("unit", "integration", "gui", "postgres")


def pytest_collection_modifyitems(config, items):
    """Mark every test with its tier (its folder under tests/): `-m unit`, `-m "not postgres"`, ... A test file
    outside the four folders is refused, so none escapes `scripts/test.sh --fast` or the full run unnoticed."""
    root = Path(__file__).parent
    stray = set()
    for item in items:
        try:
            parts = item.path.relative_to(root).parts
        except ValueError:  # not under tests/
            continue
        if len(parts) > 1 and parts[0] in TIERS:
            item.add_marker(getattr(pytest.mark, parts[0]))
        else:
            stray.add(str(item.path.relative_to(root.parent)))
    if stray:
        raise pytest.UsageError(f"test files outside a tier folder (tests/{{{','.join(TIERS)}}}/): {sorted(stray)}")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own user data folder, so none touches the real one."""
    monkeypatch.setenv("EMOTRACE_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("EMOTRACE_NO_DEFAULT_MODEL", "1")  # an empty registry unless a test asks for the bundled model


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory) -> Path:
    """An empty SQLite store migrated to the head revision once per session; each `store` starts from a copy of
    it (running every migration costs about 0.3 s a store, a third of many unit tests). The migrations
    themselves are tested from empty and from old revisions (tests/unit/test_store.py, test_label_domain.py,
    test_raters.py)."""
    from emotrace.core.store import Store

    path = tmp_path_factory.mktemp("migrated") / "store.sqlite"
    Store(f"sqlite:///{path}").close()
    assert not path.with_name(path.name + "-wal").exists()  # closed: everything is in the one file
    return path


@pytest.fixture
def new_store(_migrated_sqlite):
    """Opens a new store at a path, copied from the migrated one: for tests that make many stores (a property
    test's examples)."""
    from emotrace.core.store import Store

    def make(path: Path) -> Store:
        shutil.copyfile(_migrated_sqlite, path)
        return Store(str(path))

    return make


@pytest.fixture
def store(tmp_path, _migrated_sqlite):
    from emotrace.core.store import Store

    shutil.copyfile(_migrated_sqlite, tmp_path / "store.sqlite")
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
def traced_file(store, tmp_path):
    """A 30 s file in three labelled segments, for the trace tests (in process and through the CLI)."""
    from emotrace.core.workflows.importing import import_folder

    root = tmp_path / "c"
    write_audio(root / "talk.wav", 30.0)
    (root / "labels.csv").write_text("file,start,end,arousal,valence,dominance\n"
                                     "talk.wav,0,10,4,4,4\ntalk.wav,10,20,4,4,4\ntalk.wav,20,30,4,4,4\n")
    import_folder(store, root, "c")
    return store.corpora.files(store.corpora.corpus("c").id)[0].id


@pytest.fixture(scope="session")
def trained_base(tmp_path_factory):
    """A real corpus, the offline backbone and a real training run (40 epochs), once per session: the model
    tests of issue 16 in tests/integration and tests/gui start from private copies of it (`trained`)."""
    from emotrace.core.store import Store
    from emotrace.core.workflows.importing import import_folder

    home = tmp_path_factory.mktemp("home16")
    old = os.environ.get("EMOTRACE_HOME")
    os.environ["EMOTRACE_HOME"] = str(home)
    try:
        from emotrace.training.trainer import TrainConfig, train

        tmp = tmp_path_factory.mktemp("trained16")
        store = Store(f"sqlite:///{tmp / 'store.sqlite'}")
        import_folder(store, labelled_corpus(tmp / "gen"), "gen")
        first = train(store, TrainConfig(corpus="gen", epochs=40, batch_size=16, patience=40, device="cpu"))
        store.close()
        return tmp, home, first.model_version_id
    finally:
        if old is None:
            os.environ.pop("EMOTRACE_HOME", None)
        else:
            os.environ["EMOTRACE_HOME"] = old


@pytest.fixture
def trained(trained_base, tmp_path, monkeypatch):
    """A private copy of the trained store and its home (tests damage folders and add versions)."""
    from emotrace.core.store import Store

    src, home, first = trained_base
    dst = tmp_path / "t"
    shutil.copytree(src, dst)
    new_home = tmp_path / "home"
    shutil.copytree(home, new_home)
    monkeypatch.setenv("EMOTRACE_HOME", str(new_home))
    db = dst / "store.sqlite"
    con = sqlite3.connect(db)  # the copies point at the copied model folders and audio
    con.execute("UPDATE model_versions SET folder = replace(folder, ?, ?)", (str(home), str(new_home)))
    con.execute("UPDATE audio_files SET path = replace(path, ?, ?)", (str(src), str(dst)))
    con.commit()
    con.close()
    store = Store(f"sqlite:///{db}")
    yield store, "gen", first
    store.close()
