"""Train the SER heads (and optionally layer weights or encoders) from the store's labels.

Modes: `heads` (encoders frozen, pooled features cached on disk; layer weights fixed uniform), `layers` (heads
+ per-dimension layer weights, same cache), `full` (fine-tune the HF encoder too; a GPU job). AdamW, warm-up
then cosine decay, gradient accumulation, early stopping on the development split's mean CCC, fixed seeds.
Only a complete run registers a model version; a failed or cancelled one leaves the registry as it was. A run
that took no optimiser step or whose model gives non-finite outputs registers nothing, and a valid new model
replaces the active one only as `training.gate` decides (under `auto`: not worse on the same development data).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from core.errors import UserFacingError
from core.metrics import ccc_loss, ccc_per_dimension
from core.progress import CancelFn, check_cancel
from core.ser.config import EmoTraceConfig
from core.ser.encoders import DEFAULT_TEXT, OFFLINE_AUDIO, WHISPER_PREFIX
from core.ser.modeling import EmoTraceModel
from core.ser.pipeline import Encoders, offline_notice, pick_device
from core.store import Store
from training.data import DEV, TEST, TRAIN, Example, check_speaker_disjoint, labels_array, load_examples
from training.features import audio_features, text_features
from training.gate import ACTIVATE_MODES, Verdict, decide
from training.registry import discard_folder, new_model_folder, register

EventFn = Callable[[dict], None]


@dataclass
class TrainConfig:
    corpus: str
    mode: str = "heads"  # heads | layers | full
    audio_backbone: str | None = None  # None: the parent's, else the offline backbone
    text_backbone: str = DEFAULT_TEXT
    modalities: str = "both"
    epochs: int = 80
    batch_size: int = 64
    grad_accum: int = 1
    lr: float = 2e-3
    encoder_lr: float = 2e-5
    weight_decay: float = 1e-2
    warmup_frac: float = 0.1
    patience: int = 15
    hidden_size: int = 256
    dropout: float = 0.2
    seed: int = 0
    device: str = "auto"
    annotator: str | None = None
    include_accepted: bool = False  # train on accepted model predictions too (they are not human judgements)
    targets: str = "labels"  # labels | traces | both (trace means over segments)
    activate: str = "auto"  # auto | always | never (see training.gate); True/False mean auto/never
    name: str = "emotrace"
    eval_split: str = DEV

    def __post_init__(self) -> None:
        if self.mode not in ("heads", "layers", "full"):
            raise ValueError(f"mode must be heads, layers or full, not {self.mode!r}")
        if isinstance(self.activate, bool):
            self.activate = "auto" if self.activate else "never"
        if self.activate not in ACTIVATE_MODES:
            raise UserFacingError(f"activate must be one of {', '.join(ACTIVATE_MODES)}, not {self.activate!r}")
        # a batch of one has no CCC, so `_batches` skips it: --batch-size 1 used to train nothing at all
        for name, low in (("epochs", 1), ("batch_size", 2), ("grad_accum", 1), ("patience", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise UserFacingError(f"{name.replace('_', '-')} must be a whole number of at least {low}, "
                                      f"not {value!r}")
        for name in ("lr", "encoder_lr"):
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


def _dist():
    import torch.distributed as dist

    return dist if dist.is_available() and dist.is_initialized() else None


def prepare_features(config: EmoTraceConfig, encoders: Encoders, examples: list[Example], on_event: EventFn,
                     cancel: CancelFn | None):
    """Audio features (from the cache; rank 0 fills it under torchrun) and text features."""
    audio = None
    if config.uses_audio:
        dist = _dist()
        if dist is None or dist.get_rank() == 0:
            audio = audio_features(encoders.audio, examples, cancel=cancel,
                                   progress=lambda d, t, m: on_event({"type": "features", "done": d, "total": t}))
        if dist is not None:
            dist.barrier()
            if dist.get_rank() != 0:
                audio = audio_features(encoders.audio, examples, cancel=cancel)
    text = present = None
    if config.uses_text:
        text, present = text_features(encoders.text, examples)
    return audio, text, present


def train(store: Store, cfg: TrainConfig, on_event: EventFn = lambda e: None, cancel: CancelFn | None = None
          ) -> TrainResult:
    t_start = time.perf_counter()
    seed_everything(cfg.seed)
    dist = _dist()
    rank = dist.get_rank() if dist else 0
    device = pick_device(cfg.device) if not dist else "cpu" if not torch.cuda.is_available() else f"cuda:{rank}"
    parent = store.active_model()
    # the backbone asked for, else the active model's (a retrain keeps its features), else the offline one
    parent_backbone = (parent.config or {}).get("audio_backbone") if parent is not None else None
    backbone = cfg.audio_backbone or parent_backbone or OFFLINE_AUDIO
    if cfg.mode == "full" and backbone.startswith(WHISPER_PREFIX):
        raise UserFacingError("--mode full fine-tunes a Hugging Face speech encoder; the offline Whisper "
                              "(CTranslate2) backbone is frozen. Use --mode heads or layers, or a DistilHuBERT folder.")
    if cfg.targets != "labels":  # bring the trace means up to date with the newest passes
        for f in store.files(store.corpus(cfg.corpus).id):
            if store.traced(f.id):
                store.trace_labels(f.id)
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

    probe_cfg = EmoTraceConfig(audio_backbone=backbone, text_backbone=cfg.text_backbone, modalities=cfg.modalities)
    encoders = Encoders(probe_cfg, device)
    config = EmoTraceConfig(
        audio_backbone=backbone, text_backbone=cfg.text_backbone, modalities=cfg.modalities,
        audio_layers=encoders.audio.num_layers if encoders.audio else 1,
        audio_dim=encoders.audio.dim if encoders.audio else 1,
        text_dim=encoders.text.dim if encoders.text else 1, hidden_size=cfg.hidden_size, dropout=cfg.dropout,
    )
    if config.modalities == "both" and not any(e.text for e in train_ex):
        config.modalities = "audio"  # a text branch never trained on words would only add noise
        on_event({"type": "notice", "message": "no training segment has words (transcribe the corpus to use the "
                                               "text branch): training an audio-only model"})
    if cfg.mode == "full":
        from training.finetune import finetune

        return finetune(store, cfg, config, encoders, train_ex, dev_ex, parent, on_event, cancel, t_start)

    sets = {}
    for name, exs in (("train", train_ex), ("dev", dev_ex)):
        check_cancel(cancel)
        audio, text, present = prepare_features(config, encoders, exs, on_event, cancel)
        audio, text, present, exs = drop_non_finite(audio, text, present, exs, name, on_event)
        sets[name] = (audio, text, present, labels_array(exs))
        if name == "train":
            train_ex = exs
        else:
            dev_ex = exs
    if len(train_ex) < 4 or len(dev_ex) < 2:
        raise UserFacingError(f"not enough usable segments to train: {len(train_ex)} in {TRAIN}, {len(dev_ex)} in "
                              f"{cfg.eval_split} once segments with non-finite audio were left out")
    model = EmoTraceModel(config)
    model.set_feature_stats(sets["train"][0], sets["train"][1], sets["train"][2])
    model.layer_logits.requires_grad_(cfg.mode == "layers")
    model.to(device)
    history, best, steps = fit_heads(model, sets, cfg, device, on_event, cancel)
    model.load_state_dict(best)
    dev_ccc = check_trained(model, sets["dev"], steps, cfg, len(train_ex), device)
    metrics = {"split": dev_ex[0].split, "n": len(dev_ex), "ccc": dev_ccc, "optimizer_steps": steps,
               "layer_weights": model.layer_weights().round(4).tolist()}
    parent_metrics, problem = (None, None) if parent is None else _parent_metrics(parent, sets["dev"], config, device)
    verdict = decide(cfg.activate, dev_ccc, len(dev_ex), parent.id if parent else None,
                     (parent_metrics or {}).get("ccc"), problem)
    if dist is not None and rank != 0:
        return TrainResult(-1, metrics, parent_metrics, time.perf_counter() - t_start, history, verdict.to_dict())
    version = _save_and_register(store, cfg, model, parent, metrics, parent_metrics, verdict, train_ex, dev_ex,
                                 examples)
    seconds = time.perf_counter() - t_start
    on_event({"type": "done", "model_version_id": version.id, "metrics": metrics, "parent_metrics": parent_metrics,
              "activation": verdict.to_dict(), "seconds": round(seconds, 2)})
    return TrainResult(version.id, metrics, parent_metrics, seconds, history, verdict.to_dict())


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


def check_trained(model: EmoTraceModel, dev_set, steps: int, cfg: TrainConfig, n_train: int, device: str) -> dict:
    """The development CCC of a model fit to be registered; a run that took no optimiser step, or whose weights
    or development outputs are not finite, is refused (nothing is registered, the active model stays)."""
    if steps == 0:
        raise UserFacingError(f"training took no optimiser step ({n_train} training segments, batch size "
                              f"{cfg.batch_size}, gradient accumulation {cfg.grad_accum}); nothing was registered")
    bad = [k for k, v in model.state_dict().items() if v.is_floating_point() and not torch.isfinite(v).all()]
    pred = predict_arrays(model, *dev_set[:3], device)
    if bad or not np.isfinite(pred).all():
        raise UserFacingError("training produced a model with non-finite " + (f"weights ({bad[0]})" if bad else
                              "development outputs") + "; nothing was registered and the active model is unchanged")
    return ccc_per_dimension(pred, np.asarray(dev_set[3]))


def _save_and_register(store, cfg, model, parent, metrics, parent_metrics, verdict: Verdict, train_ex, dev_ex,
                       examples):
    folder = new_model_folder(store, cfg.name)  # created empty and ours alone: a cleanup removes only it
    try:
        model.cpu().save_pretrained(folder)
        counts = {"train": len(train_ex), "dev": len(dev_ex), "labelled": len(examples),
                  "test": sum(e.split.startswith("Test") for e in examples)}
        return register(store, name=cfg.name, folder=folder, parent_id=parent.id if parent else None,
                        metrics={**metrics, "parent": parent_metrics, "mode": cfg.mode,
                                 "activation": verdict.to_dict()},
                        config={**model.config.to_dict(), "train": asdict(cfg)}, data_counts=counts,
                        activate=verdict.activate)
    except BaseException:
        discard_folder(folder)
        raise


def _parent_metrics(parent, dev_set, config, device) -> tuple[dict | None, str | None]:
    """The parent on the same development examples, or None and why it cannot be compared (another backbone or
    feature size, or a folder that does not load: a broken parent never stops a retrain)."""
    from core.ser.folder_check import ModelFolderError

    try:
        old = EmoTraceModel.from_pretrained(parent.folder).to(device)
    except (OSError, ValueError, ModelFolderError) as exc:
        return None, f"its folder does not load: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    same = (old.config.audio_backbone, old.config.text_backbone, old.config.audio_layers, old.config.audio_dim) == (
        config.audio_backbone, config.text_backbone, config.audio_layers, config.audio_dim)
    if not same:
        return None, f"it reads other features ({old.config.audio_backbone} + {old.config.text_backbone})"
    if old.config.modalities != config.modalities:
        return None, f"it reads other modalities ({old.config.modalities}, the new model {config.modalities})"
    pred = predict_arrays(old, *dev_set[:3], device)
    if not np.isfinite(pred).all():
        return None, "its development outputs are not finite"
    return {"model_version_id": parent.id, "ccc": ccc_per_dimension(pred, np.asarray(dev_set[3]))}, None


def _batches(n: int, size: int, rng: np.random.Generator, shard: tuple[int, int] | None):
    order = rng.permutation(n)
    if shard is not None:  # DistributedSampler's idea: each rank a disjoint stride of the same permutation
        rank, world = shard
        order = order[: len(order) - len(order) % world][rank::world]  # equal steps on every rank
    for i in range(0, len(order), size):
        part = order[i: i + size]
        if len(part) >= 2:
            yield part


def fit_heads(model: EmoTraceModel, sets: dict, cfg: TrainConfig, device: str, on_event: EventFn,
              cancel: CancelFn | None) -> tuple[list[dict], dict, int]:
    """Returns the history, the best state on the development split and the number of optimiser steps taken."""
    audio, text, present, gold = sets["train"]
    n = len(gold)
    dist = _dist()
    net: nn.Module = model
    shard = None
    if dist is not None:
        net = nn.parallel.DistributedDataParallel(model, find_unused_parameters=True)
        shard = (dist.get_rank(), dist.get_world_size())
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = max(1, math.ceil(n / (shard[1] if shard else 1) / cfg.batch_size / cfg.grad_accum))
    total = steps_per_epoch * cfg.epochs
    warm = max(1, int(cfg.warmup_frac * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, total - warm))))
    t = {k: (torch.as_tensor(v, device=device) if v is not None else None)
         for k, v in zip(("audio", "text", "present", "gold"), (audio, text, present, gold))}
    rng = np.random.default_rng(cfg.seed)
    best_score, best_state, stale, history, steps = -math.inf, None, 0, [], 0
    for epoch in range(cfg.epochs):
        model.train()
        losses = []
        pending = False  # gradients accumulated but not stepped yet
        for k, idx in enumerate(_batches(n, cfg.batch_size, rng, shard)):
            check_cancel(cancel)
            idx_t = torch.as_tensor(idx, device=device)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=str(device).startswith("cuda")):
                pred = net(t["audio"][idx_t] if t["audio"] is not None else None,
                           t["text"][idx_t] if t["text"] is not None else None,
                           text_present=t["present"][idx_t] if t["present"] is not None else None)
            loss = ccc_loss(pred.float(), t["gold"][idx_t]) / cfg.grad_accum
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
        dev = evaluate_arrays(model, *sets["dev"], device)
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
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= cfg.patience:
                on_event({"type": "early_stop", "epoch": epoch + 1})
                break
    return history, best_state, steps


@torch.inference_mode()
def predict_arrays(model: EmoTraceModel, audio, text, present, device: str = "cpu") -> np.ndarray:
    model.eval()
    a = torch.as_tensor(audio, device=device) if audio is not None else None
    t = torch.as_tensor(text, device=device) if text is not None else None
    p = torch.as_tensor(present, device=device) if present is not None else None
    return model(a, t, text_present=p).float().cpu().numpy()


def evaluate_arrays(model: EmoTraceModel, audio, text, present, gold, device: str = "cpu") -> dict:
    return ccc_per_dimension(predict_arrays(model, audio, text, present, device), np.asarray(gold))


__all__ = ["TEST", "TrainConfig", "TrainResult", "evaluate_arrays", "train"]
