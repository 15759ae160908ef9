"""Two or more processes saving labels on one SQLite store at once keep one unbroken label chain (issue 23,
item 5; PostgreSQL: tests/postgres/test_label_chain.py)."""

from __future__ import annotations

from tests.helpers import check_concurrent_label_saves


def test_concurrent_label_saves_keep_one_chain_sqlite(tmp_path):
    check_concurrent_label_saves(f"sqlite:///{tmp_path / 'store.sqlite'}", processes=3, saves=20)


def test_check_cli_end_to_end(tmp_path):
    """`emotrace check` as a user runs it: rc 0 and one line on a whole store, rc 1 and one line per problem."""
    import sqlite3
    import subprocess
    import sys

    from emotrace.core.store import Store
    from tests.helpers import chain_labels

    path = tmp_path / "store.sqlite"
    store = Store(str(path))
    chain_labels(store)
    store.close()

    def check(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "emotrace.cli", "--db", str(path), "check", *args],
                              capture_output=True, text=True, timeout=120)

    whole = check()
    assert whole.returncode == 0 and whole.stdout.startswith("store is whole")
    con = sqlite3.connect(path)
    con.execute("DROP TRIGGER labels_no_update")
    con.execute("UPDATE labels SET note = 'edited' WHERE id = 1")
    con.commit()
    con.close()
    broken = check("--repair-triggers")
    assert broken.returncode == 1, broken.stderr
    assert broken.stdout.splitlines() == [
        "re-created trigger labels_no_update on labels",
        "label id 1 (annotator 'ann', segment 1, seq 1): content changed (its fields no longer match its hash, "
        "or the row before it was rewritten)"]
