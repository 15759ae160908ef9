"""Is the store whole? The database's own checks, foreign keys, the append-only triggers and the label chain:
what `emotrace check` runs (`check_store`), and the cheap part that every opening runs (`quick_check`).

`check_store` reports one line per problem and never changes a label row or a hash; with
`repair_triggers=True` it re-creates missing append-only triggers (their DDL lives in append_only.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from emotrace.core.store.append_only import create_triggers, missing_triggers
from emotrace.core.store.label_chain import CHAIN_FIELDS, GENESIS, ChainRow, row_hash, verify
from emotrace.core.store.models import Label, LabelChain

_CHAIN_COLUMNS = (Label.id, Label.chain_seq, Label.chain_hash, *(getattr(Label, n) for n in CHAIN_FIELDS))


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    @property
    def whole(self) -> bool:
        return not self.problems


def _chain_row(r) -> ChainRow:
    return ChainRow(r.id, r.chain_seq, r.chain_hash, {n: getattr(r, n) for n in CHAIN_FIELDS})


def _database_checks(conn: Connection) -> list[str]:
    if conn.dialect.name == "sqlite":
        problems = [f"integrity_check: {line}" for (line,) in conn.exec_driver_sql("PRAGMA integrity_check")
                    if line != "ok"]
        problems += [f"foreign key: {table} row {rowid} points at a missing {parent} row"
                     for table, rowid, parent, _fk in conn.exec_driver_sql("PRAGMA foreign_key_check")]
        return problems
    problems = []  # PostgreSQL checks its own pages; a foreign key can still break with its triggers disabled
    insp = inspect(conn)
    for table in insp.get_table_names():
        for fk in insp.get_foreign_keys(table):
            ref, cols, refcols = fk["referred_table"], fk["constrained_columns"], fk["referred_columns"]
            on = " AND ".join(f'p."{r}" = c."{c}"' for c, r in zip(cols, refcols))
            not_null = " AND ".join(f'c."{c}" IS NOT NULL' for c in cols)
            n = conn.execute(text(f'SELECT count(*) FROM "{table}" c WHERE {not_null} AND NOT EXISTS '
                                  f'(SELECT 1 FROM "{ref}" p WHERE {on})')).scalar()
            if n:
                problems.append(f"foreign key: {n} {table} row(s) point at a missing {ref} row ({', '.join(cols)})")
    return problems


def check_chain(conn: Connection) -> list[str]:
    """Walk the whole label chain in order (one pass, streamed)."""
    head = conn.execute(select(LabelChain.seq, LabelChain.hash).where(LabelChain.id == 1)).one_or_none()
    rows = conn.execution_options(yield_per=5000).execute(
        select(*_CHAIN_COLUMNS).order_by(Label.chain_seq.is_(None), Label.chain_seq, Label.id))
    return verify((_chain_row(r) for r in rows), tuple(head) if head is not None else None)


def check_store(engine: Engine, *, repair_triggers: bool = False) -> CheckReport:
    report = CheckReport()
    with engine.connect() as conn:
        report.problems += _database_checks(conn)
        missing = missing_triggers(conn)
        conn.rollback()
        if missing and repair_triggers:
            with conn.begin():
                create_triggers(conn, missing)
            report.repaired += [f"re-created trigger {t.name} on {t.table}" for t in missing]
        else:
            report.problems += [f"trigger {t.name} on {t.table} is missing: {t.table} can be changed or deleted"
                                for t in missing]
        report.problems += check_chain(conn)
    return report


def quick_check(conn: Connection) -> str | None:
    """What every opening can afford (a count and the last two rows): the row count against the head, the last
    row against the head and its predecessor. It notices a deleted row and an edited last row, not an edit
    in the middle (`emotrace check` walks the whole chain)."""
    head = conn.execute(select(LabelChain.seq, LabelChain.hash).where(LabelChain.id == 1)).one_or_none()
    if head is None:
        return "the label chain has no head"
    count = conn.execute(select(func.count()).select_from(Label)).scalar() or 0
    if count != head.seq:
        return f"the label history holds {count} rows where its chain counts {head.seq}"
    if not count:
        return None if head.hash == GENESIS else "the label chain's head does not match the empty history"
    last = [_chain_row(r) for r in conn.execute(select(*_CHAIN_COLUMNS).where(Label.chain_seq.is_not(None))
                                                .order_by(Label.chain_seq.desc()).limit(2))]
    prev = last[1].hash if len(last) > 1 else GENESIS
    if not last or last[0].seq != head.seq or last[0].hash != head.hash \
            or row_hash(prev, last[0].seq, last[0].fields) != last[0].hash:
        return "the last label row does not match the chain's head"
    return None
