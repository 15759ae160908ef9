"""`full` mode: fine-tune the Hugging Face speech encoder together with the heads (bf16 autocast on a GPU).

Per-layer mean+std pooling over valid frames is done in torch here, so the same heads and layer weights
train end to end; the encoder is saved with the model (HF save_pretrained) and the config points to it.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from core.audio import AudioSource
from core.errors import UserFacingError
from core.metrics import ccc_loss, ccc_per_dimension
from core.progress import check_cancel
from core.ser.modeling import EmoTraceModel
from training.data import labels_array
from training.features import text_features
from training.gate import decide
from training.registry import discard_folder, new_model_folder, register


def freeze_cnn(encoder) -> None:
    """The convolutional feature encoder stays frozen when fine-tuning (as the SUPERB/paper recipes do)."""
    cnn = getattr(encoder, "feature_extractor", None)
    if cnn is not None and hasattr(cnn, "_freeze_parameters"):
        cnn._freeze_parameters()
    elif hasattr(encoder, "freeze_feature_encoder"):
        encoder.freeze_feature_encoder()


def _pooled_layers(encoder, wav: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    out = encoder(wav, output_hidden_states=True)
    hidden = torch.stack(out.hidden_states, dim=1)  # [B, L, T, D]
    frames = encoder._get_feat_extract_output_lengths(lengths).clamp(min=1, max=hidden.shape[2])
    mask = (torch.arange(hidden.shape[2], device=wav.device)[None] < frames[:, None]).float()[:, None, :, None]
    count = mask.sum(2)
    mean = (hidden * mask).sum(2) / count
    var = ((hidden - mean[:, :, None]) ** 2 * mask).sum(2) / count
    return torch.cat([mean, var.clamp(min=0).sqrt()], dim=-1)  # [B, L, 2D]


def finetune(store, cfg, config, encoders, train_ex, dev_ex, parent, on_event, cancel, t_start):
    if encoders.audio is None or not hasattr(encoders.audio, "model"):
        raise UserFacingError("full fine-tuning needs a Hugging Face audio encoder")
    device = encoders.device
    encoder = encoders.audio.model
    encoder.train()
    freeze_cnn(encoder)
    model = EmoTraceModel(config).to(device)
    model.layer_logits.requires_grad_(True)
    use_text = config.uses_text and encoders.text is not None
    text_tr = text_features(encoders.text, train_ex) if use_text else (None, None)
    text_dev = text_features(encoders.text, dev_ex) if use_text else (None, None)
    model.set_feature_stats(None, text_tr[0], text_tr[1])
    opt = torch.optim.AdamW([
        {"params": [p for p in encoder.parameters() if p.requires_grad], "lr": cfg.encoder_lr},
        {"params": model.parameters(), "lr": cfg.lr},
    ], weight_decay=cfg.weight_decay)
    gold_tr, gold_dev = labels_array(train_ex), labels_array(dev_ex)
    wavs_tr = [AudioSource(e.path).read(e.start, e.end) for e in train_ex]
    wavs_dev = [AudioSource(e.path).read(e.start, e.end) for e in dev_ex]
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if str(device).startswith("cuda")
                else torch.autocast("cpu", enabled=False))

    def forward(wavs, idx, text, present, train: bool):
        lens = torch.tensor([len(wavs[i]) for i in idx])
        batch = torch.zeros(len(idx), int(lens.max()))
        for k, i in enumerate(idx):
            batch[k, : len(wavs[i])] = torch.from_numpy(wavs[i])
        with autocast, torch.set_grad_enabled(train):
            pooled = _pooled_layers(encoder, batch.to(device), lens.to(device)).float()
            t = torch.as_tensor(text[idx], device=device) if text is not None else None
            p = torch.as_tensor(present[idx], device=device) if present is not None else None
            return model(pooled, t, text_present=p)

    rng = np.random.default_rng(cfg.seed)
    best, best_state, history, steps = -np.inf, None, [], 0
    for epoch in range(cfg.epochs):
        model.train()
        encoder.train()
        losses = []
        pending = False
        order = rng.permutation(len(train_ex))
        for k in range(0, len(order), cfg.batch_size):
            check_cancel(cancel)
            idx = order[k: k + cfg.batch_size]
            if len(idx) < 2:
                continue
            loss = ccc_loss(forward(wavs_tr, idx, *text_tr, True), torch.as_tensor(gold_tr[idx], device=device))
            (loss / cfg.grad_accum).backward()
            pending = True
            if (k // cfg.batch_size + 1) % cfg.grad_accum == 0:
                opt.step()
                opt.zero_grad(set_to_none=True)
                steps, pending = steps + 1, False
            losses.append(loss.item())
        if pending:  # an epoch shorter than --grad-accum batches still learns from what it accumulated
            opt.step()
            opt.zero_grad(set_to_none=True)
            steps += 1
        model.eval()
        encoder.eval()
        preds = np.concatenate([forward(wavs_dev, np.arange(len(dev_ex))[k: k + cfg.batch_size], *text_dev, False)
                                .float().detach().cpu().numpy() for k in range(0, len(dev_ex), cfg.batch_size)])
        dev = ccc_per_dimension(preds, gold_dev)
        score = float(np.nanmean(list(dev.values())))
        record = {"type": "epoch", "epoch": epoch + 1, "epochs": cfg.epochs, "loss": round(float(np.mean(losses)), 4),
                  "dev_ccc": dev, "dev_mean_ccc": round(score, 4)}
        history.append(record)
        on_event(record)
        if not np.isfinite(score):
            score = -np.inf  # a NaN development score never counts as the best epoch
        if best_state is None or score > best:
            best = score
            best_state = ({k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
                          {k: v.detach().cpu().clone() for k, v in encoder.state_dict().items()})
    model.load_state_dict(best_state[0])
    encoder.load_state_dict(best_state[1])
    model.eval()
    encoder.eval()
    preds = np.concatenate([forward(wavs_dev, np.arange(len(dev_ex))[k: k + cfg.batch_size], *text_dev, False)
                            .float().detach().cpu().numpy() for k in range(0, len(dev_ex), cfg.batch_size)])
    if steps == 0:
        raise UserFacingError(f"training took no optimiser step ({len(train_ex)} training segments, batch size "
                              f"{cfg.batch_size}); nothing was registered")
    if not np.isfinite(preds).all():
        raise UserFacingError("training produced a model with non-finite development outputs; nothing was "
                              "registered and the active model is unchanged")
    dev_ccc = ccc_per_dimension(preds, gold_dev)
    verdict = decide(cfg.activate, dev_ccc, len(dev_ex), parent.id if parent else None, None,
                     "full fine-tuning scores a new encoder; the active model was not scored on these examples"
                     if parent else None)
    folder = new_model_folder(store, cfg.name)  # created empty and ours alone: a cleanup removes only it
    metrics = {"split": dev_ex[0].split, "n": len(dev_ex), "ccc": dev_ccc, "mode": "full", "optimizer_steps": steps,
               "layer_weights": model.layer_weights().round(4).tolist(), "activation": verdict.to_dict()}
    try:
        encoder.save_pretrained(folder / "audio_encoder")
        model.config.audio_backbone = str(folder / "audio_encoder")
        model.cpu().save_pretrained(folder)
        version = register(store, name=cfg.name, folder=folder, parent_id=parent.id if parent else None,
                           metrics=metrics, config=model.config.to_dict(),
                           data_counts={"train": len(train_ex), "dev": len(dev_ex)}, activate=verdict.activate)
    except BaseException:
        discard_folder(folder)
        raise
    seconds = time.perf_counter() - t_start
    on_event({"type": "done", "model_version_id": version.id, "metrics": metrics, "activation": verdict.to_dict(),
              "seconds": round(seconds, 2)})
    from training.trainer import TrainResult

    return TrainResult(version.id, metrics, None, seconds, history, verdict.to_dict())
