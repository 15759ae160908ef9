"""The unit tier runs no subprocess (scripts/test.sh --fast must stay fast): a test that starts one fails here and
belongs in tests/integration."""

from __future__ import annotations

import subprocess

import pytest


@pytest.fixture(autouse=True)
def _no_subprocess(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a unit test started a subprocess ({args[0] if args else kwargs.get('args')!r}): "
                             "move it to tests/integration")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A real, untrained audio-only EmoTrace model on a tiny random HuBERT, built once: the activation gate and
    the changed-file checks run it for real (tests copy it before damaging it)."""
    from tests.conftest import tiny_ser_model

    return tiny_ser_model(tmp_path_factory.mktemp("tiny") / "model")
