"""Stores the CLI cannot open or write, each reported in one line (rc 2, no traceback), the CLI run as a user
runs it (issue 16)."""

from __future__ import annotations


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
