"""One open database as the repositories see it: the engine, short-lived sessions, and the events views observe.

`Store` opens and migrates it and hands this object to every repository; nothing outside core/store opens a
session (tests/test_store_boundary.py checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from emotrace.core.errors import StoreError
from emotrace.core.store.models import Label

Listener = Callable[[str, dict[str, Any]], None]


@event.listens_for(Session, "before_flush")
def _labels_are_never_deleted(session: Session, _context, _instances) -> None:
    """The ORM's half of the guard (the database's half is RESTRICT and triggers): no cascade removes a label,
    and no label is added without its place on the hash chain."""
    doomed = [obj for obj in session.deleted if isinstance(obj, Label)]
    if doomed:
        raise StoreError(f"refusing to delete {len(doomed)} label(s): labels are append-only")
    unlinked = [obj for obj in session.new if isinstance(obj, Label) and obj.chain_hash is None]
    if unlinked:  # a bug, not a user's error: every label goes through LabelRepository._append
        raise StoreError(f"refusing to add {len(unlinked)} label(s) off the hash chain (LabelRepository._append)")


class Database:
    """The engine, a session factory and the listeners of one store. Every repository's write commits before it
    returns and emits its event after the commit, so no view redraws from data that might still roll back."""

    def __init__(self, engine: Engine, url: str, *, read_only: bool = False) -> None:
        self.engine = engine
        self.url = url
        self.read_only = read_only
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._listeners: list[Listener] = []

    @contextmanager
    def session(self, *, immediate: bool = False) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any error. `immediate` takes SQLite's write lock
        before the first read (`BEGIN IMMEDIATE`), so what the work checks cannot change before it writes
        (pysqlite otherwise reads outside any transaction and begins only at the first write)."""
        with self._sessions() as session:
            try:
                if immediate and self.engine.dialect.name == "sqlite":
                    session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def emit(self, what: str, **info: Any) -> None:
        for listener in list(self._listeners):
            listener(what, info)


class Repository:
    """A repository of the store: it reads and writes through the one `Database` it is given."""

    def __init__(self, db: Database) -> None:
        self._db = db
