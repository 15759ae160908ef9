"""The append-only triggers of the current schema, in one place: which tables refuse UPDATE and DELETE at the
database, the DDL that makes them refuse, and how to find and re-create a trigger someone dropped.

Migrations 0003, 0004, 0007 and 0008 wrote their triggers out as they were at their revision (a migration must
not change later); from 0011 on, migrations, `Store` opening (which re-creates missing triggers) and
`emotrace check --repair-triggers` all take the DDL from here. A table that becomes append-only later is added
to `APPEND_ONLY_TABLES` and its migration calls `create_triggers`.

SQLite: a BEFORE UPDATE and a BEFORE DELETE trigger per table, each `RAISE(ABORT, ...)`.
PostgreSQL: one row-level BEFORE UPDATE OR DELETE trigger per table (and a statement-level TRUNCATE trigger on
labels and word_edits), executing the plpgsql functions below; a trigger that exists but was disabled
(`ALTER TABLE ... DISABLE TRIGGER`) counts as missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

APPEND_ONLY_TABLES = ("labels", "traces", "trace_samples", "word_edits")

_PG_FUNCTIONS = {
    "emotrace_labels_append_only":
        "CREATE OR REPLACE FUNCTION emotrace_labels_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'labels are append-only: % is refused', TG_OP; END $$ LANGUAGE plpgsql",
    "emotrace_append_only":
        "CREATE OR REPLACE FUNCTION emotrace_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION '% are append-only: % is refused', TG_TABLE_NAME, TG_OP; END $$ LANGUAGE plpgsql",
}


@dataclass(frozen=True)
class Trigger:
    name: str
    table: str
    create: str  # the DDL that creates it
    function: str | None = None  # PostgreSQL: the function it executes (created first when missing)


def _sqlite_triggers() -> list[Trigger]:
    return [Trigger(f"{table}_no_{op}", table,
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op} BEFORE {op.upper()} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} are append-only: {op.upper()} is refused'); END")
            for table in APPEND_ONLY_TABLES for op in ("update", "delete")]


def _pg_triggers() -> list[Trigger]:
    out = []
    for table in APPEND_ONLY_TABLES:
        function = "emotrace_append_only" if table == "word_edits" else "emotrace_labels_append_only"
        out.append(Trigger(f"{table}_no_update_delete", table,
                           f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
                           f"FOR EACH ROW EXECUTE FUNCTION {function}()", function))
        if table in ("labels", "word_edits"):
            out.append(Trigger(f"{table}_no_truncate", table,
                               f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                               f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()", function))
    return out


def expected_triggers(dialect: str, tables: Iterable[str] = APPEND_ONLY_TABLES) -> list[Trigger]:
    """The triggers a store of this dialect must have on `tables`."""
    wanted = set(tables)
    every = _pg_triggers() if dialect == "postgresql" else _sqlite_triggers()
    return [t for t in every if t.table in wanted]


def _present(conn: Connection) -> set[str]:
    """Names of the enabled triggers in the store."""
    if conn.dialect.name == "postgresql":
        return set(conn.execute(text(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND pg_table_is_visible(c.oid)")).scalars())
    return set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())


def missing_triggers(conn: Connection, tables: Iterable[str] = APPEND_ONLY_TABLES) -> list[Trigger]:
    """The expected triggers that are absent (or, on PostgreSQL, disabled)."""
    present = _present(conn)
    return [t for t in expected_triggers(conn.dialect.name, tables) if t.name not in present]


def create_triggers(conn: Connection, triggers: Iterable[Trigger]) -> None:
    """(Re-)create these triggers inside the caller's transaction; one that exists disabled is dropped first."""
    for trigger in triggers:
        if conn.dialect.name == "postgresql":
            conn.execute(text(_PG_FUNCTIONS[trigger.function]))
            conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger.name} ON {trigger.table}"))
        conn.execute(text(trigger.create))


def drop_triggers(conn: Connection, tables: Iterable[str]) -> None:
    """Drop the append-only triggers of `tables` (a migration that rewrites rows re-creates them right after)."""
    for trigger in expected_triggers(conn.dialect.name, tables):
        on = f" ON {trigger.table}" if conn.dialect.name == "postgresql" else ""
        conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger.name}{on}"))
