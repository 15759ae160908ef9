"""Whisper ASR on PyTorch: a GPU path that does not need CTranslate2's CUDA 12 (an H200 image with CUDA 13 only).

The packaged CTranslate2 models (tiny.en, base) are converted once into transformers'
`WhisperForConditionalGeneration` (the encoder by `core.ser.whisper_torch`, the decoder here: CTranslate2 fuses
self-attention's q/k/v and cross-attention's k/v, and ties the output projection to the token embeddings), and
cached as safetensors beside the encoder cache. `openai/whisper-*` ids and folders load as they are. Words and
their times come from transformers' own ASR pipeline (cross-attention alignment heads, as CTranslate2 and
openai-whisper do it), 30 s chunks with a stride, and go to the store through the same `Transcriber` interface
as faster-whisper's, so `transcribe_file` writes them identically.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from emotrace.core.errors import ModelNotAvailable
from emotrace.core.speech.asr import (
    DEFAULT_ASR_MODEL,
    DEFAULT_BATCH_SIZE,
    DEFAULT_BEAM_SIZE,
    AsrSegment,
    AsrWord,
    Transcriber,
    cuda_usable,
)
from emotrace.core.speech.whisper_ct2 import (
    converted_cache_folder,
    ct2_encoder_state,
    read_ct2_variables,
    self_attention_and_ffn,
    split_fused,
)
from emotrace.core.speech.whisper_models import resolve_whisper_model

CONVERTED_FORMAT = 1


def ct2_whisper_state(ct2_dir: str | Path):
    """`(WhisperConfig, state_dict)` of `WhisperForConditionalGeneration` from a CTranslate2 Whisper folder."""
    model_bin = Path(ct2_dir) / "model.bin"
    config, encoder = ct2_encoder_state(read_ct2_variables(model_bin, "encoder/"))
    dec = read_ct2_variables(model_bin, "decoder/")

    def t(name: str) -> torch.Tensor:
        return torch.from_numpy(dec[f"decoder/{name}"].astype(np.float32))

    d = config.d_model
    layers = 1 + max(int(k.split("/")[1][6:]) for k in dec if k.split("/")[1].startswith("layer_")
                     and k.split("/")[1][6:].isdigit())
    vocab, positions = dec["decoder/embeddings/weight"].shape[0], dec["decoder/position_encodings/encodings"].shape[0]
    config.vocab_size, config.max_target_positions, config.decoder_layers = int(vocab), int(positions), layers
    config.decoder_ffn_dim = int(dec["decoder/layer_0/ffn/linear_0/weight"].shape[0])
    state = {f"model.encoder.{k}": v for k, v in encoder.items()}
    state.update({"model.decoder.embed_tokens.weight": t("embeddings/weight"),
                  "model.decoder.embed_positions.weight": t("position_encodings/encodings"),
                  "model.decoder.layer_norm.weight": t("layer_norm/gamma"),
                  "model.decoder.layer_norm.bias": t("layer_norm/beta"),
                  "proj_out.weight": t("embeddings/weight")})
    for i in range(layers):
        p, q = f"layer_{i}/", f"model.decoder.layers.{i}."
        split_fused(state, f"{q}self_attn.", ("q_proj", "k_proj", "v_proj"), t(p + "self_attention/linear_0/weight"),
                    t(p + "self_attention/linear_0/bias"), d)
        split_fused(state, f"{q}encoder_attn.", ("k_proj", "v_proj"), t(p + "attention/linear_1/weight"),
                    t(p + "attention/linear_1/bias"), d)
        state.update(self_attention_and_ffn(t, p, q))
        state.update({
            f"{q}encoder_attn.q_proj.weight": t(p + "attention/linear_0/weight"),
            f"{q}encoder_attn.q_proj.bias": t(p + "attention/linear_0/bias"),
            f"{q}encoder_attn.out_proj.weight": t(p + "attention/linear_2/weight"),
            f"{q}encoder_attn.out_proj.bias": t(p + "attention/linear_2/bias"),
            f"{q}encoder_attn_layer_norm.weight": t(p + "attention/layer_norm/gamma"),
            f"{q}encoder_attn_layer_norm.bias": t(p + "attention/layer_norm/beta"),
        })
    return config, state


def _generation_config(ct2_dir: Path, tokenizer, config):
    """Whisper's generation settings from CTranslate2's config.json and the tokenizer's special tokens."""
    # lazy: transformers takes seconds to import; only building or loading a model needs it
    from transformers import GenerationConfig

    ct2 = json.loads((ct2_dir / "config.json").read_text())
    tid = tokenizer.convert_tokens_to_ids
    multilingual = config.vocab_size >= 51865
    gen = GenerationConfig(
        alignment_heads=[list(h) for h in ct2["alignment_heads"]],
        begin_suppress_tokens=list(ct2.get("suppress_ids_begin", [220, tid("<|endoftext|>")])),
        suppress_tokens=list(json.loads(ct2["suppress_ids"]) if isinstance(ct2.get("suppress_ids"), str)
                             else ct2.get("suppress_ids", [])),
        bos_token_id=tid("<|endoftext|>"), eos_token_id=tid("<|endoftext|>"), pad_token_id=tid("<|endoftext|>"),
        decoder_start_token_id=tid("<|startoftranscript|>"), no_timestamps_token_id=tid("<|notimestamps|>"),
        prev_sot_token_id=tid("<|startofprev|>"), is_multilingual=multilingual, max_length=config.max_target_positions,
        max_initial_timestamp_index=50, return_timestamps=False)
    if multilingual:
        gen.task_to_id = {"transcribe": tid("<|transcribe|>"), "translate": tid("<|translate|>")}
        lang_ids = json.loads(ct2["lang_ids"]) if isinstance(ct2.get("lang_ids"), str) else ct2.get("lang_ids", [])
        gen.lang_to_id = {tokenizer.convert_ids_to_tokens(i): i for i in lang_ids}
    return gen


def load_whisper_asr(ref: str, device: str = "cpu"):
    """(model, tokenizer, feature extractor) for a hub id / transformers folder, or a packaged CTranslate2 model
    converted once (cached as safetensors)."""
    # lazy: transformers takes seconds to import; only building or loading a model needs it
    from transformers import (
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizerFast,
    )

    folder = Path(ref)
    if not folder.is_dir() or not (folder / "model.bin").is_file():
        if (folder / "config.json").is_file() or "/" in ref:  # a transformers folder or hub id
            try:
                model = WhisperForConditionalGeneration.from_pretrained(ref)
                processor = WhisperProcessor.from_pretrained(ref)
                return model.to(device).eval(), processor.tokenizer, processor.feature_extractor
            except OSError as exc:
                raise ModelNotAvailable(f"Whisper model {ref!r} is not available offline: {exc}") from exc
        folder = Path(resolve_whisper_model(ref))
    cached = converted_cache_folder("whisper-asr-torch", folder)
    tokenizer = WhisperTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"), pad_token="<|endoftext|>",
                                     eos_token="<|endoftext|>", bos_token="<|endoftext|>",
                                     unk_token="<|endoftext|>")
    stamp = cached / "emotrace-format.json"
    if stamp.is_file() and json.loads(stamp.read_text()).get("format") == CONVERTED_FORMAT:
        model = WhisperForConditionalGeneration.from_pretrained(cached)
    else:
        config, state = ct2_whisper_state(folder)
        with torch.device("meta"):
            model = WhisperForConditionalGeneration(config)
        model.load_state_dict(state, strict=True, assign=True)
        model.generation_config = _generation_config(folder, tokenizer, config)
        model.save_pretrained(cached, safe_serialization=True)
        stamp.write_text(json.dumps({"format": CONVERTED_FORMAT, "source": str(folder)}))
    feature_extractor = WhisperFeatureExtractor(feature_size=model.config.num_mel_bins)
    return model.to(device).eval(), tokenizer, feature_extractor


class TorchTranscriber:
    """The `Transcriber` interface on transformers' Whisper: `transcribe(audio, offset)` yields segments lazily."""

    def __init__(self, model: str = "base", *, device: str = "auto", beam_size: int = 1, batch_size: int = 8) -> None:
        # lazy: transformers takes seconds to import; only building or loading a model needs it
        from transformers import pipeline

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model_name, self.device, self.beam_size = model, device, beam_size
        self.notice = ""
        net, tokenizer, features = load_whisper_asr(model, device)
        if device.startswith("cuda"):
            net = net.to(torch.float16)
        self.english_only = not net.generation_config.is_multilingual
        self.pipe = pipeline("automatic-speech-recognition", model=net, tokenizer=tokenizer,
                             feature_extractor=features, chunk_length_s=30, stride_length_s=5, batch_size=batch_size,
                             device=torch.device(device), torch_dtype=net.dtype)

    @property
    def label(self) -> str:
        return f"transformers-whisper:{self.model_name}"

    def transcribe(self, audio: np.ndarray, offset: float = 0.0) -> Iterator[AsrSegment]:
        kwargs = {"num_beams": self.beam_size}
        if not self.english_only:
            kwargs["task"] = "transcribe"
        out = self.pipe(audio.astype(np.float32), return_timestamps="word", generate_kwargs=kwargs)
        words = []
        for chunk in out.get("chunks", []):
            start, end = chunk["timestamp"]
            if start is None or not chunk["text"].strip():
                continue
            end = start if end is None else end
            text = chunk["text"] if chunk["text"].startswith(" ") else " " + chunk["text"]
            words.append(AsrWord(float(start) + offset, float(max(end, start)) + offset, text, 1.0))
        # one segment per stretch of words without a pause of a second: utterances are cut later anyway
        seg: list[AsrWord] = []
        for w in words:
            if seg and w.start - seg[-1].end > 1.0:
                yield AsrSegment(seg[0].start, seg[-1].end, "".join(x.text for x in seg), seg)
                seg = []
            seg.append(w)
        if seg:
            yield AsrSegment(seg[0].start, seg[-1].end, "".join(x.text for x in seg), seg)


BACKENDS = ("auto", "ctranslate2", "torch")


def open_transcriber(model: str = DEFAULT_ASR_MODEL, *, device: str = "auto", backend: str = "auto",
                     beam_size: int = DEFAULT_BEAM_SIZE, batch_size: int = DEFAULT_BATCH_SIZE):
    """The ASR engine for a run. `auto`: faster-whisper (CTranslate2), except where a GPU is present that
    CTranslate2 cannot use (no CUDA 12 cuBLAS, e.g. a CUDA 13 image): then Whisper on PyTorch, on that GPU."""
    if backend not in BACKENDS:
        raise ValueError(f"--asr-backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend == "auto":
        gpu = torch.cuda.is_available() and device in ("auto", "cuda") or str(device).startswith("cuda:")
        backend = "torch" if gpu and not cuda_usable()[0] else "ctranslate2"
        if backend == "torch":
            t = TorchTranscriber(model, device="cuda" if device == "auto" else device, beam_size=beam_size,
                                 batch_size=max(batch_size, 8))
            t.notice = ("CTranslate2 cannot use this GPU (CUDA 12's cuBLAS is missing): transcribing with Whisper "
                        "on PyTorch on the GPU instead")
            return t
    if backend == "torch":
        return TorchTranscriber(model, device=device, beam_size=beam_size, batch_size=max(batch_size, 1) or 8)
    return Transcriber(model, device=device, beam_size=beam_size, batch_size=batch_size)
