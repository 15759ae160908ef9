"""CCC per dimension of a model version on one split of a corpus (features from the shared cache)."""

from __future__ import annotations

from emotrace.core.errors import UserFacingError
from emotrace.core.ser.modeling import EmoTraceModel
from emotrace.core.ser.pipeline import Encoders, pick_device
from emotrace.core.store import Store
from emotrace.core.workflows.analyze import resolve_model
from emotrace.training.data import labels_array, load_examples
from emotrace.training.features import prepare_features
from emotrace.training.trainer import evaluate_arrays


def evaluate(store: Store, corpus: str, split: str, model: str | int | None = None, device: str = "auto",
             annotator: str | None = None, encoders: Encoders | None = None) -> dict:
    version = resolve_model(store, model)
    device = pick_device(device)
    net = EmoTraceModel.from_pretrained(version.folder).to(device)
    examples = [e for e in load_examples(store, corpus, annotator) if e.split == split]
    if len(examples) < 2:
        raise UserFacingError(f"split {split!r} of corpus {corpus!r} has {len(examples)} labelled segments")
    encoders = encoders or Encoders(net.config, device)
    audio, text, present = prepare_features(net.config, encoders, examples, lambda e: None, None)
    ccc = evaluate_arrays(net, audio, text, present, labels_array(examples), device)
    return {"model": version.name, "model_version_id": version.id, "split": split, "n": len(examples), "ccc": ccc}
