"""The label history as a hash chain, like an audit log: the one rule of a label row's hash, linking new rows
onto the chain, and verifying it.

Every label row carries `chain_seq` (1, 2, 3, ... in the order rows were appended to the store) and
`chain_hash` = sha256 of the previous row's hash, a newline, and the row's canonical serialisation (`canonical`):
JSON with sorted keys of `seq` and the fields of `CHAIN_FIELDS`, floats written as `repr(float(x))`,
`created_at` as UTC ISO with microseconds, and NULL fields left out (so a nullable column added later keeps
the hashes of the rows that predate it). The first row's previous hash is `GENESIS`. The `label_chain` table
holds the head (the last seq and hash), so a row deleted from the end is noticed too.

Triggers refuse UPDATE and DELETE on labels; the chain makes a change made with the triggers dropped visible:
a deleted row is a gap in `chain_seq`, an edited row no longer matches its hash. Whoever can write the file
can also recompute every hash after an edit; the chain shows mistakes and casual tampering, not a determined
attacker with write access (that would need the head signed or kept elsewhere).

Concurrency: `link` takes the head under a write lock before reading it (PostgreSQL: an `UPDATE ... RETURNING`
of the head row, which locks it and, after waiting for another writer, returns its committed head; SQLite: an
UPDATE of the head row first, which takes the database's write lock before the read), so two processes
appending at once queue instead of forking the chain; `chain_seq` is unique as well.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from emotrace.core.errors import StoreError
from emotrace.core.store.models import Label, utcnow

# The label columns the hash covers, in one tuple: a column added to labels that is part of a judgement is
# added here (and, if its rows predate migration 0011 with values, that migration or its own recomputes).
CHAIN_FIELDS: tuple[str, ...] = (
    "segment_id", "annotator", "arousal", "valence", "dominance", "category", "note", "origin", "retracts_id",
    "created_at", "arousal_origin", "valence_origin", "dominance_origin",
)
_FLOATS = frozenset({"arousal", "valence", "dominance"})
GENESIS = "0" * 64

# Plain SQL, compiled once: a save runs these on every label (bench/README.md has what they cost).
_TAKE_HEAD = text("UPDATE label_chain SET seq = seq WHERE id = 1")
_TAKE_HEAD_RETURNING = text("UPDATE label_chain SET seq = seq WHERE id = 1 RETURNING seq, hash")
_READ_HEAD = text("SELECT seq, hash FROM label_chain WHERE id = 1")
_MOVE_HEAD = text("UPDATE label_chain SET seq = :seq, hash = :hash WHERE id = 1")


def utc(value: datetime) -> datetime:
    """A stored time as the aware UTC time it is (SQLite hands back naive UTC; PostgreSQL the session's zone)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _plain(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, Enum):
        value = value.value
    if name in _FLOATS:
        return repr(float(value))
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value if isinstance(value, bool) else str(value)
    return int(value) if float(value).is_integer() else repr(float(value))


def canonical(seq: int, fields: Mapping[str, Any]) -> str:
    """The row as the hash sees it (see the module's docstring)."""
    out: dict[str, Any] = {"seq": int(seq)}
    for name in CHAIN_FIELDS:
        value = fields.get(name)
        if value is not None:
            out[name] = _plain(name, value)
    return json.dumps(out, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(prev_hash: str, seq: int, fields: Mapping[str, Any]) -> str:
    """The one rule of a label row's hash: the previous row's hash, then the row."""
    return hashlib.sha256(f"{prev_hash}\n{canonical(seq, fields)}".encode()).hexdigest()


def link(session: Session, labels: Sequence[Label]) -> None:
    """Give new (not yet flushed) label rows their place on the chain and move the head, in the caller's
    transaction. Only `LabelRepository._append` calls this; the ORM guard in database.py refuses a label
    flushed without it."""
    if not labels:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":  # the row lock first; after a wait it returns the committed head
        row = conn.execute(_TAKE_HEAD_RETURNING).one_or_none()
    else:  # the write lock first (legacy pysqlite runs a SELECT outside a transaction): then the head is current
        conn.execute(_TAKE_HEAD)
        row = conn.execute(_READ_HEAD).one_or_none()
    if row is None:
        raise StoreError("the label chain has no head row (label_chain); the store was changed by hand. "
                         "Run `emotrace check`")
    seq, prev = row
    for label in labels:
        label.created_at = utc(label.created_at) if label.created_at is not None else utcnow()
        seq += 1
        label.chain_seq = seq
        label.chain_hash = prev = row_hash(prev, seq, {name: getattr(label, name) for name in CHAIN_FIELDS})
    conn.execute(_MOVE_HEAD, {"seq": seq, "hash": prev})


@dataclass(frozen=True)
class ChainRow:
    id: int
    seq: int | None
    hash: str | None
    fields: Mapping[str, Any]

    def who(self) -> str:
        return (f"label id {self.id} (annotator {self.fields.get('annotator')!r}, "
                f"segment {self.fields.get('segment_id')}, seq {self.seq})")


def verify(rows: Iterable[ChainRow], head: tuple[int, str] | None) -> list[str]:
    """One line per break, the first broken row first. `rows` in chain order (seq ascending, unchained rows
    last). After a break the walk goes on from the broken row's own hash, so one edit or one deleted run of
    rows is one line, not every row after it."""
    problems: list[str] = []
    prev, expected = GENESIS, 1
    last: ChainRow | None = None
    for row in rows:
        if row.seq is None or row.hash is None:
            problems.append(f"{row.who()}: not on the chain (no hash): inserted around EmoTrace")
            continue
        if row.seq > expected:
            gap = f"row {expected}" if row.seq == expected + 1 else f"rows {expected}-{row.seq - 1}"
            problems.append(f"{row.who()}: chain {gap} missing before it (deleted)")
        elif row.seq < expected:
            problems.append(f"{row.who()}: seq repeats an earlier row's (the chain forked or a row was copied)")
        elif row_hash(prev, row.seq, row.fields) != row.hash:
            problems.append(f"{row.who()}: content changed (its fields no longer match its hash, or the row "
                            "before it was rewritten)")
        prev, expected, last = row.hash, max(expected, row.seq + 1), row
    if head is None:
        problems.append("the chain's head (table label_chain) is missing")
    elif head[0] > expected - 1:
        gap = f"row {head[0]}" if head[0] == expected else f"rows {expected}-{head[0]}"
        after = f" after {last.who()}" if last else ""
        problems.append(f"chain {gap} missing at the end{after} (deleted)")
    elif head[0] < expected - 1 or head[1] != prev:
        problems.append(f"the chain's head (seq {head[0]}) does not match its last row (seq {expected - 1})")
    return problems
