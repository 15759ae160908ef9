"""Reference encoder architectures by name, built from their published configs with random weights.

For parameter counts and speed comparisons only: no weights are downloaded. The shapes follow the hub
configs of ntu-spml/distilhubert, facebook/hubert-large-ll60k, audeering's wav2vec2-large-robust-12 (the
dimensional MSP-Podcast model, pruned to 12 layers) and sentence-transformers/all-MiniLM-L6-v2.
"""

from __future__ import annotations

WHISPER_SIZES = {"whisper-tiny": (384, 4, 6), "whisper-base": (512, 6, 8)}


def build(name: str):
    # lazy: transformers takes seconds to import; only building or loading a model needs it
    from transformers import BertConfig, BertModel, HubertConfig, HubertModel, Wav2Vec2Config, Wav2Vec2Model

    # layerdrop off: dropping layers in training breaks a weighted sum of all layers
    large = dict(hidden_size=1024, num_attention_heads=16, intermediate_size=4096, feat_extract_norm="layer",
                 do_stable_layer_norm=True, conv_bias=True, layerdrop=0.0)
    if name == "distilhubert":
        return HubertModel(HubertConfig(hidden_size=768, num_hidden_layers=2, num_attention_heads=12,
                                        intermediate_size=3072, layerdrop=0.0))
    if name == "hubert-large":
        return HubertModel(HubertConfig(num_hidden_layers=24, **large))
    if name == "wav2vec2-large-robust-12":
        return Wav2Vec2Model(Wav2Vec2Config(num_hidden_layers=12, **large))
    if name in WHISPER_SIZES:  # the encoder only, as EmoTrace runs it (core.ser.whisper_torch)
        # lazy: transformers takes seconds to import; only building or loading a model needs it
        from transformers import WhisperConfig
        from transformers.models.whisper.modeling_whisper import WhisperEncoder

        d, layers, heads = WHISPER_SIZES[name]
        return WhisperEncoder(WhisperConfig(d_model=d, encoder_layers=layers, encoder_attention_heads=heads,
                                            encoder_ffn_dim=4 * d, decoder_layers=layers, num_mel_bins=80))
    if name == "minilm-l6":
        return BertModel(BertConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                                    intermediate_size=1536, vocab_size=30522))
    raise ValueError(f"unknown architecture {name!r}")


AUDIO_ARCHITECTURES = ("distilhubert", "hubert-large", "wav2vec2-large-robust-12", "whisper-tiny", "whisper-base")
