"""Fixtures of the integration tier only (the shared ones are in tests/conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def open_tmp():
    """A temporary folder every user can traverse (pytest's own is private to its user)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="emotrace16-"))
    path.chmod(0o777)
    yield path
    for p in path.rglob("*"):
        if p.is_dir() and not p.is_symlink():
            p.chmod(0o755)
    shutil.rmtree(path, ignore_errors=True)
