"""Workflows over a corpus: import, transcribe, analyze, diarize, annotation jobs, review, the worker."""
