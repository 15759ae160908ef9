"""User folders (platformdirs), so every entry point agrees on where the store and caches live, and whether a
model hub may be asked at all (offline)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "EmoTrace"


def data_dir() -> Path:
    """Where the default store and trained models live; EMOTRACE_HOME overrides it (tests, portable installs)."""
    root = os.environ.get("EMOTRACE_HOME")
    path = Path(root) if root else Path(platformdirs.user_data_dir(APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Feature caches and joined model files: safe to delete, rebuilt on demand."""
    root = os.environ.get("EMOTRACE_HOME")
    path = Path(root) / "cache" if root else Path(platformdirs.user_cache_dir(APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_url() -> str:
    return f"sqlite:///{data_dir() / 'emotrace.sqlite'}"


def offline() -> bool:
    """No hub look-ups: HF_HUB_OFFLINE (transformers' own switch) or EMOTRACE_OFFLINE=1. Local folders and the
    models that pip packages ship still load."""
    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false") or os.environ.get("EMOTRACE_OFFLINE") == "1"
