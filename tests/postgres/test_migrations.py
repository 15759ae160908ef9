"""Schema migrations on PostgreSQL: stores made by older EmoTrace versions keep every label (the same checks run
on SQLite in tests/unit)."""

from __future__ import annotations

import pytest

from emotrace.core.store import Store
from tests.conftest import throwaway_pg_database
from tests.helpers import check_migrated_from_0002, check_migration_from_0003, fill_0002, store_at_0002


@pytest.mark.skipif(not __import__("os").environ.get("EMOTRACE_TEST_PG_URL"), reason="no PostgreSQL test server")
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
