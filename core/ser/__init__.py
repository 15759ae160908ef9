"""The audio-textual distilled SER model (de Oliveira, Prabhu & Gerkmann, Interspeech 2023): config, encoders,
featurizer, heads, pooling and the prediction pipeline. Import the modules themselves (`emotrace.core.ser.modeling`);
this package imports nothing, so its light modules (`hub`, `config`) never pull in torch."""
