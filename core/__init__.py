"""EmoTrace core: store, audio, ASR, the SER model and analysis jobs. Knows nothing of Qt."""

__version__ = "0.1.0"
