"""Audio in: decoding any common file to 16 kHz mono in chunks, and the cached waveform envelopes."""
