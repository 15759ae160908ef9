"""Train the SER heads, the per-dimension layer weights and optionally the encoder from the store's labels.

Modes: `layers` (the default: heads + per-dimension softmax layer weights on cached pooled per-layer features,
no encoder pass), `heads` (layer weights frozen at uniform), `full` (the audio featurizer is fine-tuned too:
the same torch module that fills the cache, pooled the same way, chunk by chunk). One loop for all three:
AdamW with parameter groups (the layer logits get their own, higher learning rate: at the heads' rate softmax
weights barely leave uniform), warm-up then cosine decay, gradient accumulation, early stopping on the
development split's mean CCC, fixed seeds, DDP under torchrun. Only a complete run registers a model version,
on rank 0; a failed or cancelled one leaves the registry as it was. A run that took no optimiser step or whose
model gives non-finite outputs registers nothing, and a valid new model replaces the active one only as
`training.gate` decides (under `auto`: not worse on the same development data).
"""

from __future__ import annotations

import math
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from safetensors import SafetensorError
from torch import nn

from emotrace.core.audio.decode import AudioSource
from emotrace.core.errors import UserFacingError
from emotrace.core.progress import CancelFn, check_cancel
from emotrace.core.ser.config import EmoTraceConfig, ModelFolderError
from emotrace.core.ser.hub import DEFAULT_TEXT, OFFLINE_AUDIO
from emotrace.core.ser.modeling import EmoTraceModel, io_reason
from emotrace.core.ser.pipeline import Encoders, offline_notice, pick_device
from emotrace.core.ser.trust import TrustModel, fit_for_model
from emotrace.core.stats.metrics import ccc_loss, ccc_per_dimension
from emotrace.core.store import Store
from emotrace.training.data import DEV, TEST, TRAIN, Example, check_speaker_disjoint, labels_array, load_examples
from emotrace.training.features import distributed, prepare_features
from emotrace.training.gate import ACTIVATE_MODES, Verdict, check_outputs, decide, reference_features
from emotrace.training.probe import probe_layers
from emotrace.training.registry import discard_folder, new_model_folder, register

EventFn = Callable[[dict], None]


@dataclass
class TrainConfig:
    corpus: str
    mode: str = "layers"  # layers | heads | full
    audio_backbone: str | None = None  # None: the parent's, else the offline backbone
    text_backbone: str = DEFAULT_TEXT
    modalities: str = "both"
    epochs: int = 80
    batch_size: int = 64
    grad_accum: int = 1
    lr: float = 2e-3
    layer_lr: float = 5e-2  # the softmax layer logits: 25x the heads' rate, or they stay near uniform
    encoder_lr: float = 2e-5
    layers: list[int] | None = None  # hidden states to read (None: all; [-1]: a last-layer model)
    weight_decay: float = 1e-2
    warmup_frac: float = 0.1
    patience: int = 15
    hidden_size: int = EmoTraceConfig.hidden_size  # the head's defaults are the model config's, written once
    dropout: float = EmoTraceConfig.dropout
    seed: int = 0
    device: str = "auto"
    annotator: str | None = None
    include_accepted: bool = False  # train on accepted model predictions too (they are not human judgements)
    targets: str = "labels"  # labels | traces | both (trace means over segments)
    activate: str = "auto"  # auto | always | never (see training.gate); True/False mean auto/never
    name: str = "emotrace"
    eval_split: str = DEV
    # continue from the active model when it was trained on this corpus with the same features and head (a retrain
    # after corrections): its weights are the start, `warm_epochs` replace `epochs` and the learning rates are
    # scaled by `warm_lr_scale` (the full rates knock it off its optimum: ravdess-dev development mean CCC 0.788
    # against 0.793 at a quarter, over 3 seeds; bench/README.md). The Retrain dialog's default.
    warm_start: bool = False
    warm_epochs: int = 12
    warm_lr_scale: float = 0.25

    def __post_init__(self) -> None:
        if self.mode not in ("heads", "layers", "full"):
            raise ValueError(f"mode must be heads, layers or full, not {self.mode!r}")
        if isinstance(self.activate, bool):
            self.activate = "auto" if self.activate else "never"
        if self.activate not in ACTIVATE_MODES:
            raise UserFacingError(f"activate must be one of {', '.join(ACTIVATE_MODES)}, not {self.activate!r}")
        # a batch of one has no CCC, so `_batches` skips it: --batch-size 1 used to train nothing at all
        for name, low in (("epochs", 1), ("batch_size", 2), ("grad_accum", 1), ("patience", 1), ("warm_epochs", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise UserFacingError(f"{name.replace('_', '-')} must be a whole number of at least {low}, "
                                      f"not {value!r}")
        for name in ("lr", "layer_lr", "encoder_lr", "warm_lr_scale"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise UserFacingError(f"{name} must be a positive number, not {getattr(self, name)!r}")


@dataclass
class TrainResult:
    model_version_id: int
    metrics: dict
    parent_metrics: dict | None
    seconds: float
    history: list[dict]
    activation: dict | None = None  # training.gate.Verdict as a dict: activated or not, and why


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(store: Store, cfg: TrainConfig, on_event: EventFn = lambda e: None, cancel: CancelFn | None = None
          ) -> TrainResult:
    t_start = time.perf_counter()
    seed_everything(cfg.seed)
    dist = distributed()
    rank = dist.get_rank() if dist else 0
    device = pick_device(cfg.device) if not dist else "cpu" if not torch.cuda.is_available() else f"cuda:{rank}"
    parent = store.models.active_model()
    # the backbone asked for, else the active model's (a retrain keeps its features), else the offline one
    parent_backbone = (parent.config or {}).get("audio_backbone") if parent is not None else None
    backbone = cfg.audio_backbone or parent_backbone or OFFLINE_AUDIO
    if cfg.targets != "labels":  # bring the trace means up to date with the newest passes
        for f in store.corpora.files(store.corpora.corpus(cfg.corpus).id):
            store.traces.trace_labels(f.id)
    examples = load_examples(store, cfg.corpus, cfg.annotator, include_accepted=cfg.include_accepted,
                             targets=cfg.targets)
    check_speaker_disjoint(examples)
    train_ex = [e for e in examples if e.split == TRAIN]
    dev_ex = [e for e in examples if e.split == cfg.eval_split] or [e for e in examples if e.split == DEV]
    if len(train_ex) < 4 or len(dev_ex) < 2:
        raise UserFacingError(f"not enough labelled segments to train: {len(train_ex)} in {TRAIN}, "
                              f"{len(dev_ex)} in {cfg.eval_split} (need at least 4 and 2)")
    on_event({"type": "start", "train": len(train_ex), "dev": len(dev_ex), "backbone": backbone})
    notice = offline_notice(backbone)
    if notice:
        on_event({"type": "notice", "message": notice})

    modalities = cfg.modalities
    if modalities == "both" and not any(e.text for e in train_ex):
        modalities = "audio"  # a text branch never trained on words would only add noise (nor is its encoder loaded)
        on_event({"type": "notice", "message": "no training segment has words (transcribe the corpus to use the "
                                               "text branch): training an audio-only model"})
    probe_cfg = EmoTraceConfig(audio_backbone=backbone, text_backbone=cfg.text_backbone, modalities=modalities,
                               audio_layer_ids=cfg.layers)
    on_event({"type": "stage", "stage": "loading", "done": 0, "total": 1,
              "warm": cfg.mode != "full" and _encoder_key(probe_cfg, device) in _ENCODERS})
    encoders = loaded_encoders(probe_cfg, device, keep=cfg.mode != "full")
    config = EmoTraceConfig(
        audio_backbone=backbone, text_backbone=cfg.text_backbone, modalities=modalities,
        audio_layers=encoders.audio.num_layers if encoders.audio else 1, audio_layer_ids=cfg.layers,
        audio_dim=encoders.audio.dim if encoders.audio else 1,
        text_dim=encoders.text.dim if encoders.text else 1, hidden_size=cfg.hidden_size, dropout=cfg.dropout,
    )
    if cfg.mode == "full" and (encoders.audio is None or not config.uses_audio):
        raise UserFacingError("--mode full fine-tunes the audio encoder: it needs the audio modality")

    check_cancel(cancel)
    # one pass over both splits: the features stage counts every file to encode once (a cached one is not counted);
    # in `full` mode audio is pooled on the fly from the featurizer, only text is precomputed
    on_event({"type": "stage", "stage": "features", "done": 0, "total": 0})
    both = train_ex + dev_ex
    audio, text, present = prepare_features(config, encoders, both, on_event, cancel, audio=cfg.mode != "full")
    sets = {}
    for name, part in (("train", slice(0, len(train_ex))), ("dev", slice(len(train_ex), None))):
        a, t, p, exs = drop_non_finite(*(None if x is None else x[part] for x in (audio, text, present)), both[part],
                                       name, on_event)
        sets[name] = Inputs(a, t, p, labels_array(exs), exs)
    train_ex, dev_ex = sets["train"].examples, sets["dev"].examples
    if len(train_ex) < 4 or len(dev_ex) < 2:
        raise UserFacingError(f"not enough usable segments to train: {len(train_ex)} in {TRAIN}, {len(dev_ex)} in "
                              f"{cfg.eval_split} once segments with non-finite audio were left out")
    model = EmoTraceModel(config)
    start = _warm_start_parent(parent, cfg, config) if cfg.warm_start and cfg.mode != "full" else None
    if start is not None:
        model.load_state_dict(start.state_dict())  # the statistics are set again just below, from this data
        cfg = replace(cfg, epochs=min(cfg.epochs, cfg.warm_epochs), lr=cfg.lr * cfg.warm_lr_scale,
                      layer_lr=cfg.layer_lr * cfg.warm_lr_scale)
        on_event({"type": "notice", "message": f"continuing from the active v{parent.id}, trained on {cfg.corpus} "
                                               f"with the same features: {cfg.epochs} epochs"})
    model.set_feature_stats(sets["train"].audio if cfg.mode != "full" else None, sets["train"].text,
                            sets["train"].present)
    model.layer_logits.requires_grad_(cfg.mode != "heads")
    featurizer = encoders.audio if cfg.mode == "full" else None
    if featurizer is not None:
        featurizer.module.freeze_cnn()
        with torch.no_grad():  # audio statistics from the featurizer's own pooled features, as cached ones would be
            stats = torch.cat([pool_examples(featurizer, sets["train"].examples[i: i + cfg.batch_size]).cpu()
                               for i in range(0, len(train_ex), cfg.batch_size)]).numpy()
        model.set_feature_stats(stats, None)
    model.to(device)
    with fit_threads(device, featurizer):
        history, best, steps = fit(model, featurizer, sets, cfg, device, on_event, cancel)
    on_event({"type": "stage", "stage": "checking", "done": 0, "total": 1})
    model.load_state_dict(best[0])
    if featurizer is not None:
        featurizer.module.load_state_dict(best[1])
    dev_ccc = check_trained(model, featurizer, sets["dev"], steps, cfg, len(train_ex), device)
    # the trust indicator's statistics (issue 26): fitted on the training features, 95% of the development split
    # inside; `full` fine-tuning changes the features themselves, so it has none yet
    trust = fit_for_model(model, sets["train"].audio, sets["dev"].audio) if featurizer is None else None
    metrics = {"split": dev_ex[0].split, "n": len(dev_ex), "mode": cfg.mode, "ccc": dev_ccc, "optimizer_steps": steps,
               "layer_weights": model.layer_weights().astype(float).round(4).tolist()}
    if trust is not None:
        metrics["trust"] = trust.info
    probe = _layer_probes(sets)
    if probe is not None:
        metrics["layer_probe_ccc"] = probe
    on_event({"type": "layer_weights", "weights": metrics["layer_weights"]})
    parent_metrics, problem = None, None
    if parent is not None:
        if featurizer is None:
            parent_metrics, problem = _parent_metrics(parent, sets["dev"], config, device)
        else:
            problem = "full fine-tuning scores a new encoder; the active model was not scored on these examples"
    verdict = decide(cfg.activate, dev_ccc, len(dev_ex), parent.id if parent else None,
                     (parent_metrics or {}).get("ccc"), problem)
    if featurizer is None:  # the gate's reference features with the encoders at hand: activating loads none
        try:
            reference_features(config, device, encoders)
        except (OSError, RuntimeError, ValueError):
            pass  # the gate itself says what is wrong with the reference clip, when the model is activated
    if dist is not None and rank != 0:
        return TrainResult(-1, metrics, parent_metrics, time.perf_counter() - t_start, history, verdict.to_dict())
    version = _save_and_register(store, cfg, model, featurizer, parent, metrics, parent_metrics, verdict, train_ex,
                                 dev_ex, examples, None if featurizer is not None else encoders, device, trust)
    seconds = time.perf_counter() - t_start
    activation = version.metrics["activation"]  # the gate's verdict, refused when the reference clip said so
    on_event({"type": "done", "model_version_id": version.id, "metrics": metrics, "parent_metrics": parent_metrics,
              "activation": activation, "seconds": round(seconds, 2)})
    return TrainResult(version.id, metrics, parent_metrics, seconds, history, activation)


_ENCODERS: dict[tuple, Encoders] = {}


def _encoder_key(config: EmoTraceConfig, device: str) -> tuple:
    return (config.audio_backbone if config.uses_audio else None, config.text_backbone if config.uses_text else None,
            tuple(config.audio_layer_ids) if config.audio_layer_ids is not None else None, device)


def loaded_encoders(config: EmoTraceConfig, device: str, keep: bool = True) -> Encoders:
    """The frozen encoders `config` names, loaded once per process: a warm training worker (training/runner.py)
    keeps them between retrains, so the second retrain loads nothing. `full` fine-tuning changes the audio
    encoder's weights, so it gets (and leaves) its own copy."""
    key = _encoder_key(config, device)
    if not keep:
        return Encoders(config, device)
    if key not in _ENCODERS:
        if len(_ENCODERS) >= 2:  # a third backbone: the oldest goes (memory)
            _ENCODERS.pop(next(iter(_ENCODERS)))
        _ENCODERS[key] = Encoders(config, device)
    return _ENCODERS[key]


@contextmanager
def fit_threads(device: str, featurizer) -> Iterator[None]:
    """One intra-op thread while the heads train on the CPU on cached features: their matrices are small, and
    on a shared 2-core machine torch's default threads spin against each other (ravdess-dev, 43 epochs: 250 s
    with 2 threads against 27 s with one, bench/README.md). Fine-tuning an encoder keeps every thread."""
    if featurizer is not None or str(device) != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


PROBE_MAX_TRAIN = 4000  # the kernel ridge probe is O(n^3): larger corpora use `emotrace layers` instead


def _layer_probes(sets: dict[str, Inputs]) -> list[dict] | None:
    """Per-layer ridge probe CCC on the dev split, stored with the version so its layer plot can show both what
    each layer carries and what weight the model gave it (cheap: cached features, seconds)."""
    tr, dev = sets["train"], sets["dev"]
    if tr.audio is None or tr.audio.shape[1] < 2 or not 8 <= len(tr.gold) <= PROBE_MAX_TRAIN or len(dev.gold) < 4:
        return None
    per_layer, _ = probe_layers(tr.audio, tr.gold, dev.audio, dev.gold, all_layers=False)
    return per_layer


def _warm_start_parent(parent, cfg: TrainConfig, config: EmoTraceConfig) -> EmoTraceModel | None:
    """The active model to continue from, or None: it must have been trained by this trainer on the same corpus
    (so on the same splits: its development score is not inflated by segments it saw), read the same features
    and modalities and have the same head. The bundled model was trained elsewhere, so a first retrain starts
    from scratch."""
    if parent is None or (parent.metrics or {}).get("bundled") or (
            ((parent.config or {}).get("train") or {}).get("corpus") != cfg.corpus):
        return None
    try:
        old = EmoTraceModel.from_pretrained(parent.folder)
    except (OSError, ValueError):
        return None
    fields = ("audio_backbone", "text_backbone", "modalities", "audio_layers", "audio_dim", "audio_layer_ids",
              "text_dim", "hidden_size")
    if any(getattr(old.config, f) != getattr(config, f) for f in fields):
        return None
    return old


def _save_and_register(store, cfg, model, featurizer, parent, metrics, parent_metrics, verdict: Verdict, train_ex,
                       dev_ex, examples, encoders=None, device: str = "cpu", trust: TrustModel | None = None):
    """Write into a folder made for this run alone, then register; a failure removes only that folder. A model
    the gate would activate first passes the same reference-clip check as `models activate`."""
    folder = new_model_folder(store, cfg.name)  # created empty and ours alone: a cleanup removes only it
    try:
        if featurizer is not None:  # a fine-tuned encoder travels with its model; the config points to it
            featurizer.module.cpu()
            featurizer.module.save_encoder(folder / "audio_encoder")
            model.config.audio_backbone = str(folder / "audio_encoder")
        model.cpu().save_pretrained(folder)
        if trust is not None:
            trust.save(folder)
        if verdict.activate:
            try:
                check_outputs(folder, device, encoders)
            except ModelFolderError as exc:
                verdict = verdict.refused(str(exc))
        counts = {"train": len(train_ex), "dev": len(dev_ex), "labelled": len(examples),
                  "test": sum(e.split.startswith("Test") for e in examples)}
        return register(store, name=cfg.name, folder=folder, parent_id=parent.id if parent else None,
                        metrics={**metrics, "parent": parent_metrics, "activation": verdict.to_dict()},
                        config={**model.config.to_dict(), "train": asdict(cfg)}, data_counts=counts,
                        activate=verdict.activate)
    except (ModelFolderError, OSError, SafetensorError) as exc:  # a disk that filled up while saving: one line
        discard_folder(folder)
        why = str(exc) if isinstance(exc, ModelFolderError) else f"cannot save the model to {folder}: {io_reason(exc)}"
        raise ModelFolderError(f"{why}; nothing was registered and the active model is unchanged") from exc
    except BaseException:
        discard_folder(folder)
        raise


def _parent_metrics(parent, dev_set: Inputs, config, device) -> tuple[dict | None, str | None]:
    """The parent on the same development examples, or None and why it cannot be compared (other features or
    modalities, or a folder that does not load: a broken parent never stops a retrain)."""
    try:
        old = EmoTraceModel.from_pretrained(parent.folder).to(device)
    except (OSError, ValueError) as exc:  # ModelFolderError is a ValueError
        return None, f"its folder does not load: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    same = (old.config.audio_backbone, old.config.text_backbone, old.config.audio_layers, old.config.audio_dim,
            old.config.audio_layer_ids) == (config.audio_backbone, config.text_backbone, config.audio_layers,
                                            config.audio_dim, config.audio_layer_ids)
    if not same:
        return None, f"it reads other features ({old.config.audio_backbone} + {old.config.text_backbone})"
    if old.config.modalities != config.modalities:
        return None, f"it reads other modalities ({old.config.modalities}, the new model {config.modalities})"
    pred = predict_arrays(old, dev_set.audio, dev_set.text, dev_set.present, device)
    if not np.isfinite(pred).all():
        return None, "its development outputs are not finite"
    return {"model_version_id": parent.id, "ccc": ccc_per_dimension(pred, dev_set.gold)}, None


def drop_non_finite(audio, text, present, examples: list[Example], name: str, on_event: EventFn):
    """Leave out segments whose features are not finite (audio imported before every sample was checked): one
    NaN in a batch makes every loss, gradient and weight NaN."""
    keep = np.ones(len(examples), dtype=bool)
    for x in (audio, text):
        if x is not None:
            keep &= np.isfinite(x.reshape(len(x), -1)).all(axis=1)
    if keep.all():
        return audio, text, present, examples
    bad = sorted({examples[k].path.rsplit("/", 1)[-1] for k in np.flatnonzero(~keep)})
    on_event({"type": "notice", "message": f"left out {int((~keep).sum())} {name} segment(s) whose audio features "
                                           f"are not finite (NaN or infinite samples in {', '.join(bad[:5])}); "
                                           "re-import those files"})
    audio, text, present = (None if x is None else x[keep] for x in (audio, text, present))
    return audio, text, present, [e for e, k in zip(examples, keep) if k]


def check_trained(model: EmoTraceModel, featurizer, dev_set: Inputs, steps: int, cfg: TrainConfig, n_train: int,
                  device: str) -> dict:
    """The development CCC of a model fit to be registered; a run that took no optimiser step, or whose weights
    or development outputs are not finite, is refused (nothing is registered, the active model stays)."""
    if steps == 0:
        raise UserFacingError(f"training took no optimiser step ({n_train} training segments, batch size "
                              f"{cfg.batch_size}, gradient accumulation {cfg.grad_accum}); nothing was registered")
    bad = [k for k, v in model.state_dict().items() if v.is_floating_point() and not torch.isfinite(v).all()]
    pred = predict_inputs(model, featurizer, dev_set, device, cfg.batch_size)
    if bad or not np.isfinite(pred).all():
        raise UserFacingError("training produced a model with non-finite " + (f"weights ({bad[0]})" if bad else
                              "development outputs") + "; nothing was registered and the active model is unchanged")
    return ccc_per_dimension(pred, dev_set.gold)


@dataclass
class Inputs:
    """One split: cached pooled audio `[N, L, 2D]` (None in `full` mode), text, its presence, gold labels."""

    audio: np.ndarray | None
    text: np.ndarray | None
    present: np.ndarray | None
    gold: np.ndarray
    examples: list[Example]


def pool_examples(featurizer, examples: list[Example]) -> torch.Tensor:
    """`[B, L, 2D]` through the featurizer, with grad: each segment is pooled from the encoder frames of the
    file's `chunk_seconds` chunks it lies in, exactly as `SpanPooler` pools it for the cache and for analysis
    (same chunking, same frame rounding, mean and population std over valid frames)."""
    fr, size = featurizer.frame_rate, featurizer.chunk_seconds
    keys: dict[tuple[str, int], int] = {}
    plans = []
    for e in examples:
        first, last = int(e.start // size), int(max(e.start, e.end - 1e-6) // size)
        plans.append([(keys.setdefault((e.path, k), len(keys)), k * size) for k in range(first, last + 1)])
    wavs = [_chunk_audio(path, k, size) for (path, k) in keys]
    hidden, frames = featurizer.forward(wavs)
    pooled = []
    for e, plan in zip(examples, plans):
        parts = []
        for c, t0 in plan:
            count = int(frames[c])
            k0 = int(np.clip(round((e.start - t0) * fr), 0, count))
            k1 = int(np.clip(round((e.end - t0) * fr), 0, count))
            if k1 > k0:
                parts.append(hidden[c, :, k0:k1])
        if not parts:  # shorter than a frame: the closest one, as SpanPooler does
            c, t0 = plan[0]
            k = int(np.clip(round((e.start + e.end) / 2 * fr - t0 * fr), 0, int(frames[c]) - 1))
            near = hidden[c, :, k]
            pooled.append(torch.cat([near, torch.zeros_like(near)], dim=-1))
            continue
        x = torch.cat(parts, dim=1)
        mean = x.mean(1)
        std = ((x - mean[:, None]) ** 2).mean(1).clamp(min=1e-12).sqrt()
        pooled.append(torch.cat([mean, std], dim=-1))
    return torch.stack(pooled)


class _ChunkCache:
    """Chunks of files as `iter_pooled` cuts them (`AudioSource.iter_chunks`), kept in memory: every epoch reads
    the same chunks. At most `limit` chunks (~0.5 GB of 30 s); a file's decoder stays open between requests,
    so the chunks of one file (examples come sorted by file and time) cost one decode, not one from the start
    of the file per chunk."""

    def __init__(self, limit: int = 256) -> None:
        self.limit = limit
        self.chunks: OrderedDict[tuple[str, float, int], np.ndarray] = OrderedDict()
        self.readers: dict[tuple[str, float], tuple[Iterator[np.ndarray], int]] = {}

    def get(self, path: str, index: int, size: float) -> np.ndarray:
        key = (path, size, index)
        if key in self.chunks:
            self.chunks.move_to_end(key)
            return self.chunks[key]
        reader, at = self.readers.get((path, size), (None, 0))
        if reader is None or at > index:  # nothing open, or past it: decode again from the start
            reader, at = iter(AudioSource(path).iter_chunks(size)), 0
        chunk = np.zeros(0, np.float32)
        for chunk in reader:
            at += 1
            self._keep((path, size, at - 1), chunk)
            if at > index:
                break
        else:
            chunk = np.zeros(0, np.float32)  # the file has fewer chunks
        self.readers[(path, size)] = (reader, at)
        return chunk

    def _keep(self, key: tuple[str, float, int], chunk: np.ndarray) -> None:
        self.chunks[key] = chunk
        while len(self.chunks) > self.limit:
            self.chunks.popitem(last=False)


_CHUNKS = _ChunkCache()


def _chunk_audio(path: str, index: int, size: float) -> np.ndarray:
    """Chunk `index` of a file as `iter_pooled` cuts it."""
    return _CHUNKS.get(path, index, size)


class _Joint(nn.Module):
    """The heads with, in `full` mode, the featurizer: one module, so DDP syncs both and one forward does all."""

    def __init__(self, model: EmoTraceModel, featurizer) -> None:
        super().__init__()
        self.model = model
        self.featurizer = featurizer
        if featurizer is not None:
            self.upstream = featurizer.module

    def forward(self, inputs: Inputs, idx: np.ndarray, device: str) -> torch.Tensor:
        if self.featurizer is not None:
            audio = pool_examples(self.featurizer, [inputs.examples[i] for i in idx])
        else:
            audio = torch.as_tensor(inputs.audio[idx], device=device) if inputs.audio is not None else None
        text = torch.as_tensor(inputs.text[idx], device=device) if inputs.text is not None else None
        present = torch.as_tensor(inputs.present[idx], device=device) if inputs.present is not None else None
        return self.model(audio, text, text_present=present)


def _batches(n: int, size: int, rng: np.random.Generator, shard: tuple[int, int] | None):
    order = rng.permutation(n)
    if shard is not None:  # DistributedSampler's idea: each rank a disjoint stride of the same permutation
        rank, world = shard
        order = order[: len(order) - len(order) % world][rank::world]  # equal steps on every rank
    for i in range(0, len(order), size):
        part = order[i: i + size]
        if len(part) >= 2:
            yield part


def param_groups(model: EmoTraceModel, featurizer, cfg: TrainConfig) -> list[dict]:
    """Heads at `lr`; layer logits at their own `layer_lr` without weight decay (decay would pull them back to
    uniform); the encoder, when fine-tuned, at `encoder_lr`."""
    groups = [{"params": [p for n, p in model.named_parameters() if p.requires_grad and n != "layer_logits"],
               "lr": cfg.lr, "weight_decay": cfg.weight_decay}]
    if model.layer_logits.requires_grad:
        groups.append({"params": [model.layer_logits], "lr": cfg.layer_lr, "weight_decay": 0.0})
    if featurizer is not None:
        groups.append({"params": [p for p in featurizer.module.parameters() if p.requires_grad],
                       "lr": cfg.encoder_lr, "weight_decay": cfg.weight_decay})
    return groups


def fit(model: EmoTraceModel, featurizer, sets: dict[str, Inputs], cfg: TrainConfig, device: str,
        on_event: EventFn, cancel: CancelFn | None) -> tuple[list[dict], tuple[dict, dict | None], int]:
    """The one training loop; returns the history, the best (heads, encoder) states on the dev split and the
    number of optimiser steps taken."""
    train_set = sets["train"]
    n = len(train_set.gold)
    dist = distributed()
    joint = _Joint(model, featurizer)
    net: nn.Module = joint
    shard = None
    if dist is not None:
        net = nn.parallel.DistributedDataParallel(joint, find_unused_parameters=True)
        shard = (dist.get_rank(), dist.get_world_size())
    opt = torch.optim.AdamW(param_groups(model, featurizer, cfg))
    steps_per_epoch = max(1, math.ceil(n / (shard[1] if shard else 1) / cfg.batch_size / cfg.grad_accum))
    total = steps_per_epoch * cfg.epochs
    warm = max(1, int(cfg.warmup_frac * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, total - warm))))
    gold = torch.as_tensor(train_set.gold, device=device)
    rng = np.random.default_rng(cfg.seed)
    best_score, best_state, stale, history, steps = -math.inf, None, 0, [], 0
    for epoch in range(cfg.epochs):
        model.train()
        if featurizer is not None:
            featurizer.train_mode(True)
        losses = []
        pending = False  # gradients accumulated but not stepped yet
        for k, idx in enumerate(_batches(n, cfg.batch_size, rng, shard)):
            check_cancel(cancel)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=str(device).startswith("cuda")):
                pred = net(train_set, idx, device)
            loss = ccc_loss(pred.float(), gold[torch.as_tensor(idx, device=device)]) / cfg.grad_accum
            loss.backward()
            losses.append(loss.item() * cfg.grad_accum)
            pending = True
            if (k + 1) % cfg.grad_accum == 0:
                opt.step()
                opt.zero_grad(set_to_none=True)
                sched.step()
                steps, pending = steps + 1, False
        if pending:  # an epoch shorter than --grad-accum batches still learns from what it accumulated
            opt.step()
            sched.step()
            steps += 1
        opt.zero_grad(set_to_none=True)
        dev = evaluate_inputs(model, featurizer, sets["dev"], device, cfg.batch_size)
        score = float(np.nanmean(list(dev.values())))
        record = {"type": "epoch", "epoch": epoch + 1, "epochs": cfg.epochs,
                  "loss": round(float(np.mean(losses)) if losses else float("nan"), 4), "dev_ccc": dev,
                  "dev_mean_ccc": round(score, 4)}
        history.append(record)
        on_event(record)
        if not math.isfinite(score):
            score = -math.inf  # a NaN development score never counts as the best epoch
        if best_state is None or score > best_score + 1e-4:
            best_score, stale = score, 0
            best_state = ({k: v.detach().clone() for k, v in model.state_dict().items()},
                          {k: v.detach().cpu().clone() for k, v in featurizer.module.state_dict().items()}
                          if featurizer is not None else None)
        else:
            stale += 1
            if stale >= cfg.patience:
                on_event({"type": "early_stop", "epoch": epoch + 1})
                break
    return history, best_state, steps


@torch.inference_mode()
def predict_inputs(model: EmoTraceModel, featurizer, inputs: Inputs, device: str = "cpu", batch_size: int = 256
                   ) -> np.ndarray:
    """`[N, 3]` predictions on a split; in `full` mode the featurizer pools the audio batch by batch."""
    model.eval()
    if featurizer is None:
        return predict_arrays(model, inputs.audio, inputs.text, inputs.present, device)
    featurizer.train_mode(False)
    joint = _Joint(model, featurizer)
    return np.concatenate([joint(inputs, np.arange(i, min(i + batch_size, len(inputs.gold))), device)
                           .float().cpu().numpy() for i in range(0, len(inputs.gold), batch_size)])


def evaluate_inputs(model: EmoTraceModel, featurizer, inputs: Inputs, device: str = "cpu", batch_size: int = 256
                    ) -> dict:
    """CCC per dimension on a split."""
    return ccc_per_dimension(predict_inputs(model, featurizer, inputs, device, batch_size), inputs.gold)


@torch.inference_mode()
def predict_arrays(model: EmoTraceModel, audio, text, present, device: str = "cpu") -> np.ndarray:
    model.eval()
    a = torch.as_tensor(audio, device=device) if audio is not None else None
    t = torch.as_tensor(text, device=device) if text is not None else None
    p = torch.as_tensor(present, device=device) if present is not None else None
    return model(a, t, text_present=p).float().cpu().numpy()


def evaluate_arrays(model: EmoTraceModel, audio, text, present, gold, device: str = "cpu") -> dict:
    return ccc_per_dimension(predict_arrays(model, audio, text, present, device), np.asarray(gold))


__all__ = ["TEST", "Inputs", "TrainConfig", "TrainResult", "evaluate_arrays", "evaluate_inputs", "pool_examples",
           "predict_arrays", "train"]
