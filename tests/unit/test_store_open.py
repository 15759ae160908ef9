"""Opening never modifies what it refuses (issue 23, item 4): a foreign SQLite file is not taken over (no tables
added, no model registered, no WAL switch), and a store from a newer EmoTrace keeps every byte."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from emotrace.core.store import Store, StoreError


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_foreign_sqlite_file_is_refused_untouched(tmp_path):
    history = tmp_path / "History"
    con = sqlite3.connect(history)
    con.execute("CREATE TABLE urls (id INTEGER PRIMARY KEY, url TEXT)")
    con.execute("INSERT INTO urls (url) VALUES ('https://example.org')")
    con.commit()
    con.close()
    before = _sha(history)
    with pytest.raises(StoreError, match="not an EmoTrace store .*nothing was changed"):
        Store(str(history))
    assert _sha(history) == before and not (tmp_path / "History-wal").exists()


def test_a_store_from_a_newer_emotrace_keeps_every_byte(tmp_path):
    path = tmp_path / "store.sqlite"
    Store(str(path)).close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=DELETE")  # a rollback-journal file: a WAL switch would change its header
    con.execute("UPDATE alembic_version SET version_num = 'zzzz_from_the_future'")
    con.commit()
    con.close()
    before = _sha(path)
    with pytest.raises(StoreError, match="newer EmoTrace.*nothing was changed"):
        Store(str(path))
    assert _sha(path) == before


def test_an_empty_file_and_a_new_path_become_stores(tmp_path):
    (tmp_path / "empty.sqlite").write_bytes(b"")
    for name in ("empty.sqlite", "new.sqlite"):
        s = Store(str(tmp_path / name))
        assert s.schema_revision() == s.head_revision()
        s.close()
