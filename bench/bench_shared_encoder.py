"""Can transcription and analysis share one Whisper encoder pass? (issue 25, goal 2: "analyze adds <= 10% to
transcription ... or measure why not").

The SER heads read every hidden state of the torch Whisper encoder over each chunk of audio encoded alone,
unpadded (the featurizer the feature cache, analysis and training share); CTranslate2's `generate` accepts
encoder output instead of a log-mel. Measured here, in one run:

1. Decoding from the featurizer's own output: the unpadded last hidden state of each reference recording fed to
   CTranslate2's decoder (greedy), against the same state computed over the recording padded to 30 s (what
   Whisper was trained on, and what faster-whisper feeds it). Word error rate on the reference speech.
2. What one pass would cost: on a podcast-like file, the default transcription alone, the featurizer over the file
   (unpadded 30 s chunks), CTranslate2's int8 encoder over the same chunks padded to 30 s, and the featurizer over
   one short clip padded to 30 s (what training on 3.5 s clips would pay if the featurizer padded as the decoder
   needs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("EMOTRACE_HOME", tempfile.mkdtemp())
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def timed(fn, repeats: int = 1):
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=5.0)
    args = ap.parse_args()
    import ctranslate2
    import jiwer
    import torch
    from bench_asr_torch import normalise
    from bench_pipeline import podcast, reference_speech
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

    from emotrace.core.audio.decode import AudioSource
    from emotrace.core.ser.encoders import AudioFeaturizer
    from emotrace.core.speech.asr import Transcriber
    from emotrace.core.speech.whisper_models import resolve_whisper_model

    feat = AudioFeaturizer("whisper:tiny.en", device="cpu")
    ct2 = WhisperModel(resolve_whisper_model("tiny.en"), device="cpu", compute_type="int8")
    tok = Tokenizer(ct2.hf_tokenizer, False, task="transcribe", language="en")
    prompt = tok.sot_sequence + [tok.no_timestamps]

    def decode(last: np.ndarray) -> str:
        out = ct2.model.generate(ctranslate2.StorageView.from_array(np.ascontiguousarray(last[None])), [prompt],
                                 beam_size=1, max_length=224)
        return tok.decode(out[0].sequences_ids[0])

    items = reference_speech()
    refs, unpadded, padded = [], [], []
    for audio, ref in items.values():
        refs.append(normalise(ref))
        unpadded.append(normalise(decode(feat.encode_batch([audio])[0][-1])))
        full = np.zeros(16000 * 30, np.float32)
        full[: len(audio)] = audio[: len(full)]
        padded.append(normalise(decode(feat.encode_batch([full])[0][-1])))
    print(json.dumps({"experiment": "decoder fed by the featurizer's last hidden state", "items": len(items),
                      "wer_unpadded": round(100 * jiwer.wer(refs, unpadded), 1),
                      "wer_padded_30s": round(100 * jiwer.wer(refs, padded), 1),
                      "example_unpadded": unpadded[-1][:120]}), flush=True)

    tmp = Path(tempfile.mkdtemp())
    podcast(tmp / "p.flac", args.minutes)
    audio = AudioSource(tmp / "p.flac").decode_all()
    seconds = len(audio) / 16000
    chunks = [audio[i: i + 16000 * 30] for i in range(0, len(audio), 16000 * 30)]
    asr = Transcriber("tiny.en", device="cpu")
    _, t_asr = timed(lambda: [w for s in asr.transcribe(audio) for w in s.words])
    _, t_feat = timed(lambda: [feat.encode_batch(chunks[i: i + 8]) for i in range(0, len(chunks), 8)])
    mels = [ct2.feature_extractor(np.pad(c, (0, 16000 * 30 - len(c))))[:, :3000] for c in chunks]
    _, t_ct2 = timed(lambda: [ct2.model.encode(ctranslate2.StorageView.from_array(np.stack(mels[i: i + 8])))
                              for i in range(0, len(mels), 8)])
    clip = audio[: int(16000 * 3.5)]
    _, t_clip = timed(lambda: feat.encode_batch([clip] * 8), repeats=3)
    _, t_clip30 = timed(lambda: feat.encode_batch([np.pad(clip, (0, 16000 * 30 - len(clip)))] * 8), repeats=3)
    print(json.dumps({
        "experiment": "costs on one file", "audio_s": round(seconds, 1), "torch_threads": torch.get_num_threads(),
        "transcribe_default_s": round(t_asr, 2), "featurizer_all_layers_s": round(t_feat, 2),
        "ct2_int8_encoder_s": round(t_ct2, 2),
        "featurizer_share_of_transcription": round(t_feat / t_asr, 2),
        "encoder_share_of_transcription": round(t_ct2 / t_asr, 2),
        "one_pass_floor_added": round(max(0.0, t_feat - t_ct2) / t_asr, 2),
        "clip_3_5s_x8_s": round(t_clip, 3), "clip_padded_30s_x8_s": round(t_clip30, 3),
        "padding_cost_factor": round(t_clip30 / t_clip, 1), "load": os.getloadavg()[0]}), flush=True)


if __name__ == "__main__":
    main()
