"""Issue 16, one NaN sample, end to end on a real training run: a model with NaN weights is refused everywhere;
the issue's reproduction (a NaN clip with a Train label, then train and analyze); a corpus poisoned before the
fix still trains and analyzes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from emotrace.core.store import Store
from emotrace.core.workflows.importing import import_folder
from tests.helpers import nan_wav, poison


def test_a_model_with_nan_weights_is_refused_everywhere(tmp_path, trained):
    from emotrace.core.ser.config import ModelFolderError
    from emotrace.core.ser.modeling import check_model_folder
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


def _gen_folder(store: Store, corpus: str) -> Path:
    return Path(store.corpora.files(store.corpora.corpus(corpus).id)[0].path).parents[1]


def test_issue_reproduction_nan_clip_with_a_train_label_then_train_and_analyze(trained):
    """The issue's steps: a float WAV with one NaN and a Train label row, imported into a corpus with a model,
    `train --epochs 3`, `analyze`. The clip is refused, the model stays valid, analyze runs."""
    from emotrace.core.ser.modeling import check_model_folder
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
