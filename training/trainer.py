"""Train the SER heads (and optionally layer weights or encoders) from the store's labels.

Modes: `heads` (encoders frozen, pooled features cached on disk; layer weights fixed uniform), `layers` (heads
+ per-dimension layer weights, same cache), `full` (fine-tune the HF encoder too; a GPU job). AdamW, warm-up
then cosine decay, gradient accumulation, early stopping on the development split's mean CCC, fixed seeds.
Only a complete run registers a model version; a failed or cancelled one leaves the registry as it was.
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
    activate: bool = True
    name: str = "emotrace"
    eval_split: str = DEV

    def __post_init__(self) -> None:
        if self.mode not in ("heads", "layers", "full"):
            raise ValueError(f"mode must be heads, layers or full, not {self.mode!r}")


@dataclass
class TrainResult:
    model_version_id: int
    metrics: dict
    parent_metrics: dict | None
    seconds: float
    history: list[dict]


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
        sets[name] = (audio, text, present, labels_array(exs))
    model = EmoTraceModel(config)
    model.set_feature_stats(sets["train"][0], sets["train"][1], sets["train"][2])
    model.layer_logits.requires_grad_(cfg.mode == "layers")
    model.to(device)
    history, best = fit_heads(model, sets, cfg, device, on_event, cancel)
    model.load_state_dict(best)
    metrics = {"split": dev_ex[0].split, "n": len(dev_ex),
               "ccc": evaluate_arrays(model, *sets["dev"], device),
               "layer_weights": model.layer_weights().round(4).tolist()}
    parent_metrics = None
    if parent is not None:
        parent_metrics = _parent_metrics(parent, sets["dev"], config, device)
    if dist is not None and rank != 0:
        return TrainResult(-1, metrics, parent_metrics, time.perf_counter() - t_start, history)
    version = _save_and_register(store, cfg, model, parent, metrics, parent_metrics, train_ex, dev_ex, examples)
    seconds = time.perf_counter() - t_start
    on_event({"type": "done", "model_version_id": version.id, "metrics": metrics, "parent_metrics": parent_metrics,
              "seconds": round(seconds, 2)})
    return TrainResult(version.id, metrics, parent_metrics, seconds, history)


def _save_and_register(store, cfg, model, parent, metrics, parent_metrics, train_ex, dev_ex, examples):
    folder = new_model_folder(cfg.name)
    partial = folder.with_name(folder.name + ".partial")
    try:
        model.cpu().save_pretrained(partial)
        partial.rename(folder)
        counts = {"train": len(train_ex), "dev": len(dev_ex), "labelled": len(examples),
                  "test": sum(e.split.startswith("Test") for e in examples)}
        return register(store, name=cfg.name, folder=folder, parent_id=parent.id if parent else None,
                        metrics={**metrics, "parent": parent_metrics, "mode": cfg.mode},
                        config={**model.config.to_dict(), "train": asdict(cfg)}, data_counts=counts,
                        activate=cfg.activate)
    except BaseException:
        discard_folder(partial)
        discard_folder(folder)
        raise


def _parent_metrics(parent, dev_set, config, device) -> dict | None:
    """The parent on the same split, side by side; only comparable when it reads the same features."""
    try:
        old = EmoTraceModel.from_pretrained(parent.folder).to(device)
    except (OSError, ValueError):
        return None
    same = (old.config.audio_backbone, old.config.text_backbone, old.config.audio_layers, old.config.audio_dim) == (
        config.audio_backbone, config.text_backbone, config.audio_layers, config.audio_dim)
    if not same:
        return None
    return {"model_version_id": parent.id, "ccc": evaluate_arrays(old, *dev_set, device)}


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
              cancel: CancelFn | None) -> tuple[list[dict], dict]:
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
    best_score, best_state, stale, history = -math.inf, None, 0, []
    for epoch in range(cfg.epochs):
        model.train()
        losses = []
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
            if (k + 1) % cfg.grad_accum == 0:
                opt.step()
                opt.zero_grad(set_to_none=True)
                sched.step()
        opt.zero_grad(set_to_none=True)
        dev = evaluate_arrays(model, *sets["dev"], device)
        score = float(np.nanmean(list(dev.values())))
        record = {"type": "epoch", "epoch": epoch + 1, "epochs": cfg.epochs,
                  "loss": round(float(np.mean(losses)) if losses else float("nan"), 4), "dev_ccc": dev,
                  "dev_mean_ccc": round(score, 4)}
        history.append(record)
        on_event(record)
        if best_state is None or score > best_score + 1e-4:
            best_score, stale = score, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= cfg.patience:
                on_event({"type": "early_stop", "epoch": epoch + 1})
                break
    return history, best_state


@torch.inference_mode()
def evaluate_arrays(model: EmoTraceModel, audio, text, present, gold, device: str = "cpu") -> dict:
    model.eval()
    a = torch.as_tensor(audio, device=device) if audio is not None else None
    t = torch.as_tensor(text, device=device) if text is not None else None
    p = torch.as_tensor(present, device=device) if present is not None else None
    pred = model(a, t, text_present=p).float().cpu().numpy()
    return ccc_per_dimension(pred, np.asarray(gold))


__all__ = ["TEST", "TrainConfig", "TrainResult", "evaluate_arrays", "train"]
