"""Headless trainer: called by the GUI (in a worker process), the CLI and torchrun."""
