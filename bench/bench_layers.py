"""Choose the default backbone: Whisper tiny.en vs base, all layers vs the last layer, vs an all-layer ridge probe.

On ../shared/data/ravdess-dev (actors 1-12 Train, 13-16 Development; proxy A/V/D from acted categories):
- CPU speed of the torch featurizer (audio seconds per second, cold feature cache) against the previous
  backbone (CTranslate2 int8, last layer only);
- per-layer ridge probes and the all-layer probe (`training.probe`, what `emotrace layers` prints);
- the trainer, three seeds: `layers` mode on all hidden states (learnt per-dimension softmax weights) and
  `heads` mode on the last layer only (the pre-issue-11 model's features).

    EMOTRACE_HOME=/tmp/bench-layers HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_layers.py > layers.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emotrace.core.store import Store  # noqa: E402
from emotrace.core.workflows.importing import import_folder  # noqa: E402
from emotrace.training.data import load_examples  # noqa: E402
from emotrace.training.probe import layer_relevance  # noqa: E402
from emotrace.training.trainer import TrainConfig, train  # noqa: E402


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def ct2_speed(paths: list[str], model: str) -> float:
    """Audio seconds per second of the previous offline backbone: faster-whisper's features + CT2 int8 encode."""
    import ctranslate2
    from faster_whisper import WhisperModel

    from emotrace.core.audio.decode import AudioSource
    from emotrace.core.speech.whisper_models import resolve_whisper_model

    wm = WhisperModel(resolve_whisper_model(model), device="cpu", compute_type="int8")
    wavs = [AudioSource(p).decode_all() for p in paths]
    t = time.perf_counter()
    for i in range(0, len(wavs), 8):
        batch = wavs[i: i + 8]
        longest = max(len(w) for w in batch)
        feats = [wm.feature_extractor(np.pad(w, (0, longest - len(w)))) for w in batch]
        n = min(f.shape[-1] for f in feats)
        n -= n % 2
        wm.model.encode(ctranslate2.StorageView.from_array(np.stack([f[:, :n] for f in feats])), to_cpu=True)
    return sum(len(w) for w in wavs) / 16000 / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/ravdess-dev")
    ap.add_argument("--backbones", nargs="+", default=["whisper:tiny.en", "whisper:base"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--db", default=None)
    args = ap.parse_args()
    store = Store(args.db)
    if "rav" not in [c.name for c in store.corpora.corpora()]:
        import_folder(store, args.data, "rav")
    examples = load_examples(store, "rav")
    seconds = sum(e.end - e.start for e in examples)
    for backbone in args.backbones:
        t = time.perf_counter()
        report = layer_relevance(store, "rav", backbone, device="cpu")
        wall = time.perf_counter() - t
        emit({"what": "probe", "backbone": backbone, "audio_seconds": round(seconds, 1),
              "features_and_probes_s": round(wall, 1), **report.to_dict()})
        for mode, layers in (("layers", None), ("heads", [-1])):
            for seed in args.seeds:
                t = time.perf_counter()
                result = train(store, TrainConfig(corpus="rav", mode=mode, layers=layers, audio_backbone=backbone,
                                                  modalities="audio", seed=seed, device="cpu", activate=False,
                                                  name=f"bench-{mode}"))
                emit({"what": "train", "backbone": backbone, "mode": mode, "layers": layers or "all", "seed": seed,
                      "ccc": result.metrics["ccc"], "layer_weights": result.metrics["layer_weights"],
                      "epochs": len(result.history), "wall_s": round(time.perf_counter() - t, 1)})
    # speed: the featurizer on 120 files with a cold cache, against the previous CTranslate2 int8 backbone
    from emotrace.core.ser.encoders import load_audio_encoder
    from emotrace.training.features import FeatureCache, audio_features

    subset = examples[:120]
    audio_s = sum(e.end - e.start for e in subset)
    for backbone in args.backbones:
        enc = load_audio_encoder(backbone)
        cache = FeatureCache(enc.cache_key, root=Path(tempfile.mkdtemp(prefix="speed-cache-")))
        t = time.perf_counter()
        audio_features(enc, subset, cache=cache)
        torch_speed = audio_s / (time.perf_counter() - t)
        ct2 = ct2_speed(sorted({e.path for e in subset}), backbone.split(":", 1)[1])
        emit({"what": "speed", "backbone": backbone, "audio_seconds": round(audio_s, 1),
              "torch_fp32_all_layers_audio_s_per_s": round(torch_speed, 1),
              "ct2_int8_last_layer_audio_s_per_s": round(ct2, 1)})


if __name__ == "__main__":
    main()
