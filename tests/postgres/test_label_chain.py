"""The label chain on PostgreSQL (issue 23, item 5): `emotrace check` after tampering, trigger re-creation on
opening, the migration of existing labels, and several processes saving at once (SQLite: tests/unit and
tests/integration test_label_chain.py)."""

from __future__ import annotations

import pytest

from emotrace.cli.main import main
from emotrace.core.store import Store
from tests.helpers import check_concurrent_label_saves, check_tamper_evidence, fill_0002, store_at_0002
from tests.postgres.conftest import throwaway_pg_database


@pytest.fixture
def cli_check(capsys):
    """`emotrace check` in this process (the CLI end to end by subprocess: tests/integration)."""
    def run(url: str, *args: str) -> tuple[int, list[str]]:
        capsys.readouterr()
        rc = main(["--db", url, "check", *args])
        return rc, [line for line in capsys.readouterr().out.splitlines()
                    if line and not line.startswith("store is whole")]
    return run


def test_check_names_the_first_broken_row_and_opening_restores_the_triggers_postgres(cli_check):
    with throwaway_pg_database("emotrace_chain") as url:
        check_tamper_evidence(url, cli_check)


def test_concurrent_label_saves_keep_one_chain_postgres():
    with throwaway_pg_database("emotrace_chain") as url:
        check_concurrent_label_saves(url, processes=3, saves=20)


def test_migration_puts_existing_labels_on_the_chain_postgres():
    from alembic import command
    from sqlalchemy import text

    from emotrace.core.store.store import alembic_config

    with throwaway_pg_database("emotrace_chain") as url:
        old = store_at_0002(url)
        fill_0002(old)
        old.close()
        command.upgrade(alembic_config(url), "0008_segment_edits")
        store = Store(url)
        assert store.notice == "" and store.check().problems == []
        with store.engine.connect() as conn:
            assert [r[0] for r in conn.execute(text("SELECT chain_seq FROM labels ORDER BY id"))] == list(range(1, 10))
        with store.engine.begin() as conn:  # fill_0002 wrote its ids by hand, past the sequence
            conn.execute(text("SELECT setval('labels_id_seq', (SELECT max(id) FROM labels))"))
        store.labels.record_label(1, annotator="ann", arousal=2, valence=2, dominance=2)
        assert store.check().problems == []
        store.close()
