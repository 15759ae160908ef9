"""No two current segments of a file overlap, and one live claim per file and job kind: rules of the database

Until now only `edit_segments` checked overlaps, in Python, on rows it had read before its write began, so
three processes editing one file at once left overlapping current segments (issue 23, item 1). The rule now
holds at the database, whoever writes:

- PostgreSQL: an exclusion constraint over `numrange(start, end - 1 ms)` per file (btree_gist gives the `=`
  on the file id), for current segments that are not imported;
- SQLite: triggers that refuse an insert or an update leaving such a pair (SQLite has no exclusion
  constraint; edits take the write lock first with `BEGIN IMMEDIATE`, so the check and the write are one).

Imported segments are left out: they are the bounds a labels file gave (raters' tiers may overlap), and
the store keeps them as given. Segments that touch within a millisecond do not overlap (`OVERLAP_SLACK`).

A store that already holds overlapping pairs keeps every row: the newer segment of each pair is marked
superseded (its labels stay with it, as for any superseded segment), so the rule can be created.

Work items: at most one queued or claimed item per file and job kind (a partial unique index), so two
processes cannot both claim one file, on PostgreSQL as on SQLite; plain CLI runs claim through it too.

Revision ID: 0010_segment_rules
Revises: 0008_segment_edits
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0010_segment_rules"
down_revision = "0009_label_provenance"
branch_labels = None
depends_on = None

SLACK = 0.001  # core.store.segments.OVERLAP_SLACK
MESSAGE = "overlapping current segments"  # core.store.segments maps this to a StoreError

_CLASH = (f"SELECT 1 FROM segments o WHERE o.file_id = NEW.file_id AND o.id <> NEW.id "
          f"AND o.superseded_at IS NULL AND o.origin <> 'imported' "
          f"AND o.start < NEW.\"end\" - {SLACK} AND NEW.start < o.\"end\" - {SLACK}")
_WHEN = "NEW.superseded_at IS NULL AND NEW.origin <> 'imported'"
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER segments_no_overlap_insert BEFORE INSERT ON segments WHEN {_WHEN} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}') WHERE EXISTS ({_CLASH}); END",
    f"CREATE TRIGGER segments_no_overlap_update BEFORE UPDATE OF start, \"end\", superseded_at, origin, file_id "
    f"ON segments WHEN {_WHEN} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}') WHERE EXISTS ({_CLASH}); END",
]
PG_STATEMENTS = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "ALTER TABLE segments ADD CONSTRAINT ex_segments_no_overlap EXCLUDE USING gist "
    f"(file_id WITH =, numrange(start::numeric, greatest(start, \"end\" - {SLACK})::numeric, '[)') WITH &&) "
    "WHERE (superseded_at IS NULL AND origin <> 'imported')",
]


def _supersede_existing_overlaps(bind) -> int:
    """Mark the newer segment of each overlapping current pair superseded (nothing is deleted)."""
    rows = bind.execute(sa.text("SELECT id, file_id, start, \"end\" FROM segments WHERE superseded_at IS NULL "
                                "AND origin <> 'imported' ORDER BY file_id, id")).all()
    by_file: dict[int, list] = {}
    for r in rows:
        by_file.setdefault(r.file_id, []).append(r)
    doomed = []
    for segs in by_file.values():
        kept: list = []
        for g in segs:  # by id: the older segment stays current
            if any(k.start < g.end - SLACK and g.start < k.end - SLACK for k in kept):
                doomed.append(g.id)
            else:
                kept.append(g)
    for i in range(0, len(doomed), 500):
        bind.execute(sa.text("UPDATE segments SET superseded_at = :now WHERE id IN :ids")
                     .bindparams(sa.bindparam("ids", expanding=True)),
                     {"now": datetime.now(UTC), "ids": doomed[i:i + 500]})
    return len(doomed)


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    _supersede_existing_overlaps(bind)
    for statement in SQLITE_TRIGGERS if sqlite else PG_STATEMENTS:
        op.execute(statement)
    # one live work item per file and kind: a second claimer finds the first one's row
    duplicates = bind.execute(sa.text(
        "SELECT id FROM work_items w WHERE status IN ('queued', 'claimed') AND EXISTS (SELECT 1 FROM work_items o "
        "WHERE o.kind = w.kind AND o.file_id = w.file_id AND o.status IN ('queued', 'claimed') AND o.id < w.id)"
    )).scalars().all()
    if duplicates:
        bind.execute(sa.text("UPDATE work_items SET status = 'failed', error = 'a duplicate of an earlier item' "
                             "WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True)), {"ids": duplicates})
    op.create_index("uq_work_items_live", "work_items", ["kind", "file_id"], unique=True,
                    sqlite_where=sa.text("status IN ('queued', 'claimed')"),
                    postgresql_where=sa.text("status IN ('queued', 'claimed')"))


def downgrade() -> None:
    op.drop_index("uq_work_items_live", "work_items")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS segments_no_overlap_insert")
        op.execute("DROP TRIGGER IF EXISTS segments_no_overlap_update")
    else:
        op.execute("ALTER TABLE segments DROP CONSTRAINT IF EXISTS ex_segments_no_overlap")
