"""Issue 16, the activation gate on real training runs: a worse model is registered but not activated (and
`--activate always` overrides), the CLI says whether it activated and why, nonsense options are refused before
any work, and more gradient accumulation than batches still steps."""

from __future__ import annotations

import json

import pytest

from tests.helpers import cli


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


def test_more_accumulation_than_batches_still_steps(trained):
    from emotrace.training.trainer import TrainConfig, train

    store, corpus, _first = trained
    result = train(store, TrainConfig(corpus=corpus, epochs=2, batch_size=16, grad_accum=50, device="cpu",
                                      activate="never"))
    assert result.metrics["optimizer_steps"] == 2  # one flushed step per epoch


def test_cli_refuses_to_activate_a_model_whose_outputs_are_broken(trained):
    """Issue 23, item 3, through the CLI: weights scaled by 1e30 pass every check on the folder; the reference
    clip shows they predict nothing usable. One line, rc 2, the active model unchanged; and a real trained model
    passes the same gate (the forced activation above ran it)."""
    import shutil
    from pathlib import Path

    from safetensors.torch import load_file, save_file

    from tests.helpers import one_line_error

    store, _corpus, first = trained
    folder = Path(store.models.model_version(first).folder).with_name("scaled")
    shutil.copytree(store.models.model_version(first).folder, folder)
    state = load_file(str(folder / "model.safetensors"))
    save_file({k: v * 1e30 for k, v in state.items()}, str(folder / "model.safetensors"))
    mv = store.models.register_model(name="scaled", folder=folder, parent_id=first, metrics={}, config={},
                                     data_counts={}, activate=False)
    line = one_line_error(cli("--db", store.url, "models", "activate", str(mv.id), "--device", "cpu"))
    assert "reference clip" in line and str(folder) in line
    assert store.models.active_model().id == first


def test_a_retrain_on_constant_labels_does_not_replace_the_active_model_on_a_tie(trained, tmp_path):
    """Issue 23, item 3: every label 4/4/4 scores CCC 0.000 for any model, the active one included; the tie
    used to activate the retrain (its layer weights never left uniform). A tie is not an improvement."""
    from emotrace.core.workflows.importing import import_folder
    from emotrace.training.trainer import TrainConfig, train
    from tests.conftest import labelled_corpus

    store, _corpus, first = trained
    root = labelled_corpus(tmp_path / "flat", speakers=8, per_speaker=1, seed=5)
    rows = (root / "labels_consensus.csv").read_text().splitlines()
    flat = [rows[0]] + [",".join(r.split(",")[:2] + ["4", "4", "4"] + r.split(",")[5:]) for r in rows[1:]]
    (root / "labels_consensus.csv").write_text("\n".join(flat) + "\n")
    import_folder(store, root, "flat")
    result = train(store, TrainConfig(corpus="flat", epochs=3, batch_size=4, device="cpu"))
    verdict = result.activation
    assert verdict["comparable"] and verdict["new_mean_ccc"] == verdict["parent_mean_ccc"] == 0.0
    assert not verdict["activate"] and "tie" in verdict["reason"], verdict["reason"]
    assert store.models.active_model().id == first
