"""Issue 16, model folders: a deleted folder's name is never reused while a version points at it, concurrent
runs never share a folder, a failed run removes only its own; broken folders (truncated, wrong shape, NaN,
malformed config) are refused in one line by `models activate` and `analyze`, and `train` proceeds over a
broken parent."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from emotrace.core.store import Store
from tests.helpers import cli, one_line_error, poison


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


def test_train_proceeds_over_a_broken_parent_and_says_it_could_not_compare(trained):
    store, corpus, first = trained
    poison(Path(store.models.model_version(first).folder), "truncate")
    r = cli("--db", store.url, "-q", "train", "--corpus", corpus, "--epochs", "3", "--batch-size", "16")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["activated"] and f"active v{first} could not be compared (its folder does not load" in \
        out["activation_reason"]
    assert store.models.active_model().id == out["model_version_id"]
