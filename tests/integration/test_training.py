"""The trainer on data the tests generate, with the real offline backbone (Whisper tiny.en) and MiniLM."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from emotrace.core.progress import Cancelled
from emotrace.core.workflows.importing import import_folder
from emotrace.training.data import load_examples
from emotrace.training.registry import rollback
from emotrace.training.trainer import TrainConfig, train
from tests.conftest import labelled_corpus


@pytest.fixture
def corpus(store, tmp_path):
    import_folder(store, labelled_corpus(tmp_path / "gen"), "gen")
    return "gen"


def quick(corpus, **kw):
    return TrainConfig(corpus=corpus, epochs=kw.pop("epochs", 60), batch_size=kw.pop("batch_size", 16), patience=60,
                       device="cpu", **kw)


def test_training_lowers_loss_and_raises_heldout_ccc(store, corpus):
    events = []
    result = train(store, quick(corpus), on_event=events.append)
    epochs = [e for e in events if e["type"] == "epoch"]
    assert epochs[-1]["loss"] < epochs[0]["loss"]
    best = max(e["dev_mean_ccc"] for e in epochs)
    assert best > epochs[0]["dev_mean_ccc"] + 0.1
    assert result.metrics["ccc"]["arousal"] > 0.4
    active = store.models.active_model()
    assert active.id == result.model_version_id and active.data_counts["train"] == 30
    assert any(e["type"] == "notice" and "offline audio backbone" in e["message"] for e in events)


def test_cancel_leaves_registry_unchanged(store, corpus):
    first = train(store, quick(corpus, epochs=3))
    folders_before = sorted(os.listdir(os.path.dirname(store.models.model_version(first.model_version_id).folder)))
    calls = {"n": 0}

    def cancel():
        calls["n"] += 1
        return calls["n"] > 5

    with pytest.raises(Cancelled):
        train(store, quick(corpus, epochs=50), cancel=cancel)
    assert [mv.id for mv in store.models.model_versions()] == [first.model_version_id]
    assert store.models.active_model().id == first.model_version_id
    assert sorted(os.listdir(os.path.dirname(store.models.model_version(first.model_version_id).folder))) == folders_before


def test_rollback_and_activate(store, corpus):
    a = train(store, quick(corpus, epochs=3)).model_version_id
    b = train(store, quick(corpus, epochs=3, activate="always")).model_version_id  # the same run: a tie
    assert store.models.model_version(b).parent_id == a and store.models.active_model().id == b
    assert rollback(store).id == a and store.models.active_model().id == a
    store.models.activate_model(b)
    assert store.models.active_model().id == b


def test_feature_cache_resumes_after_interruption(store, corpus):
    from emotrace.core.ser.encoders import load_audio_encoder
    from emotrace.training.features import FeatureCache, audio_features
    from tests.helpers import CountingEncoder

    examples = load_examples(store, corpus)
    enc = CountingEncoder(load_audio_encoder("whisper:tiny.en"))
    enc.chunk_seconds = 30.0
    cache = FeatureCache("whisper:tiny.en")
    calls = {"n": 0}

    def cancel():
        calls["n"] += 1
        return calls["n"] > 3

    with pytest.raises(Cancelled):
        audio_features(enc, examples, cache=cache, cancel=cancel)
    total = sum(e.end - e.start for e in examples)
    cached = sum(e.end - e.start for e in examples if cache.load(e.fingerprint) is not None)
    assert 0 < cached <= enc.seconds < total
    enc.seconds = 0.0
    feats = audio_features(enc, examples, cache=cache)
    assert enc.seconds == pytest.approx(total - cached, abs=0.5)  # only the files not cached yet
    enc.seconds = 0.0
    again = audio_features(enc, examples, cache=cache)
    assert enc.seconds == 0.0
    np.testing.assert_allclose(again, feats)


def test_training_runs_in_a_separate_process_and_cancels(store, corpus):
    from emotrace.training.runner import TrainingRun

    run = TrainingRun(store.url, quick(corpus, epochs=400)).start()
    seen = []
    while not any(e["type"] == "epoch" for e in seen):
        seen += run.poll()
        assert not run.done, seen
        __import__("time").sleep(0.05)
    run.cancel()
    final = run.join(timeout=60)
    assert final["type"] == "cancelled"
    assert store.models.model_versions() == []
    run = TrainingRun(store.url, quick(corpus, epochs=5)).start()
    final = run.join(timeout=120)
    assert final["type"] == "finished" and store.models.active_model().id == final["model_version_id"]


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "emotrace.cli", *args], capture_output=True, text=True, env=env)


def test_cli_train_evaluate_analyze_models(tmp_path, store, corpus):
    db = store.url
    r = _cli("--db", db, "-q", "train", "--corpus", corpus, "--epochs", "40")
    assert r.returncode == 0, r.stderr
    trained = json.loads(r.stdout.strip().splitlines()[-1])
    r = _cli("--db", db, "evaluate", "--corpus", corpus, "--split", "Development", "--json")
    out = json.loads(r.stdout)
    assert set(out) == {"model", "split", "n", "ccc", "egemaps_ridge"} and out["n"] == 12 and out["split"] == "Development"
    assert out["egemaps_ridge"]["n"] == 12 and out["egemaps_ridge"]["ccc"]["arousal"] > 0.5  # same split, beside it
    assert out["ccc"]["arousal"] == pytest.approx(trained["ccc"]["arousal"], abs=1e-3)
    r = _cli("--db", db, "-q", "analyze", "--corpus", corpus)
    assert r.returncode == 0 and "48/48 files" in r.stdout, r.stdout + r.stderr
    f = store.corpora.files(store.corpora.corpus(corpus).id)[0]
    mv = store.models.active_model().id
    segs = list(store.predictions.segment_predictions(mv, file_id=f.id).values())
    _t, wins = store.predictions.trajectory(f.id, mv)
    assert len(segs) == 1 and segs[0].segment_id is not None and len(wins) >= 1
    assert all(1 <= x <= 7 for p in segs for x in p.values) and ((wins >= 1) & (wins <= 7)).all()
    assert all(p.uncertainty is not None and p.uncertainty > 0 for p in segs)  # MC-dropout spread
    from emotrace.core.workflows.review import review_queue

    queue = review_queue(store, store.corpora.corpus(corpus).id, mv)
    assert len(queue) == 48 and queue[0].score >= queue[-1].score and queue[0].uncertainty > 0
    r = _cli("--db", db, "models", "list")
    assert "*" in r.stdout and "A=" in r.stdout
    import_folder(store, tmp_path / "gen", "copy")  # a second corpus the active version has not analysed
    r = _cli("--db", db, "models", "activate", str(mv))
    assert f"v{mv} has not analysed 48 file(s) in 1 corpus(es) (copy)" in r.stdout, r.stdout + r.stderr
    r = _cli("--db", db, "-q", "models", "activate", str(mv), "--analyze")
    assert r.returncode == 0 and "48/48 files" in r.stdout, r.stdout + r.stderr
    assert len(store.predictions.predicted_files(store.corpora.corpus("copy").id, mv)) == 48


def test_analyze_without_a_model_is_a_clear_error(tmp_path, store, corpus):
    r = _cli("--db", store.url, "analyze", "--corpus", corpus)
    assert r.returncode == 2 and "No trained model yet" in r.stderr and "Traceback" not in r.stderr


def test_ddp_two_processes_register_one_model(store, corpus):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
           "-m", "emotrace.cli", "--db", store.url, "-q", "train", "--corpus", corpus, "--epochs", "5"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    versions = store.models.model_versions()
    assert len(versions) == 1 and versions[0].active


def test_many_segments_per_file_and_a_new_segment_reuses_the_cache(store, tmp_path):
    """Long files with several labelled turns each (generic CSV): pooled per segment; a segment added later
    is encoded while the others come from the cache."""
    from emotrace.core.ser.encoders import load_audio_encoder
    from emotrace.training.features import FeatureCache, audio_features
    from tests.conftest import write_audio
    from tests.helpers import CountingEncoder

    root = tmp_path / "long"
    rows = ["file,start,end,arousal,valence,dominance"]
    for f in range(3):
        write_audio(root / f"talk{f}.wav", 20.0, freq=150 + 60 * f)
        rows += [f"talk{f}.wav,{s},{s + 4},{2 + f},{3 + f},4" for s in (0, 5, 10)]
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    import_folder(store, root, "long")
    examples = load_examples(store, "long")
    assert len(examples) == 9
    enc = CountingEncoder(load_audio_encoder("whisper:tiny.en"))
    cache = FeatureCache("whisper:tiny.en")
    feats = audio_features(enc, examples, cache=cache)
    assert feats.shape == (9, 5, 768)
    assert not np.allclose(feats[0], feats[1])  # each turn pooled over its own frames
    assert enc.seconds == pytest.approx(60.0, abs=0.1)  # each file encoded once, not once per segment
    (root / "more.csv").write_text("file,start,end,arousal,valence,dominance\ntalk0.wav,15,19,5,5,5\n")
    from emotrace.core.workflows.importing import import_labels

    import_labels(store, "long", root / "more.csv")
    enc.seconds = 0.0
    again = audio_features(enc, load_examples(store, "long"), cache=cache)
    assert again.shape == (10, 5, 768) and enc.seconds == pytest.approx(20.0, abs=0.1)


def test_full_mode_finetunes_the_encoder_and_the_app_loads_it(store, corpus, tmp_path):
    from pathlib import Path

    from safetensors.torch import load_file

    from emotrace.core.ser.pipeline import SERPipeline
    from tests.conftest import tiny_hubert

    original = tiny_hubert(tmp_path / "tiny-distilhubert")
    result = train(store, quick(corpus, mode="full", audio_backbone=str(original), epochs=2))
    folder = Path(store.models.model_version(result.model_version_id).folder)
    saved = folder / "audio_encoder"
    assert (saved / "config.json").is_file() and (saved / "model.safetensors").is_file()
    before, after = load_file(original / "model.safetensors"), load_file(saved / "model.safetensors")
    changed = [k for k in before if "encoder.layers" in k and not (before[k] == after[k]).all()]
    frozen = [k for k in before if k.startswith("feature_extractor") and not (before[k] == after[k]).all()]
    assert changed and not frozen  # transformer layers fine-tuned, the CNN kept frozen
    pipeline = SERPipeline(str(folder), device="cpu")
    assert pipeline.config.modalities == "audio" and pipeline.encoders.audio.name == str(saved)
    assert np.isfinite(result.metrics["ccc"]["arousal"])


def test_full_mode_pools_exactly_what_the_cache_holds(store, corpus):
    """One featurizer: before any update, `full` mode's differentiable pooling gives the cached features."""
    import torch

    from emotrace.core.ser.encoders import load_audio_encoder
    from emotrace.training.features import audio_features
    from emotrace.training.trainer import pool_examples

    examples = load_examples(store, corpus)[:6]
    enc = load_audio_encoder("whisper:tiny.en")
    cached = audio_features(enc, examples)
    with torch.no_grad():
        pooled = pool_examples(enc, examples).numpy()
    assert pooled.shape == cached.shape == (6, 5, 768)
    np.testing.assert_allclose(pooled, cached, rtol=1e-3, atol=2e-3)


def test_full_mode_finetunes_the_torch_whisper_encoder(store, corpus):
    from pathlib import Path

    from safetensors.torch import load_file

    from emotrace.core.ser.pipeline import SERPipeline

    result = train(store, quick(corpus, mode="full", audio_backbone="whisper:tiny.en", epochs=1, batch_size=8))
    folder = Path(store.models.model_version(result.model_version_id).folder)
    saved = load_file(folder / "audio_encoder" / "model.safetensors")
    from emotrace.core.ser.whisper_torch import load_whisper_encoder

    original = load_whisper_encoder("whisper:tiny.en").state_dict()
    assert not torch_equal(saved["layers.3.fc2.weight"], original["layers.3.fc2.weight"])
    assert torch_equal(saved["conv1.weight"], original["conv1.weight"])  # the input convolutions stay frozen
    pipeline = SERPipeline(str(folder), device="cpu")
    assert pipeline.encoders.audio.is_whisper and pipeline.encoders.audio.num_layers == 5


def torch_equal(a, b) -> bool:
    return bool((a.float() == b.float()).all())


def test_layer_weights_leave_uniform_with_their_own_learning_rate(store, corpus):
    """At the heads' learning rate the softmax layer weights barely move; at `layer_lr` they do."""
    slow = train(store, quick(corpus, layer_lr=2e-3, epochs=40))
    fast = train(store, quick(corpus, epochs=40))
    spread = {k: np.ptp(np.array(r.metrics["layer_weights"]), axis=1).max() for k, r in (("slow", slow), ("fast", fast))}
    assert spread["fast"] > 3 * spread["slow"] and spread["fast"] > 0.05
    heads = train(store, quick(corpus, mode="heads", epochs=5))
    np.testing.assert_allclose(heads.metrics["layer_weights"], 0.2)  # heads mode keeps them uniform


def test_a_last_layer_model_slices_the_all_layer_cache(store, corpus, monkeypatch):
    from emotrace.core.ser.encoders import load_audio_encoder
    from emotrace.training.features import audio_features

    examples = load_examples(store, corpus)[:4]
    every = audio_features(load_audio_encoder("whisper:tiny.en"), examples)
    last = load_audio_encoder("whisper:tiny.en", layers=[-1])
    monkeypatch.setattr(last.module, "forward", lambda *a: (_ for _ in ()).throw(AssertionError("re-encoded")))
    np.testing.assert_array_equal(audio_features(last, examples), every[:, [-1]])
