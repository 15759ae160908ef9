"""Stores the CLI cannot open or write, each reported in one line (rc 2, no traceback), the CLI run as a user
runs it (issue 16)."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from emotrace.core.store import Store
from emotrace.core.workflows.importing import import_folder
from tests.helpers import as_other_user, cli, one_line_error


def test_cli_reports_an_unwritable_store_in_one_line(tmp_path, audio_dir):
    import subprocess
    import sys

    from emotrace.core.store import Store

    db = tmp_path / "ro.sqlite"
    Store(str(db)).close()
    read_only = f"sqlite:///file:{db}?mode=ro&uri=true"  # a store this user may read but not write
    r = subprocess.run([sys.executable, "-m", "emotrace.cli", "--db", read_only, "-q", "import", str(audio_dir),
                        "--corpus", "c"], capture_output=True, text=True)
    assert r.returncode == 2 and "could not be read or written" in r.stderr and "readonly" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_store_from_a_newer_emotrace_is_one_line(tmp_path):
    db = tmp_path / "s.sqlite"
    Store(str(db)).close()
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = '0099_future'")
    con.commit()
    con.close()
    line = one_line_error(cli("--db", str(db), "stats"))
    assert "newer EmoTrace" in line and "0099_future" in line and "committed before is kept" not in line


@pytest.mark.parametrize("url", ["mysql://u@h/db", "nosuchdialect://x/y"])
def test_an_unknown_dialect_or_driver_is_one_line(url):
    line = one_line_error(cli("--db", url, "stats"))
    assert "Cannot open the store" in line and "committed before is kept" not in line


def test_a_file_that_is_not_a_database_is_one_line_without_false_comfort(tmp_path):
    bad = tmp_path / "s.sqlite"
    bad.write_bytes(b"this is not a database, just text " * 200)
    line = one_line_error(cli("--db", str(bad), "stats"))
    assert "not a database" in line and "committed before is kept" not in line


def test_a_store_in_a_read_only_folder_can_still_be_read(open_tmp, audio_dir):
    tmp_path = open_tmp
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "s.sqlite"
    import_folder(Store(str(db)), audio_dir, "c")
    for p in (folder, db):
        p.chmod(0o555 if p.is_dir() else 0o444)
    os.chmod(tmp_path, 0o777)
    try:
        r = as_other_user("from emotrace.cli.main import main; "
                          "sys.exit(main(['--db', os.environ['DB'], 'stats', '--json']))",
                          {"DB": str(db), "HOME16": str(tmp_path)})
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["files_ok"] == 6 and "opened read-only" in r.stderr
        r = as_other_user("from emotrace.cli.main import main; sys.exit(main(['--db', os.environ['DB'], 'import', "
                          "os.environ['ROOT'], '--corpus', 'c2']))",
                          {"DB": str(db), "ROOT": str(audio_dir), "HOME16": str(tmp_path)})
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr  # a write is refused in one line
    finally:
        folder.chmod(0o755)
