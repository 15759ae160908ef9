"""Open a store, migrate it, and hand its repositories one `Database`; plain callbacks let views observe changes.

`Store` composes the repositories, each an attribute (`store.labels.record_label(...)`), and keeps only what is
about the whole store: opening, migrating, closing, events and the summary counts."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from emotrace.core.paths import default_db_url
from emotrace.core.store.append_only import create_triggers, missing_triggers
from emotrace.core.store.assignments import AssignmentRepository
from emotrace.core.store.corpora import CorpusRepository
from emotrace.core.store.database import Database, Listener, StoreError
from emotrace.core.store.integrity import CheckReport, check_store, quick_check
from emotrace.core.store.jobs import JobRepository
from emotrace.core.store.labels import LabelRepository
from emotrace.core.store.model_versions import ModelRepository
from emotrace.core.store.models import AudioFile, Label, ModelVersion, Prediction, Segment, Word
from emotrace.core.store.predictions import PredictionRepository
from emotrace.core.store.queue import WorkQueue
from emotrace.core.store.raters import RaterRepository
from emotrace.core.store.segments import SegmentRepository
from emotrace.core.store.speakers import SpeakerRepository
from emotrace.core.store.traces import TraceRepository
from emotrace.core.store.words import WordRepository
from emotrace.core.vocab import FileStatus

_HERE = Path(__file__).parent

__all__ = ["Listener", "Store", "StoreError", "alembic_config"]


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _sqlite_read_only_pragmas(dbapi_conn, _record) -> None:
    """A store opened read-only: no journal-mode switch (that is a write), and no write can slip through."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA query_only=ON")
    cur.close()


def _needs_read_only(path: Path) -> bool:
    """An existing SQLite file in a folder (or as a file) we may not write: WAL mode must create `-shm` and
    `-wal` next to it, so a normal open fails even for reading."""
    if not path.is_file():
        return False
    return not (os.access(path.parent, os.W_OK) and os.access(path, os.W_OK))


def _sqlite_file(parsed) -> Path | None:
    """The file behind a SQLite URL whose folder we may create; None for memory and `file:` URI forms, whose
    database part is not a path (creating it would make a literal `file:` folder)."""
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:") or str(parsed.query.get("uri", "")).lower() in ("true", "1"):
        return None
    return Path(parsed.database)


def alembic_config(url: str) -> Config:
    cfg = Config(str(_HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


class Store:
    """One database and its repositories. Every public write commits before returning, and its event fires after
    the commit, so nothing a user did waits in memory and no view redraws from data that might still roll back.

    corpora      corpora and their audio files (and an import's batch of them)
    words        ASR words (written per ASR segment) and their corrections
    segments     a file's units: added, superseded, split, merged, resized
    raters       registered raters, blindness, EWE weights
    labels       labels, the current-label rule, imports of labels, the computed consensus
    predictions  each model version's trajectory and segment values
    speakers     speaker turns as revisions
    traces       continuous traces and their means as labels
    assignments  annotation jobs and who is given which segment
    queue        the work queue of files per job kind
    models       model versions and the active one
    jobs         job rows of imports, transcriptions, analyses, trainings
    db           the engine, sessions and listeners the repositories share
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True, repair_triggers: bool = True) -> None:
        url = url or default_db_url()
        if "://" not in url:  # a bare path means a SQLite file
            url = f"sqlite:///{Path(url).expanduser().resolve()}"
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreError(f"Not a database URL: {url!r} ({exc})") from exc
        except ImportError as exc:
            raise StoreError(f"Cannot open the store {url!r}: {exc}") from exc
        self.url = url
        self.read_only = False
        self.notice = ""  # something the user should know about how the store was opened
        sqlite_path = _sqlite_file(parsed)
        if sqlite_path is not None and _needs_read_only(sqlite_path):
            engine = self._open_read_only(sqlite_path)
        else:
            if sqlite_path is not None:
                self._refuse_foreign_sqlite(sqlite_path)  # before any pragma: WAL would rewrite its header
                sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            engine = self._create_engine(url)
            if parsed.get_backend_name() == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
        self.engine = engine
        self.db = db = Database(engine, url, read_only=self.read_only)
        self.corpora = CorpusRepository(db)
        self.words = WordRepository(db)
        self.segments = SegmentRepository(db)
        self.raters = RaterRepository(db)
        self.labels = LabelRepository(db, self.raters, self.segments)
        self.predictions = PredictionRepository(db)
        self.speakers = SpeakerRepository(db)
        self.traces = TraceRepository(db, self.segments, self.labels)
        self.assignments = AssignmentRepository(db)
        self.queue = WorkQueue(db)
        self.models = ModelRepository(db)
        self.jobs = JobRepository(db)
        if self.read_only:
            self._check_read_only_schema()
            self._guard_history(repair_triggers=False)  # reads only: a read-only store still says it is not whole
        elif migrate:
            self.migrate()
            self.jobs.mark_interrupted_jobs()
            self._guard_history(repair_triggers)

    def _guard_history(self, repair_triggers: bool) -> None:
        """On opening: re-create append-only triggers someone dropped (and say so), and the cheap check of the label
        chain (a row count and the last rows, about a millisecond; bench/README.md). A problem goes into `notice`,
        which every front end shows; `emotrace check` names the rows."""
        notes = []
        with self.engine.connect() as conn:
            missing = missing_triggers(conn)
            conn.rollback()
            if missing and repair_triggers:
                with conn.begin():
                    create_triggers(conn, missing)
                notes.append(f"the append-only trigger(s) {', '.join(t.name for t in missing)} were missing (dropped "
                             "by hand?) and were re-created; run `emotrace check`")
            elif missing:
                notes.append(f"the append-only trigger(s) {', '.join(t.name for t in missing)} are missing")
            broken = quick_check(conn)
        if broken:
            notes.append(f"the label history is not whole ({broken}); run `emotrace check`")
        if notes:
            self.notice = "; ".join(([self.notice] if self.notice else []) + notes)

    def check(self, *, repair_triggers: bool = False) -> CheckReport:
        """Is the store whole: the database's own checks, foreign keys, the append-only triggers and the label
        chain, one line per problem (`emotrace check`). Never changes a label row or a hash."""
        return check_store(self.engine, repair_triggers=repair_triggers)

    def _refuse_foreign_sqlite(self, path: Path) -> None:
        """An existing SQLite file that is not an EmoTrace store (a browser's history, say), or one written by a
        newer EmoTrace, is refused here, read through a read-only connection, before the engine's pragmas (WAL
        mode rewrites the file header) or a migration could change a byte of it."""
        if not path.is_file() or path.stat().st_size == 0:
            return
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        except sqlite3.Error:
            return  # not readable as SQLite at all: the engine says so in its own words
        try:
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            revision = (con.execute("SELECT version_num FROM alembic_version").fetchone() or [None])[0] \
                if "alembic_version" in tables else None
        except sqlite3.Error:
            return
        finally:
            con.close()
        if tables and "alembic_version" not in tables:
            shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise StoreError(f"{path} is a SQLite database but not an EmoTrace store (its tables: {shown}); "
                             "nothing was changed. Give a new file name for a new store.")
        if revision is not None and revision not in self.known_revisions():
            raise StoreError(f"The store at {path} was written by a newer EmoTrace (schema revision {revision!r}; this "
                             f"version knows up to {self.head_revision()!r}). Upgrade EmoTrace to open it; nothing "
                             "was changed.")

    def _create_engine(self, url: str) -> Engine:
        """An engine, or one line when the URL names a dialect or driver that is not installed."""
        try:
            return create_engine(url, future=True)
        except (ArgumentError, ImportError) as exc:
            backend = url.split("://", 1)[0]
            raise StoreError(f"Cannot open the store {self._display_url()}: the database driver for {backend!r} is "
                             f"not available ({type(exc).__name__}: {exc}). Use a SQLite path or "
                             "postgresql+psycopg://...") from exc

    def _open_read_only(self, path: Path) -> Engine:
        """Read what is there without writing anything: `mode=ro` when SQLite can share the WAL index, else
        `immutable=1` (no locks at all, so changes other processes make meanwhile are not seen)."""
        self.read_only = True
        for query, note in (("mode=ro", ""), ("immutable=1", "; changes others make while it is open are not seen")):
            engine = create_engine(f"sqlite:///file:{path}?{query}&uri=true", future=True)
            event.listen(engine, "connect", _sqlite_read_only_pragmas)
            try:
                with engine.connect() as conn:
                    conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").all()
            except SQLAlchemyError:
                engine.dispose()
                continue
            self.notice = (f"the store {path} is in a folder (or a file) that cannot be written: opened read-only, "
                           f"nothing can be saved{note}")
            return engine
        raise StoreError(f"Cannot open the store at {path}: it cannot be written, and not even read as read-only")

    def _check_read_only_schema(self) -> None:
        try:
            current = self.schema_revision()
        except SQLAlchemyError as exc:
            raise StoreError(f"Cannot read the store at {self._display_url()}: {getattr(exc, 'orig', exc)}") from exc
        if current != self.head_revision():
            raise StoreError(f"The store at {self._display_url()} is read-only and its schema ({current!r}) is not "
                             f"this EmoTrace's ({self.head_revision()!r}); it cannot be upgraded without write access")

    # -- schema -------------------------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (an empty database starts at the first).

        On SQLite the migrations run with foreign keys off: Alembic rebuilds a table to change a constraint, and
        dropping the old table with foreign keys on would cascade into the labels that point at it.
        """
        cfg = alembic_config(self.url)
        known = self.known_revisions()
        try:
            with self.engine.connect() as conn:
                current = MigrationContext.configure(conn).get_current_revision()
                if current is not None and current not in known:
                    raise StoreError(
                        f"The store at {self._display_url()} was written by a newer EmoTrace (schema revision "
                        f"{current!r}; this version knows up to {self.head_revision()!r}). Upgrade EmoTrace to open "
                        "it; nothing was changed.")
                conn.rollback()
                sqlite = conn.dialect.name == "sqlite"
                if sqlite:
                    conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                    conn.commit()
                try:
                    with conn.begin():
                        cfg.attributes["connection"] = conn
                        command.upgrade(cfg, "head")
                        if sqlite:
                            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                            if broken:
                                raise StoreError(f"migration left {len(broken)} dangling references; rolled back")
                finally:
                    if sqlite:
                        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                        conn.commit()
        except OperationalError as exc:
            raise StoreError(f"Cannot open or migrate the store at {self._display_url()}: {exc.orig}") from exc
        except SQLAlchemyError as exc:  # "file is not a database", a server that refuses the login, ...
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise StoreError(f"Cannot open the store at {self._display_url()}: {reason}") from exc

    def _display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def schema_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @staticmethod
    def known_revisions() -> set[str]:
        """Every schema revision this EmoTrace has a migration for (a store at any other was written by a newer one)."""
        return {rev.revision for rev in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()}

    @staticmethod
    def head_revision() -> str:
        return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()

    # -- events ---------------------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Hear every repository's events (`what`, info) after their commits; returns the unsubscribe."""
        return self.db.subscribe(listener)

    def emit(self, what: str, **info: Any) -> None:
        """Tell the listeners about a change that spans repositories (a whole import or analysis run)."""
        self.db.emit(what, **info)

    def close(self) -> None:
        self.engine.dispose()

    # -- summaries ------------------------------------------------------------------------------
    def stats(self, corpus_id: int | None = None) -> dict[str, Any]:
        with self.db.session() as s:
            def count(model, *where):
                return s.scalar(select(func.count()).select_from(model).where(*where)) or 0

            file_filter = [AudioFile.corpus_id == corpus_id] if corpus_id else []
            file_ids = select(AudioFile.id).where(*file_filter)
            seg_ids = select(Segment.id).where(Segment.file_id.in_(file_ids))
            out = {
                "files": count(AudioFile, *file_filter),
                "files_ok": count(AudioFile, AudioFile.status == FileStatus.OK, *file_filter),
                "files_failed": count(AudioFile, AudioFile.status == FileStatus.ERROR, *file_filter),
                "files_replaced": count(AudioFile, AudioFile.status == FileStatus.REPLACED, *file_filter),
                "hours": round((s.scalar(select(func.sum(AudioFile.duration)).where(*file_filter)) or 0) / 3600, 3),
                "segments": count(Segment, Segment.file_id.in_(file_ids)),
                "labelled_segments": None,
                "labels": count(Label, Label.segment_id.in_(seg_ids)),
                "words": count(Word, Word.file_id.in_(file_ids)),
                "transcribed_files": count(AudioFile, AudioFile.transcribed_at.is_not(None), *file_filter),
                "predictions": count(Prediction, Prediction.file_id.in_(file_ids)),
                "model_versions": count(ModelVersion),
            }
        out["labelled_segments"] = len({c.segment_id for c in self.labels.current_labels(corpus_id=corpus_id or None)})
        out["label_rows"] = out.pop("labels")  # every row of history, retractions included
        active = self.models.active_model()
        corpora = [corpus_id] if corpus_id else [c.id for c in self.corpora.corpora()]
        # analysed by the active model, but a current segment has no prediction of it (segments changed since)
        out["stale_files"] = sum(len(self.predictions.stale_files(c, active.id)) for c in corpora) if active else 0
        return out
