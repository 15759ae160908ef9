"""Speech: ASR engines (faster-whisper, Whisper on PyTorch), Whisper weights, segmentation and diarization."""
