"""CCC per dimension of a model version on one split of a corpus (features from the shared cache)."""

from __future__ import annotations

from emotrace.core.errors import UserFacingError
from emotrace.core.ser.modeling import EmoTraceModel
from emotrace.core.ser.pipeline import Encoders, pick_device
from emotrace.core.store import Store
from emotrace.core.workflows.analyze import resolve_model
from emotrace.training.baseline import egemaps_ridge
from emotrace.training.data import labels_array, load_examples
from emotrace.training.features import prepare_features
from emotrace.training.trainer import evaluate_arrays


def evaluate(store: Store, corpus: str, split: str, model: str | int | None = None, device: str = "auto",
             annotator: str | None = None, encoders: Encoders | None = None, baseline: bool = True) -> dict:
    """The model's CCC per dimension on `split`, and (`baseline`) the eGeMAPS + ridge baseline's on the same
    segments, fitted on Train (`training/baseline.py`)."""
    version = resolve_model(store, model)
    device = pick_device(device)
    net = EmoTraceModel.from_pretrained(version.folder).to(device)
    every = load_examples(store, corpus, annotator)
    examples = [e for e in every if e.split == split]
    if len(examples) < 2:
        raise UserFacingError(f"split {split!r} of corpus {corpus!r} has {len(examples)} labelled segments")
    encoders = encoders or Encoders(net.config, device)
    audio, text, present = prepare_features(net.config, encoders, examples, lambda e: None, None)
    ccc = evaluate_arrays(net, audio, text, present, labels_array(examples), device)
    result = {"model": version.name, "model_version_id": version.id, "split": split, "n": len(examples), "ccc": ccc}
    if baseline:
        result["egemaps_ridge"] = egemaps_ridge(every, split)
    return result
