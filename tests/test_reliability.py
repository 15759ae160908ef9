"""Issue 16: bad input never poisons a corpus, a worse model is never activated silently.

Every case of the issue is reproduced here on real components: a real SQLite store, audio and label files the
tests write (a zoo of broken ones), model folders the tests build and damage, the CLI run as a subprocess.
The long SIGKILL suite is bench/bench_reliability.py; a few kills run here.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emotrace.core.store import Store
from emotrace.core.workflows.importing import import_folder, import_labels
from tests.conftest import labelled_corpus, tone, write_audio

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emotrace.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env or os.environ.copy(), timeout=timeout)


def one_line_error(r: subprocess.CompletedProcess) -> str:
    """The CLI's answer to a user's error: rc 2, exactly one line on stderr, no traceback."""
    lines = [x for x in r.stderr.splitlines() if x.strip() and not x.startswith("note:")]
    assert r.returncode == 2, r.stderr
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]


# -- 1. one NaN sample ----------------------------------------------------------------------------------------
def nan_wav(path: Path, where: str = "nan", seconds: float = 3.0) -> Path:
    x = tone(seconds).astype(np.float32)
    x[len(x) // 2 + 3] = np.nan if where == "nan" else np.inf
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x, 16000, subtype="FLOAT")
    return path


def test_a_single_nan_or_inf_sample_fails_import(store, tmp_path):
    from emotrace.core.audio.decode import AudioError, validate

    for where in ("nan", "inf"):
        path = nan_wav(tmp_path / f"bad_{where}.wav", where)
        with pytest.raises(AudioError, match="not finite"):
            validate(path)
    report = import_folder(store, tmp_path, "c")
    assert report.added == 2 and len(report.failed) == 2
    assert store.stats()["files_ok"] == 0


def test_a_long_file_with_one_nan_deep_inside_is_caught(tmp_path):
    """The sample sits between two of the old check's strides (every ~4096th sample of a 60 s chunk)."""
    from emotrace.core.audio.decode import AudioError, validate

    x = tone(200.0).astype(np.float32)
    x[16000 * 61 + 5] = np.nan  # second chunk, off every stride
    sf.write(str(tmp_path / "long.wav"), x, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"near 61\.0"):
        validate(tmp_path / "long.wav")


def test_training_leaves_out_segments_with_non_finite_features():
    from emotrace.training.data import Example
    from emotrace.training.trainer import drop_non_finite

    audio = np.ones((4, 2, 6), np.float32)
    audio[2, 1, 3] = np.nan
    text = np.ones((4, 5), np.float32)
    examples = [Example(i, i, f"/x/f{i}.wav", f"fp{i}", 0.0, 1.0, "", "s", "Train", (4.0, 4.0, 4.0))
                for i in range(4)]
    events = []
    a, t, p, kept = drop_non_finite(audio, text, np.ones(4, np.float32), examples, "train", events.append)
    assert [e.segment_id for e in kept] == [0, 1, 3] and np.isfinite(a).all() and len(t) == len(p) == 3
    assert "f2.wav" in events[0]["message"]


def test_a_model_with_nan_weights_is_refused_everywhere(tmp_path, trained):
    from emotrace.core.ser.folder_check import ModelFolderError, check_model_folder
    from emotrace.training.trainer import check_trained

    store, corpus, first = trained
    broken = tmp_path / "nan-model"
    shutil.copytree(store.models.model_version(first).folder, broken)
    poison(broken, "nan")
    with pytest.raises(ModelFolderError, match="NaN or infinite"):
        check_model_folder(broken)
    from emotrace.core.ser.modeling import EmoTraceModel

    model = EmoTraceModel(EmoTraceModel.from_pretrained(store.models.model_version(first).folder).config)
    with torch_no_grad():
        model.heads[0][0].weight.fill_(float("nan"))
    from emotrace.training.trainer import Inputs, TrainConfig

    dev = (np.zeros((3, model.config.audio_layers, 2 * model.config.audio_dim), np.float32),
           np.zeros((3, model.config.text_dim), np.float32), np.ones(3, np.float32), np.full((3, 3), 4.0))
    from emotrace.core.errors import UserFacingError

    with pytest.raises(UserFacingError, match="non-finite weights"):
        check_trained(model, None, Inputs(*dev, examples=[]), 5, TrainConfig(corpus="x"), 10, "cpu")
    with pytest.raises(UserFacingError, match="no optimiser step"):
        check_trained(model, None, Inputs(*dev, examples=[]), 0, TrainConfig(corpus="x"), 10, "cpu")


def torch_no_grad():
    import torch

    return torch.no_grad()


# -- models built once per module: a real corpus, the offline backbone, a real training run -------------------
@pytest.fixture(scope="module")
def trained_base(tmp_path_factory):
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


def poison(folder: Path, how: str) -> None:
    """Damage a model folder the way the issue found them."""
    from safetensors.torch import load_file, save_file

    weights = folder / "model.safetensors"
    if how == "truncate":
        data = weights.read_bytes()
        weights.write_bytes(data[: len(data) // 2])
    elif how in ("nan", "shape"):
        state = load_file(str(weights))
        key = "heads.0.0.weight"
        if how == "nan":
            state[key][0, 0] = float("nan")
        else:
            state[key] = state[key][:, :-1].contiguous()
        save_file(state, str(weights))
    elif how == "config":
        (folder / "config.json").write_text('{"audio_layers": 5,,}')
    else:
        raise ValueError(how)


def _gen_folder(store: Store, corpus: str) -> Path:
    return Path(store.corpora.files(store.corpora.corpus(corpus).id)[0].path).parents[1]


def test_issue_reproduction_nan_clip_with_a_train_label_then_train_and_analyze(trained):
    """The issue's steps: a float WAV with one NaN and a Train label row, imported into a corpus with a model,
    `train --epochs 3`, `analyze`. The clip is refused, the model stays valid, analyze runs."""
    from emotrace.core.ser.folder_check import check_model_folder
    from emotrace.core.workflows.analyze import analyze_corpus
    from emotrace.training.trainer import TrainConfig, train

    store, corpus, first = trained
    root = _gen_folder(store, corpus)
    nan_wav(root / "spk1" / "nan.wav", seconds=3.2)
    with open(root / "labels_consensus.csv", "a") as fh:
        fh.write("spk1/nan.wav,N,4.5,4.0,4.0,1,Female,Train\n")
    report = import_folder(store, root, corpus)
    assert [Path(p).name for p, _ in report.failed] == ["nan.wav"] and "not finite" in report.failed[0][1]
    assert any("nan.wav" in why for _w, why in report.row_errors)
    result = train(store, TrainConfig(corpus=corpus, epochs=3, batch_size=16, device="cpu"))
    assert all(np.isfinite(v) for v in result.metrics["ccc"].values())
    check_model_folder(store.models.active_model().folder)
    assert store.models.active_model().id in (first, result.model_version_id)
    assert not analyze_corpus(store, corpus, device="cpu").failed


def test_a_corpus_poisoned_before_this_fix_still_trains_and_analyzes(trained, monkeypatch):
    """A NaN clip that an older EmoTrace let in: training leaves it out with a notice, analysis flags its spans."""
    import emotrace.core.workflows.importing as importing
    from emotrace.core.audio.decode import AudioSource
    from emotrace.core.workflows.analyze import NO_AUDIO, analyze_corpus
    from emotrace.training.trainer import TrainConfig, train

    def old_validate(path, on_chunk=None):
        source, samples = AudioSource(path), 0
        for chunk in source.iter_chunks(60.0):
            samples += len(chunk)
            if on_chunk is not None:
                on_chunk(np.nan_to_num(chunk))
        return source.info, samples / 16000

    store, corpus, first = trained
    root = _gen_folder(store, corpus)
    nan_wav(root / "spk1" / "nan.wav", seconds=3.2)
    with open(root / "labels_consensus.csv", "a") as fh:
        fh.write("spk1/nan.wav,N,4.5,4.0,4.0,1,Female,Train\n")
    monkeypatch.setattr(importing, "validate", old_validate)
    assert not import_folder(store, root, corpus).failed  # poisoned, as before the fix
    events = []
    result = train(store, TrainConfig(corpus=corpus, epochs=3, batch_size=16, device="cpu"), on_event=events.append)
    assert any(e["type"] == "notice" and "nan.wav" in e["message"] for e in events)
    assert result.metrics["n"] == 12 and all(np.isfinite(v) for v in result.metrics["ccc"].values())
    report = analyze_corpus(store, corpus, device="cpu")
    assert not report.failed
    bad = next(f for f in store.corpora.files(store.corpora.corpus(corpus).id) if f.path.endswith("nan.wav"))
    preds = store.predictions.segment_predictions(store.models.active_model().id, file_id=bad.id)
    assert preds and all(p.flag == NO_AUDIO for p in preds.values())


# -- 2. the activation gate ------------------------------------------------------------------------------------
def test_a_worse_model_is_registered_but_not_activated_and_always_overrides(trained):
    from emotrace.training.trainer import TrainConfig, train

    store, corpus, first = trained
    worse = train(store, TrainConfig(corpus=corpus, epochs=1, batch_size=16, lr=1e-5, device="cpu"))
    verdict = worse.activation
    assert verdict["activate"] is False and verdict["comparable"] is True
    assert verdict["new_mean_ccc"] < verdict["parent_mean_ccc"]
    assert "worse than the active model" in verdict["reason"] and f"v{first}" in verdict["reason"]
    assert store.models.active_model().id == first  # the good model stays
    assert store.models.model_version(worse.model_version_id).metrics["activation"]["activate"] is False
    forced = train(store, TrainConfig(corpus=corpus, epochs=1, batch_size=16, lr=1e-5, device="cpu",
                                      activate="always"))
    assert forced.activation["activate"] and store.models.active_model().id == forced.model_version_id
    kept = train(store, TrainConfig(corpus=corpus, epochs=40, batch_size=16, patience=40, device="cpu",
                                    activate="never"))
    assert not kept.activation["activate"] and store.models.active_model().id == forced.model_version_id
    assert kept.activation["recommended"]  # better than the forced one: the dialog would advise activating it


def test_cli_train_says_whether_it_activated_and_why(trained):
    store, corpus, first = trained
    r = cli("--db", store.url, "-q", "train", "--corpus", corpus, "--epochs", "1", "--batch-size", "16")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["activated"] is False and "not activated: worse" in out["activation_reason"]
    assert "not activated" in r.stderr  # the reason is said on the terminal too
    assert store.models.active_model().id == first
    r = cli("--db", store.url, "-q", "train", "--corpus", corpus, "--epochs", "1", "--batch-size", "16",
            "--no-activate")
    assert json.loads(r.stdout.strip().splitlines()[-1])["activation_reason"].startswith(
        "not activated (--activate never)")


@pytest.mark.parametrize("args, option", [
    (["analyze", "--hop", "-1"], "--hop"), (["analyze", "--hop", "0.0001"], "--hop"),
    (["analyze", "--window", "-4"], "--window"), (["analyze", "--window", "nan"], "--window"),
    (["train", "--epochs", "0"], "--epochs"), (["train", "--grad-accum", "0"], "--grad-accum"),
    (["train", "--batch-size", "1"], "--batch-size"), (["train", "--activate", "sometimes"], "--activate"),
    (["transcribe", "--beam-size", "0"], "--beam-size"),
])
def test_nonsense_options_are_refused_before_any_work(tmp_path, args, option):
    r = cli("--db", str(tmp_path / "s.sqlite"), args[0], "--corpus", "x", *args[1:])
    assert r.returncode == 2 and option in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "s.sqlite").exists()  # refused before the store was even opened


def test_the_api_refuses_them_too(store):
    from emotrace.core.errors import UserFacingError
    from emotrace.core.workflows.analyze import analyze_corpus
    from emotrace.training.trainer import TrainConfig

    for bad in ({"epochs": 0}, {"batch_size": 1}, {"grad_accum": 0}, {"activate": "maybe"}):
        with pytest.raises(UserFacingError):
            TrainConfig(corpus="x", **bad)
    with pytest.raises(UserFacingError, match="hop"):
        analyze_corpus(store, "x", hop=0.0001)
    assert TrainConfig(corpus="x", activate=False).activate == "never"


def test_more_accumulation_than_batches_still_steps(trained):
    from emotrace.training.trainer import TrainConfig, train

    store, corpus, _first = trained
    result = train(store, TrainConfig(corpus=corpus, epochs=2, batch_size=16, grad_accum=50, device="cpu",
                                      activate="never"))
    assert result.metrics["optimizer_steps"] == 2  # one flushed step per epoch


def test_gate_when_the_parent_cannot_be_compared():
    from emotrace.training.gate import decide

    ccc = {"arousal": 0.5, "valence": 0.1, "dominance": 0.3}
    v = decide("auto", ccc, 12, 3, None, "it reads other features (x + y)")
    assert v.activate and not v.comparable and "could not be compared (it reads other features" in v.reason
    v = decide("auto", ccc, 12, None, None)
    assert v.activate and "no active model" in v.reason
    v = decide("auto", {"arousal": float("nan"), "valence": 0.1, "dominance": 0.3}, 12, 3,
               {"arousal": 0.2, "valence": 0.2, "dominance": 0.2})
    assert not v.activate and "not a number" in v.reason
    v = decide("auto", ccc, 12, 3, dict(ccc))
    assert v.activate and ">=" in v.reason  # equal is not worse


# -- 3. model folder names -------------------------------------------------------------------------------------
def test_a_deleted_folder_name_is_never_reused_while_a_version_points_at_it(trained):
    from emotrace.training.registry import new_model_folder

    store, _corpus, first = trained
    old = Path(store.models.model_version(first).folder)
    shutil.rmtree(old)
    fresh = new_model_folder(store, "emotrace")
    assert fresh != old and fresh.is_dir() and not any(fresh.iterdir())


def _reserve(args) -> str:
    url, home = args
    os.environ["EMOTRACE_HOME"] = home
    from emotrace.training.registry import new_model_folder

    return str(new_model_folder(Store(url), "emotrace"))


def test_concurrent_runs_never_share_a_folder(store, tmp_path):
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(4) as pool:
        names = pool.map(_reserve, [(store.url, os.environ["EMOTRACE_HOME"])] * 16)
    assert len(set(names)) == 16


def test_a_failed_run_removes_only_its_own_folder(trained, monkeypatch):
    import emotrace.training.trainer as trainer

    store, corpus, first = trained
    active_folder = Path(store.models.model_version(first).folder)
    before = sorted(p.name for p in active_folder.parent.iterdir())

    def crash(*_a, **_k):
        raise RuntimeError("disk full while registering")

    monkeypatch.setattr(trainer, "register", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        trainer.train(store, trainer.TrainConfig(corpus=corpus, epochs=1, batch_size=16, device="cpu"))
    assert sorted(p.name for p in active_folder.parent.iterdir()) == before
    assert (active_folder / "model.safetensors").is_file()


# -- 4. broken model folders -----------------------------------------------------------------------------------
@pytest.mark.parametrize("how, words", [("truncate", "truncated"), ("shape", "shape"), ("nan", "NaN"),
                                        ("config", "config.json")])
def test_broken_model_folders_are_refused_in_one_line(trained, how, words):
    from emotrace.training.trainer import TrainConfig, train

    store, corpus, first = trained
    second = train(store, TrainConfig(corpus=corpus, epochs=2, batch_size=16, device="cpu", activate="never"))
    folder = Path(store.models.model_version(second.model_version_id).folder)
    poison(folder, how)
    line = one_line_error(cli("--db", store.url, "models", "activate", str(second.model_version_id)))
    assert words in line and str(folder) in line
    assert store.models.active_model().id == first
    store.models.activate_model(second.model_version_id)  # as an older EmoTrace would have let it
    line = one_line_error(cli("--db", store.url, "-q", "analyze", "--corpus", corpus, "--device", "cpu"))
    assert f"model v{second.model_version_id}" in line and "models activate" in line and words in line
    if how == "config":
        assert "config.json" in line  # the malformed config is named


def test_the_models_panel_refuses_a_broken_folder(qtbot, trained, monkeypatch, qt_settings):
    from PySide6.QtWidgets import QMessageBox

    from emotrace.gui.models_panel import ModelsPanel
    from emotrace.training.trainer import TrainConfig, train

    store, corpus, first = trained
    second = train(store, TrainConfig(corpus=corpus, epochs=2, batch_size=16, device="cpu", activate="never"))
    poison(Path(store.models.model_version(second.model_version_id).folder), "truncate")
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    panel = ModelsPanel(store)
    qtbot.addWidget(panel)
    panel.table.selectRow(panel.ids.index(second.model_version_id))
    panel.activate_selected()
    assert shown and "truncated" in shown[0] and store.models.active_model().id == first


def test_train_proceeds_over_a_broken_parent_and_says_it_could_not_compare(trained):
    store, corpus, first = trained
    poison(Path(store.models.model_version(first).folder), "truncate")
    r = cli("--db", store.url, "-q", "train", "--corpus", corpus, "--epochs", "3", "--batch-size", "16")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["activated"] and f"active v{first} could not be compared (its folder does not load" in \
        out["activation_reason"]
    assert store.models.active_model().id == out["model_version_id"]


def test_register_refuses_a_broken_folder(store, tmp_path):
    from emotrace.core.ser.config import EmoTraceConfig
    from emotrace.core.ser.folder_check import ModelFolderError
    from emotrace.core.ser.modeling import EmoTraceModel
    from emotrace.training.registry import register

    folder = tmp_path / "m"
    EmoTraceModel(EmoTraceConfig(audio_layers=2, audio_dim=8, text_dim=6, hidden_size=4)).save_pretrained(folder)
    poison(folder, "shape")
    with pytest.raises(ModelFolderError, match="shape"):
        register(store, name="m", folder=folder, parent_id=None, metrics={}, config={}, data_counts={}, activate=True)
    assert store.models.model_versions() == []


def test_a_malformed_config_names_the_file(tmp_path):
    from emotrace.core.ser.config import EmoTraceConfig

    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match=str(tmp_path / "config.json")):
        EmoTraceConfig.from_pretrained(tmp_path)


# -- 5. labels on the wrong file, duplicates, odd headers, formula cells (fixed in the label domain) ------------
def test_label_rows_never_land_on_a_namesake_or_a_copy(store, tmp_path):
    root = tmp_path / "c"
    write_audio(root / "Audios" / "03-01-01-01-01-01-03.wav", 3.0, freq=200)
    write_audio(root / "Other" / "03-01-01-01-01-01-03.wav", 3.0, freq=300)
    shutil.copy(root / "Audios" / "03-01-01-01-01-01-03.wav", root / "copy.wav")  # identical audio, second path
    import_folder(store, root, "c")
    files = {Path(f.path).relative_to(root).as_posix(): f for f in store.corpora.files(store.corpora.corpus("c").id)}
    assert set(files) == {"Audios/03-01-01-01-01-01-03.wav", "Other/03-01-01-01-01-01-03.wav"}  # the copy: once
    csv = root / "labels.csv"
    csv.write_text("FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"
                   "Audios/03-01-01-01-01-01-03.wav,N,2,3,4,spkA,Female,Train\n"
                   "Missing/03-01-01-01-01-01-03.wav,N,6,6,6,spkB,Male,Test1\n"
                   "copy.wav,N,7,7,7,spkC,Male,Test1\n")
    report = import_labels(store, "c", csv, base=root)
    assert len(report.row_errors) == 2 and report.labels_added == 1
    assert any("not a file of this corpus" in why for _w, why in report.row_errors)
    audios = store.corpora.file(files["Audios/03-01-01-01-01-01-03.wav"].id)
    assert (audios.speaker, audios.split) == ("spkA", "Train")  # not overwritten by the other rows
    labels = store.labels.segment_labels(file_id=audios.id)
    assert [lab.values for lab in labels.values()] == [(2.0, 3.0, 4.0)]


def test_disagreeing_duplicates_warn_and_spaced_headers_work(store, tmp_path):
    root = tmp_path / "c"
    write_audio(root / "a.wav", 3.0)
    csv = root / "labels_consensus.csv"
    csv.write_text("FileName , EmoClass , EmoAct , EmoVal , EmoDom , SpkrID , Gender , Split_Set\n"
                   "a.wav , N , 2 , 3 , 4 , s1 , Female , Train\n"
                   "a.wav , N , 6 , 3 , 4 , s1 , Female , Train\n")
    report = import_folder(store, root, "c")
    assert report.labels_added == 2 and not report.row_errors
    assert len(report.warnings) == 1 and "WARNING" in report.summary() and "disagrees" in report.summary()


def test_csv_export_escapes_formula_cells(store, tmp_path):
    from emotrace.core.formats.label_tables import export_segments

    root = tmp_path / "c"
    write_audio(root / "a.wav", 3.0)
    (root / "labels.csv").write_text("file,start,end,arousal,valence,dominance,category,annotator\n"
                                     "a.wav,0,1,3,4,5,=cmd|' /C calc'!A0,@SUM(1)\n")
    import_folder(store, root, "c")
    export_segments(store, "c", tmp_path / "out.csv")
    text = (tmp_path / "out.csv").read_text()
    assert "'=cmd" in text and "=cmd" not in text.replace("'=cmd", "")
    assert "'@SUM" in text


# -- 6. stores the CLI cannot open --------------------------------------------------------------------------------
def test_a_store_from_a_newer_emotrace_is_one_line(tmp_path):
    db = tmp_path / "s.sqlite"
    Store(str(db)).close()
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = '0099_future'")
    con.commit()
    con.close()
    line = one_line_error(cli("--db", str(db), "stats"))
    assert "newer EmoTrace" in line and "0099_future" in line and "committed before is kept" not in line


@pytest.mark.parametrize("url", ["mysql://u@h/db", "nosuchdialect://x/y"])
def test_an_unknown_dialect_or_driver_is_one_line(url):
    line = one_line_error(cli("--db", url, "stats"))
    assert "Cannot open the store" in line and "committed before is kept" not in line


def test_a_file_that_is_not_a_database_is_one_line_without_false_comfort(tmp_path):
    bad = tmp_path / "s.sqlite"
    bad.write_bytes(b"this is not a database, just text " * 200)
    line = one_line_error(cli("--db", str(bad), "stats"))
    assert "not a database" in line and "committed before is kept" not in line


# -- 7. jobs, unreadable folders, links, read-only stores ---------------------------------------------------------
def test_jobs_of_a_killed_process_are_marked_interrupted(store):
    code = ("import os, signal; from emotrace.core.store import Store; s = Store(os.environ['DB']); "
            "s.jobs.start_job('import', {}); os.kill(os.getpid(), signal.SIGKILL)")
    r = subprocess.run([sys.executable, "-c", code], env={**os.environ, "DB": store.url}, cwd=ROOT)
    assert r.returncode == -signal.SIGKILL
    alive = store.jobs.start_job("analyze", {})  # this process is alive: its job is left alone
    fresh = Store(store.url)
    from emotrace.core.store.models import Job

    with fresh.db.session() as s:
        statuses = {j.kind: (j.status, j.error) for j in s.query(Job)}
    assert statuses["import"][0] == "interrupted" and "ended before the job finished" in statuses["import"][1]
    assert statuses["analyze"][0] == "running"
    store.jobs.update_job(alive, status="done")


def test_self_linking_files_are_reported_not_skipped(store, tmp_path):
    root = tmp_path / "c"
    write_audio(root / "a.wav")
    (root / "loop.wav").symlink_to(root / "loop.wav")
    (root / "dangling.flac").symlink_to(root / "gone.flac")
    report = import_folder(store, root, "c")
    assert report.added == 1 and {Path(p).name for p, _ in report.skipped} == {"loop.wav", "dangling.flac"}
    assert "SKIPPED" in report.summary() and report.problems == 2


def as_other_user(code: str, env: dict) -> subprocess.CompletedProcess:
    """Run Python code as an unprivileged user: root reads every folder, so permission cases need a real user.
    The interpreter and the modules are loaded first (they may live where that user cannot read)."""
    prelude = ("import os, sys, sqlite3, json, csv, glob, logging.config; import torch, sqlalchemy.dialects.sqlite, numpy, "
               "soundfile, soxr, tqdm, alembic.command, alembic.ddl.sqlite, alembic.runtime.migration, mako.template; "
               "import emotrace.core.store, emotrace.core.workflows.importing, emotrace.core.audio.envelope, "
               "emotrace.core.progress, emotrace.cli.main, emotrace.cli.processing, emotrace.cli.argtypes, "
               "emotrace.training.default_model, importlib.readers; "
               "from emotrace.core.store import Store; Store('sqlite://').close(); ")
    if os.geteuid() == 0:
        prelude += "os.setgid(65534); os.setuid(65534); "
    prelude += "os.environ['EMOTRACE_HOME'] = os.environ['HOME16']; "  # only now: nothing root-owned in it
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **env}, timeout=300)


@pytest.fixture
def open_tmp():
    """A temporary folder every user can traverse (pytest's own is private to its user)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="emotrace16-"))
    path.chmod(0o777)
    yield path
    for p in path.rglob("*"):
        if p.is_dir() and not p.is_symlink():
            p.chmod(0o755)
    shutil.rmtree(path, ignore_errors=True)


def test_an_unreadable_folder_is_reported(open_tmp):
    tmp_path = open_tmp
    root = tmp_path / "c"
    write_audio(root / "ok" / "a.wav")
    write_audio(root / "locked" / "b.wav")
    (root / "locked").chmod(0o000)
    os.chmod(tmp_path, 0o777)
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o777)
    try:
        r = as_other_user("from cli.main import main; sys.exit(main(['--db', os.environ['DB'], '-q', 'import', "
                          "os.environ['ROOT'], '--corpus', 'c']))",
                          {"DB": str(tmp_path / "s.sqlite"), "ROOT": str(root), "HOME16": str(home)})
    finally:
        (root / "locked").chmod(0o755)
    assert r.returncode == 1, r.stderr
    assert "SKIPPED" in r.stdout and "locked" in r.stdout and "cannot read this folder" in r.stdout, r.stdout


def test_a_store_in_a_read_only_folder_can_still_be_read(open_tmp, audio_dir):
    tmp_path = open_tmp
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "s.sqlite"
    import_folder(Store(str(db)), audio_dir, "c")
    for p in (folder, db):
        p.chmod(0o555 if p.is_dir() else 0o444)
    os.chmod(tmp_path, 0o777)
    try:
        r = as_other_user("from cli.main import main; sys.exit(main(['--db', os.environ['DB'], 'stats', '--json']))",
                          {"DB": str(db), "HOME16": str(tmp_path)})
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["files_ok"] == 6 and "opened read-only" in r.stderr
        r = as_other_user("from cli.main import main; sys.exit(main(['--db', os.environ['DB'], 'import', "
                          "os.environ['ROOT'], '--corpus', 'c2']))",
                          {"DB": str(db), "ROOT": str(audio_dir), "HOME16": str(tmp_path)})
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr  # a write is refused in one line
    finally:
        folder.chmod(0o755)


# -- the zoo: broken audio and label files, each with a clear outcome --------------------------------------------
def build_zoo(root: Path) -> dict[str, str | tuple[str, ...]]:
    """Broken audio files and what the import must say about each (a substring of the reason, or any of some)."""
    root.mkdir(parents=True, exist_ok=True)
    expect = {}
    (root / "empty.wav").write_bytes(b"")
    expect["empty.wav"] = "empty file"
    write_audio(root / "full.wav", 4.0)
    data = (root / "full.wav").read_bytes()
    (root / "truncated.wav").write_bytes(data[: len(data) // 3])  # header says 4 s
    expect["truncated.wav"] = "truncated"
    (root / "text.mp3").write_text("not audio at all\n" * 50)
    expect["text.mp3"] = "cannot decode"
    (root / "random.flac").write_bytes(np.random.default_rng(0).bytes(5000))
    expect["random.flac"] = ("cannot decode", "no audio samples")  # FFmpeg may probe noise as an empty stream
    nan_wav(root / "nan.wav")
    expect["nan.wav"] = "not finite"
    nan_wav(root / "inf.wav", "inf")
    expect["inf.wav"] = "not finite"
    sf.write(str(root / "zero_frames.wav"), np.zeros(0, np.float32), 16000)
    expect["zero_frames.wav"] = "samples"
    (root / "header_only.ogg").write_bytes(b"OggS" + b"\x00" * 60)
    expect["header_only.ogg"] = "cannot decode"
    (root / "full.wav").unlink()
    return expect


def test_the_zoo_of_broken_audio_files_is_reported_one_by_one(store, tmp_path):
    root = tmp_path / "zoo"
    expect = build_zoo(root)
    write_audio(root / "good.wav", 2.0)
    report = import_folder(store, root, "zoo")
    reasons = {Path(p).name: why for p, why in report.failed}
    assert set(reasons) == set(expect)
    for name, words in expect.items():
        assert any(w in reasons[name] for w in ((words,) if isinstance(words, str) else words)), (name, reasons[name])
    assert store.stats()["files_ok"] == 1
    again = import_folder(store, root, "zoo")  # a rerun adds nothing and still lists every failure
    assert again.added == 0 and len(again.failed) == len(expect)


LABEL_ZOO = {
    "binary.csv": (b"\x00\xff\xfe\x00garbage" * 20, "not a readable CSV"),
    "wrong_columns.csv": (b"a,b,c\n1,2,3\n", "unknown columns"),
    "empty.csv": (b"", "unknown columns"),
}


@pytest.mark.parametrize("name", sorted(LABEL_ZOO))
def test_broken_label_files_are_one_line(tmp_path, audio_dir, name):
    data, words = LABEL_ZOO[name]
    (audio_dir / "labels_consensus.csv").unlink()
    (tmp_path / name).write_bytes(data)
    line = one_line_error(cli("--db", str(tmp_path / "s.sqlite"), "-q", "import", str(audio_dir), "--corpus", "c",
                              "--labels", str(tmp_path / name)))
    assert words in line


# -- hypothesis: label CSV rows of any shape never crash an import nor write off-scale values --------------------
cell = st.one_of(st.text(max_size=12), st.floats(allow_nan=True, allow_infinity=True).map(str),
                 st.integers(-10, 10).map(str), st.sampled_from(["", " ", "4", "7.0", "1", "0", "8", "=1+1", "a.wav"]))


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    store = Store(f"sqlite:///{tmp / 's.sqlite'}")
    write_audio(tmp / "c" / "a.wav", 3.0)
    write_audio(tmp / "c" / "b.wav", 2.0, freq=330)
    import_folder(store, tmp / "c", "c")
    yield store, tmp
    store.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["a.wav", "b.wav", "c.wav", "", "../a.wav", "A.WAV"]), cell, cell,
                               cell, cell, cell, cell), min_size=1, max_size=8))
def test_fuzzed_label_rows_are_applied_or_reported_never_crash(fuzz_store, rows):
    import csv
    import io

    from emotrace.core.vocab import SCALE

    store, tmp = fuzz_store
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["file", "start", "end", "arousal", "valence", "dominance", "annotator"])
    writer.writerows(rows)
    path = tmp / "fuzz.csv"
    path.write_text(buf.getvalue(), encoding="utf-8", errors="surrogatepass")
    before = store.stats()["label_rows"]
    report = import_labels(store, "c", path, base=tmp / "c")
    assert report.labels_added + len(report.row_errors) == len(
        [r for r in csv.reader(io.StringIO(buf.getvalue())) if any(v.strip() for v in r)]) - 1
    assert store.stats()["label_rows"] == before + report.labels_added
    for label in store.labels.current_labels(corpus_id=store.corpora.corpus("c").id):
        assert all(SCALE.low <= v <= SCALE.high and np.isfinite(v) for v in label.values)


# -- SIGKILL during import, then a rerun: the store is whole, nothing committed lost or doubled ------------------
def _running_jobs(db: Path) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        if not con.execute("SELECT name FROM sqlite_master WHERE name = 'jobs'").fetchone():
            return 0
        return con.execute("SELECT count(*) FROM jobs WHERE status = 'running'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.6])
def test_sigkill_during_import_then_rerun(tmp_path, delay):
    """Killed `delay` s into its job (120 files at 44.1 kHz, committed every 50): the rerun completes the corpus,
    keeps what was committed, duplicates nothing, and the killed job is marked interrupted."""
    root = tmp_path / "c"
    rng = np.random.default_rng(0)
    for i in range(120):
        path = root / f"s{i % 3}" / f"u{i:03d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), (0.1 * rng.standard_normal(44100)).astype(np.float32), 44100)
    db = tmp_path / "s.sqlite"
    cmd = [sys.executable, "-m", "emotrace.cli", "--db", str(db), "-q", "import", str(root), "--corpus", "c"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and not _running_jobs(db):
        time.sleep(0.02)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    con = sqlite3.connect(db)
    committed = {r[0] for r in con.execute("SELECT fingerprint FROM audio_files")}
    con.close()
    r = cli("--db", str(db), "-q", "import", str(root), "--corpus", "c")
    assert r.returncode == 0, r.stderr
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    fingerprints = [r[0] for r in con.execute("SELECT fingerprint FROM audio_files")]
    assert len(fingerprints) == len(set(fingerprints)) == 120 and committed <= set(fingerprints)
    statuses = sorted(r[0] for r in con.execute("SELECT status FROM jobs"))
    con.close()
    assert statuses in (["done", "interrupted"], ["done", "done"])  # killed inside the job, or just after it
