"""Encoders + trained heads, loaded once: features for spans of files, and predictions from features."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from emotrace.core.ser.config import CONFIG_NAME, EmoTraceConfig, ModelFolderError
from emotrace.core.ser.encoders import TextEncoder, load_audio_encoder
from emotrace.core.ser.hub import WHISPER_PREFIX
from emotrace.core.ser.modeling import EmoTraceModel
from emotrace.core.ser.trust import TrustModel

log = logging.getLogger(__name__)


def pick_device(device: str = "auto") -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def offline_notice(audio_backbone: str) -> str:
    if audio_backbone.startswith(WHISPER_PREFIX):
        return (f"Using the offline audio backbone {audio_backbone} (the packaged Whisper encoder in PyTorch, every "
                f"layer): no speech SSL weights (DistilHuBERT/HuBERT) are available on this machine.")
    return ""


@dataclass
class Predictions:
    fused: np.ndarray  # [N, 3]
    audio_only: np.ndarray | None
    text_only: np.ndarray | None
    uncertainty: np.ndarray | None = None  # [N]: MC-dropout std, mean over A/V/D
    trust: np.ndarray | None = None  # [N]: distance from the training data over its 95% radius (> 1: outside)


class Encoders:
    """The frozen audio and text encoders a config names (text only loaded when the model reads text)."""

    def __init__(self, config: EmoTraceConfig, device: str = "auto") -> None:
        self.device = pick_device(device)
        self.audio = (load_audio_encoder(config.audio_backbone, self.device, config.audio_layer_ids)
                      if config.uses_audio else None)
        self.text = TextEncoder(config.text_backbone, self.device) if config.uses_text else None
        self.notice = offline_notice(config.audio_backbone)


def check_fit(config: EmoTraceConfig, encoders: Encoders, where: Path) -> None:
    """The config's feature sizes are what its encoders give: a config that does not fit its backbone loaded
    every encoder and then died with an internal error inside the first batch (after 3.3 GB)."""
    if encoders.audio is not None and (encoders.audio.num_layers, encoders.audio.dim) != (config.audio_layers,
                                                                                        config.audio_dim):
        raise ModelFolderError(
            f"{where}: audio_layers {config.audio_layers} x audio_dim {config.audio_dim} do not fit its backbone "
            f"{config.audio_backbone}, which gives {encoders.audio.num_layers} layers x {encoders.audio.dim}")
    if encoders.text is not None and encoders.text.dim != config.text_dim:
        raise ModelFolderError(f"{where}: text_dim {config.text_dim} does not fit its text backbone "
                               f"{config.text_backbone}, which gives {encoders.text.dim}")


class SERPipeline:
    def __init__(self, model_folder: str, device: str = "auto", encoders: Encoders | None = None) -> None:
        self.device = pick_device(device)
        self.model = EmoTraceModel.from_pretrained(model_folder).to(self.device).eval()
        self.config = self.model.config
        self.trust = TrustModel.load(model_folder) if self.config.uses_audio else None
        self.encoders = encoders or Encoders(self.config, self.device)
        check_fit(self.config, self.encoders, Path(model_folder) / CONFIG_NAME)

    @torch.inference_mode()
    def mc_dropout_std(self, a, t, tp, passes: int = 8) -> np.ndarray:
        """Spread of the heads' outputs with their dropout on (modality dropout stays off): cheap on pooled
        features, and a real uncertainty where no second modality exists to disagree with."""
        dropouts = [m for m in self.model.modules() if isinstance(m, torch.nn.Dropout)]
        for m in dropouts:
            m.train()
        try:
            runs = self.model(a, t, text_present=tp, repeats=passes).float().view(passes, -1, 3)
        finally:
            for m in dropouts:
                m.eval()
        return runs.std(0).mean(-1).cpu().numpy()

    @torch.inference_mode()
    def predict(self, audio: np.ndarray | None, text: np.ndarray | None, text_present: np.ndarray | None,
                batch_size: int = 512) -> Predictions:
        """Fused predictions, plus audio-only and text-only ones from the same model when it reads both."""
        n = len(audio) if audio is not None else len(text)
        fused, a_only, t_only, spread, trust = [], [], [], [], []
        both = self.config.modalities == "both" and audio is not None and text is not None
        for i in range(0, n, batch_size):
            a = torch.as_tensor(audio[i: i + batch_size], device=self.device) if audio is not None else None
            t = torch.as_tensor(text[i: i + batch_size], device=self.device) if text is not None else None
            tp = (torch.as_tensor(text_present[i: i + batch_size], device=self.device)
                  if text_present is not None else None)
            fused.append(self.model(a, t, text_present=tp).float().cpu().numpy())
            spread.append(self.mc_dropout_std(a, t, tp))
            if self.trust is not None and a is not None:
                trust.append(self.trust.score(self.model.audio_view(a).float().cpu().numpy()))
            if both:
                zeros = torch.zeros_like(tp) if tp is not None else torch.zeros(len(a), device=self.device)
                a_only.append(self.model(a, t, text_present=zeros).float().cpu().numpy())
                t_only.append(self.model(a, t, audio_present=torch.zeros(len(a), device=self.device),
                                         text_present=tp).float().cpu().numpy())
        return Predictions(np.concatenate(fused), np.concatenate(a_only) if a_only else None,
                           np.concatenate(t_only) if t_only else None, np.concatenate(spread),
                           np.concatenate(trust) if trust else None)
