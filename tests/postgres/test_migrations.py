"""Schema migrations on PostgreSQL: stores made by older EmoTrace versions keep every label (the same checks run
on SQLite in tests/unit)."""

from __future__ import annotations

from emotrace.core.store import Store
from tests.helpers import check_migrated_from_0002, check_migration_from_0003, fill_0002, store_at_0002
from tests.postgres.conftest import throwaway_pg_database


def test_migration_from_0002_keeps_every_label_postgres():
    with throwaway_pg_database("emotrace_mig") as url:
        old = store_at_0002(url)
        fill_0002(old)
        old.close()
        store = Store(url)
        check_migrated_from_0002(store)
        store.close()


def test_migration_from_0003_keeps_every_label_and_the_triggers_on_postgres():
    with throwaway_pg_database() as url:
        check_migration_from_0003(url)
