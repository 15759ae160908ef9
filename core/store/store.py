"""Open a store, migrate it, and give short-lived sessions; plain callbacks let views observe changes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.paths import default_db_url
from core.store.annotations import AnnotationRepository
from core.store.assignments import AssignmentRepository
from core.store.models import AudioFile, Corpus, Job, Label, ModelVersion, Prediction, Segment, Word
from core.store.queue import WorkQueue
from core.store.raters import RaterRepository
from core.store.speakers import SpeakerRepository
from core.store.traces import TraceRepository
from core.vocab import FileStatus

_HERE = Path(__file__).parent

Listener = Callable[[str, dict[str, Any]], None]


class StoreError(RuntimeError):
    """A store that cannot be opened or migrated; the message says why in the user's terms."""


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _sqlite_file(parsed) -> Path | None:
    """The file behind a SQLite URL whose folder we may create; None for memory and `file:` URI forms, whose
    database part is not a path (creating it would make a literal `file:` folder)."""
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:") or str(parsed.query.get("uri", "")).lower() in ("true", "1"):
        return None
    return Path(parsed.database)


@event.listens_for(Session, "before_flush")
def _labels_are_never_deleted(session: Session, _context, _instances) -> None:
    """The ORM's half of the guard (the database's half is RESTRICT and triggers): no cascade removes a label."""
    doomed = [obj for obj in session.deleted if isinstance(obj, Label)]
    if doomed:
        raise StoreError(f"refusing to delete {len(doomed)} label(s): labels are append-only")


def alembic_config(url: str) -> Config:
    cfg = Config(str(_HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


class Store(AnnotationRepository, RaterRepository, AssignmentRepository, SpeakerRepository, TraceRepository,
            WorkQueue):
    """One database. Every public write commits before returning, and its event fires after the commit, so
    nothing a user did waits in memory and no view redraws from data that might still roll back."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        url = url or default_db_url()
        if "://" not in url:  # a bare path means a SQLite file
            url = f"sqlite:///{Path(url).expanduser().resolve()}"
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreError(f"Not a database URL: {url!r} ({exc})") from exc
        self.url = url
        if _sqlite_file(parsed) is not None:
            _sqlite_file(parsed).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, future=True)
        if parsed.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._listeners: list[Listener] = []
        if migrate:
            self.migrate()

    # -- schema -------------------------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (an empty database starts at the first).

        On SQLite the migrations run with foreign keys off: Alembic rebuilds a table to change a constraint, and
        dropping the old table with foreign keys on would cascade into the labels that point at it.
        """
        cfg = alembic_config(self.url)
        known = {rev.revision for rev in ScriptDirectory.from_config(cfg).walk_revisions()}
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

    def _display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def schema_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @staticmethod
    def head_revision() -> str:
        return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()

    # -- sessions and events --------------------------------------------------------------------
    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any error."""
        with self._sessions() as session:
            try:
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

    def close(self) -> None:
        self.engine.dispose()

    # -- corpora and files ----------------------------------------------------------------------
    def corpus(self, name: str, *, create: bool = False, root: str | None = None) -> Corpus:
        with self.session() as s:
            corpus = s.scalar(select(Corpus).where(Corpus.name == name))
            if corpus is None:
                if not create:
                    known = ", ".join(s.scalars(select(Corpus.name))) or "none yet"
                    raise StoreError(f"No corpus named {name!r} (known: {known})")
                corpus = Corpus(name=name, root=root)
                s.add(corpus)
                s.flush()
                created = True
            else:
                created = False
        if created:
            self.emit("corpus_added", corpus_id=corpus.id)
        return corpus

    def corpora(self) -> list[Corpus]:
        with self.session() as s:
            return list(s.scalars(select(Corpus).order_by(Corpus.name)))

    def files(self, corpus_id: int, *, status: str | None = None) -> list[AudioFile]:
        with self.session() as s:
            q = select(AudioFile).where(AudioFile.corpus_id == corpus_id)
            if status:
                q = q.where(AudioFile.status == status)
            return list(s.scalars(q.order_by(AudioFile.path)))

    def file(self, file_id: int) -> AudioFile:
        with self.session() as s:
            f = s.get(AudioFile, file_id)
            if f is None:
                raise StoreError(f"No audio file with id {file_id}")
            return f

    def set_file_metadata(self, file_id: int, *, speaker: str | None, gender: str | None, split: str | None) -> None:
        """Speaker, gender and split of a file, as a labels CSV gives them (one value per file in MSP-Podcast)."""
        with self.session() as s:
            f = s.get(AudioFile, file_id)
            f.speaker, f.gender, f.split = speaker, gender, split

    # -- words ----------------------------------------------------------------------------------------
    def words(self, file_id: int) -> list[Word]:
        with self.session() as s:
            return list(s.scalars(select(Word).where(Word.file_id == file_id).order_by(Word.start)))

    # -- models ---------------------------------------------------------------------------------
    def active_model(self) -> ModelVersion | None:
        with self.session() as s:
            return s.scalar(select(ModelVersion).where(ModelVersion.active.is_(True)))

    def model_versions(self) -> list[ModelVersion]:
        with self.session() as s:
            return list(s.scalars(select(ModelVersion).order_by(ModelVersion.id)))

    def model_version(self, ref: int | str) -> ModelVersion:
        with self.session() as s:
            if isinstance(ref, int) or str(ref).isdigit():
                mv = s.get(ModelVersion, int(ref))
            else:
                mv = s.scalar(select(ModelVersion).where(ModelVersion.name == ref).order_by(ModelVersion.id.desc()))
            if mv is None:
                raise StoreError(f"No model version {ref!r}; `emotrace models list` shows them")
            return mv

    def activate_model(self, model_version_id: int) -> None:
        with self.session() as s:
            target = s.get(ModelVersion, model_version_id)
            if target is None:
                raise StoreError(f"No model version {model_version_id}")
            for mv in s.scalars(select(ModelVersion).where(ModelVersion.active.is_(True))):
                mv.active = False
            target.active = True
        self.emit("model_activated", model_version_id=model_version_id)

    # -- jobs -----------------------------------------------------------------------------------
    def start_job(self, kind: str, params: dict | None = None) -> int:
        with self.session() as s:
            job = Job(kind=kind, params=params or {}, status="running")
            s.add(job)
            s.flush()
            return job.id

    def update_job(self, job_id: int, **fields: Any) -> None:
        with self.session() as s:
            job = s.get(Job, job_id)
            for key, value in fields.items():
                setattr(job, key, value)

    # -- summaries ------------------------------------------------------------------------------
    def stats(self, corpus_id: int | None = None) -> dict[str, Any]:
        with self.session() as s:
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
        out["labelled_segments"] = len({c.segment_id for c in self.current_labels(corpus_id=corpus_id or None)})
        out["label_rows"] = out.pop("labels")  # every row of history, retractions included
        return out
