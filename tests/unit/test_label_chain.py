"""The label history is tamper-evident (issue 23, item 5): every label row is on a hash chain, `emotrace check`
names the first broken row, and opening a store re-creates dropped append-only triggers. PostgreSQL:
tests/postgres/test_label_chain.py; two processes saving at once: tests/integration/test_label_chain.py."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from emotrace.cli.main import main
from emotrace.core.store import Store
from emotrace.core.store.label_chain import CHAIN_FIELDS, GENESIS, canonical, row_hash
from tests.helpers import check_tamper_evidence, fill_0002, store_at_0002


@pytest.fixture
def cli_check(capsys):
    def run(url: str, *args: str) -> tuple[int, list[str]]:
        capsys.readouterr()
        rc = main(["--db", url, "check", *args])
        out = capsys.readouterr().out
        return rc, [line for line in out.splitlines() if line and not line.startswith("store is whole")]
    return run


def test_check_names_the_first_broken_row_and_opening_restores_the_triggers(tmp_path, cli_check):
    check_tamper_evidence(f"sqlite:///{tmp_path / 'store.sqlite'}", cli_check)


def test_repair_triggers_recreates_them_and_changes_no_label(tmp_path, cli_check):
    import sqlite3

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = Store(url)
    from tests.helpers import chain_labels

    chain_labels(store)
    store.close()
    con = sqlite3.connect(tmp_path / "store.sqlite")
    con.execute("DROP TRIGGER labels_no_delete")
    con.commit()
    before = con.execute("SELECT * FROM labels ORDER BY id").fetchall()
    con.close()
    rc, lines = cli_check(url)
    assert rc == 1 and lines == ["trigger labels_no_delete on labels is missing: labels can be changed or deleted"]
    rc, lines = cli_check(url, "--repair-triggers")
    assert rc == 0 and lines == ["re-created trigger labels_no_delete on labels"]
    assert cli_check(url) == (0, [])
    con = sqlite3.connect(tmp_path / "store.sqlite")
    assert con.execute("SELECT * FROM labels ORDER BY id").fetchall() == before
    con.close()


def test_every_insert_path_is_on_the_chain(store):
    from tests.helpers import chain_labels

    chain_labels(store)
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT chain_seq, chain_hash, origin FROM labels ORDER BY chain_seq")).all()
        head = conn.execute(text("SELECT seq, hash FROM label_chain")).one()
    assert {o for _s, _h, o in rows} >= {"manual", "accepted", "retraction", "imported", "computed"}
    assert [s for s, _h, _o in rows] == list(range(1, len(rows) + 1))
    assert tuple(head) == (len(rows), rows[-1][1])
    assert store.check().problems == []


def test_a_label_added_around_the_chain_is_refused(store):
    from emotrace.core.store import Label, StoreError
    from tests.helpers import chain_labels

    chain_labels(store)
    with pytest.raises(StoreError, match="off the hash chain"), store.db.session() as s:
        s.add(Label(segment_id=1, annotator="x", arousal=3.0, origin="manual"))


def test_the_hash_rule_is_canonical():
    from datetime import UTC, datetime, timedelta, timezone

    t = datetime(2026, 12, 6, 3, 0, 0, 123456, tzinfo=UTC)
    row = {"segment_id": 7, "annotator": "ann", "arousal": 4, "valence": 2.5, "dominance": None, "origin": "manual",
           "created_at": t}
    same = {**row, "arousal": 4.0, "created_at": t.astimezone(timezone(timedelta(hours=2)))}
    naive = {**row, "created_at": t.replace(tzinfo=None)}  # SQLite hands times back naive (UTC)
    assert row_hash(GENESIS, 1, row) == row_hash(GENESIS, 1, same) == row_hash(GENESIS, 1, naive)
    assert canonical(1, row) == ('{"annotator":"ann","arousal":"4.0","created_at":"2026-12-06T03:00:00.123456Z",'
                                 '"origin":"manual","segment_id":7,"seq":1,"valence":"2.5"}')
    assert row_hash(GENESIS, 2, row) != row_hash(GENESIS, 1, row) != row_hash("1" * 64, 1, row)
    assert "created_at" in CHAIN_FIELDS and "annotator" in CHAIN_FIELDS


def test_migration_puts_existing_labels_on_the_chain_in_order(tmp_path):
    from alembic import command
    from sqlalchemy import create_engine

    from emotrace.core.store.store import alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = store_at_0002(url)
    fill_0002(old)
    old.close()
    command.upgrade(alembic_config(url), "0008_segment_edits")
    engine = create_engine(url)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT id, arousal, origin, created_at FROM labels ORDER BY id")).all()
    engine.dispose()
    store = Store(url)
    assert store.notice == ""
    assert store.check().problems == []
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT id, arousal, origin, created_at FROM labels ORDER BY id")).all() == before
        assert [r[0] for r in conn.execute(text("SELECT chain_seq FROM labels ORDER BY id"))] == \
            list(range(1, len(before) + 1))
    with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("UPDATE labels SET arousal = 1"))
    store.labels.record_label(1, annotator="ann", arousal=2, valence=2, dominance=2)
    assert store.check().problems == []
    store.close()


def test_every_command_warns_after_tampering(tmp_path, capsys):
    """The issue's case: with the triggers dropped, a label deleted and another edited, `stats` (and every command
    that opens the store: export, import, agreement) says so in one `note:` line, and the triggers are back."""
    from tests.helpers import chain_labels, tamper_with_labels

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = Store(url)
    ids = chain_labels(store)
    store.close()
    tamper_with_labels(url, **ids)
    capsys.readouterr()
    assert main(["--db", url, "stats"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1
    assert "labels_no_update, labels_no_delete were missing" in notes[0] and "re-created" in notes[0]
    assert "label history is not whole" in notes[0] and "emotrace check" in notes[0]
    assert main(["--db", url, "export", "--corpus", "chain", "--out", str(tmp_path / "x.csv")]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "re-created" not in notes[0] and "label history is not whole" in notes[0]
