"""Registrars for the job subcommands (transcribe, analyze, train, ...), filled in as each layer lands."""

REGISTRARS: list = []
