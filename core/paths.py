"""User folders (platformdirs), so every entry point agrees on where the store and caches live, which store is
opened (one resolution order for the CLI, the app and the notebook API), and whether a model hub may be asked
at all (offline)."""

from __future__ import annotations

import configparser
import os
import re
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


SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
DIALECTS = ("sqlite", "postgresql", "mysql", "mariadb", "mssql", "oracle")  # SQLAlchemy's own; "postgres" is not
_URL = re.compile(r"^(?P<dialect>[a-z][a-z0-9_]*)(\+[a-z0-9_]+)?://")


def settings_file() -> Path:
    """The Qt-free settings both the CLI and the app read (the saved default store): in EMOTRACE_HOME when set,
    else the user's config folder. The app's other preferences stay in QSettings."""
    root = os.environ.get("EMOTRACE_HOME")
    folder = Path(root) if root else Path(platformdirs.user_config_dir(APP, appauthor=False))
    return folder / "settings.ini"


def check_db_url(text: str) -> str:
    """A store location as typed: a SQLAlchemy URL (`dialect[+driver]://...`) or a path to a SQLite file (ending
    in .sqlite, .sqlite3 or .db, or an existing file). Anything else ("alice") is a ValueError saying so."""
    text = (text or "").strip()
    if not text:
        raise ValueError("no store given")
    if "://" in text:
        hit = _URL.match(text)
        if hit is None or hit.group("dialect") not in DIALECTS:
            raise ValueError(f"{text!r} is not a database URL EmoTrace can open (dialect[+driver]:// with one of "
                             f"{', '.join(DIALECTS)})")
        return text
    path = Path(text).expanduser()
    if path.suffix.lower() not in SQLITE_SUFFIXES and not path.is_file():
        raise ValueError(f"{text!r} is neither a database URL (sqlite:///..., postgresql+psycopg://...) nor a SQLite "
                         f"file path ({', '.join(SQLITE_SUFFIXES)})")
    if path.is_dir():
        raise ValueError(f"{text!r} is a folder, not a SQLite file")
    return str(path)


def saved_db_url() -> str | None:
    """The default store saved in Settings (None when none is saved, or the saved one does not check)."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(settings_file(), encoding="utf-8")
        saved = parser.get("store", "url", fallback="")
        return check_db_url(saved) if saved else None
    except (configparser.Error, ValueError, OSError):
        return None


def save_db_url(url: str | None) -> None:
    """Save (or with None, forget) the default store; the text is checked first (check_db_url)."""
    parser = configparser.ConfigParser(interpolation=None)
    path = settings_file()
    parser.read(path, encoding="utf-8")
    if not parser.has_section("store"):
        parser.add_section("store")
    if url is None:
        parser.remove_option("store", "url")
    else:
        parser.set("store", "url", check_db_url(url))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        parser.write(fh)


def resolve_db_url(explicit: str | None = None) -> tuple[str, str]:
    """The store to open and why, in the one order every front end follows: `--db` (or EMOTRACE_DB) >
    EMOTRACE_HOME (its emotrace.sqlite) > the default saved in Settings > the user data folder."""
    if explicit:
        return explicit, "--db"
    if os.environ.get("EMOTRACE_DB"):
        return os.environ["EMOTRACE_DB"], "EMOTRACE_DB"
    if os.environ.get("EMOTRACE_HOME"):
        return default_db_url(), "EMOTRACE_HOME"
    saved = saved_db_url()
    if saved:
        return saved, "settings"
    return default_db_url(), "default"


def offline() -> bool:
    """No hub look-ups: HF_HUB_OFFLINE (transformers' own switch) or EMOTRACE_OFFLINE=1. Local folders and the
    models that pip packages ship still load."""
    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false") or os.environ.get("EMOTRACE_OFFLINE") == "1"
