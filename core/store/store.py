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
from core.store.models import AudioFile, Corpus, Job, Label, ModelVersion, Prediction, Segment, Word

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


def alembic_config(url: str) -> Config:
    cfg = Config(str(_HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


class Store:
    """One database. Every public write commits before returning, so nothing a user did waits in memory."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        url = url or default_db_url()
        if "://" not in url:  # a bare path means a SQLite file
            url = f"sqlite:///{Path(url).expanduser().resolve()}"
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreError(f"Not a database URL: {url!r} ({exc})") from exc
        self.url = url
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, future=True)
        if parsed.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._listeners: list[Listener] = []
        if migrate:
            self.migrate()

    # -- schema -------------------------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (an empty database starts at the first)."""
        cfg = alembic_config(self.url)
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except OperationalError as exc:
            raise StoreError(f"Cannot open or migrate the store at {self.url}: {exc.orig}") from exc

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

    # -- per-file queries (time ordered, indexed) -----------------------------------------------
    def segments(self, file_id: int) -> list[Segment]:
        with self.session() as s:
            q = select(Segment).where(Segment.file_id == file_id).order_by(Segment.start)
            return list(s.scalars(q))

    def words(self, file_id: int) -> list[Word]:
        with self.session() as s:
            return list(s.scalars(select(Word).where(Word.file_id == file_id).order_by(Word.start)))

    def predictions(self, file_id: int, model_version_id: int, kind: str = "window") -> list[Prediction]:
        with self.session() as s:
            q = (
                select(Prediction)
                .where(
                    Prediction.file_id == file_id,
                    Prediction.model_version_id == model_version_id,
                    Prediction.kind == kind,
                )
                .order_by(Prediction.start)
            )
            return list(s.scalars(q))

    def latest_labels(self, file_id: int, annotator: str | None = None) -> dict[int, Label]:
        """The newest label of each segment of a file (optionally of one annotator)."""
        with self.session() as s:
            q = (
                select(Label)
                .join(Segment, Segment.id == Label.segment_id)
                .where(Segment.file_id == file_id)
                .order_by(Label.segment_id, Label.created_at, Label.id)
            )
            if annotator:
                q = q.where(Label.annotator == annotator)
            latest: dict[int, Label] = {}
            for label in s.scalars(q):
                latest[label.segment_id] = label
            return latest

    # -- labels ---------------------------------------------------------------------------------
    def add_label(
        self,
        segment_id: int,
        *,
        annotator: str,
        arousal: float | None,
        valence: float | None,
        dominance: float | None,
        category: str | None = None,
        note: str | None = None,
        origin: str = "manual",
    ) -> Label:
        """Append a label row (a correction never overwrites) and commit before returning."""
        for name, value in (("arousal", arousal), ("valence", valence), ("dominance", dominance)):
            if value is not None and not 1.0 <= value <= 7.0:
                raise ValueError(f"{name} {value} is off the 1-7 scale")
        with self.session() as s:
            if s.get(Segment, segment_id) is None:
                raise StoreError(f"No segment with id {segment_id}")
            label = Label(
                segment_id=segment_id, annotator=annotator, arousal=arousal, valence=valence,
                dominance=dominance, category=category, note=note, origin=origin,
            )
            s.add(label)
        self.emit("label_added", segment_id=segment_id, label_id=label.id)
        return label

    def label_history(self, segment_id: int) -> list[Label]:
        with self.session() as s:
            q = select(Label).where(Label.segment_id == segment_id).order_by(Label.created_at, Label.id)
            return list(s.scalars(q))

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

    def job(self, job_id: int) -> Job:
        with self.session() as s:
            return s.get(Job, job_id)

    # -- summaries ------------------------------------------------------------------------------
    def stats(self, corpus_id: int | None = None) -> dict[str, Any]:
        with self.session() as s:
            def count(model, *where):
                return s.scalar(select(func.count()).select_from(model).where(*where)) or 0

            file_filter = [AudioFile.corpus_id == corpus_id] if corpus_id else []
            file_ids = select(AudioFile.id).where(*file_filter)
            seg_ids = select(Segment.id).where(Segment.file_id.in_(file_ids))
            return {
                "files": count(AudioFile, *file_filter),
                "files_ok": count(AudioFile, AudioFile.status == "ok", *file_filter),
                "files_failed": count(AudioFile, AudioFile.status == "error", *file_filter),
                "hours": round((s.scalar(select(func.sum(AudioFile.duration)).where(*file_filter)) or 0) / 3600, 3),
                "segments": count(Segment, Segment.file_id.in_(file_ids)),
                "labelled_segments": s.scalar(
                    select(func.count(func.distinct(Label.segment_id))).where(Label.segment_id.in_(seg_ids))
                ) or 0,
                "labels": count(Label, Label.segment_id.in_(seg_ids)),
                "words": count(Word, Word.file_id.in_(file_ids)),
                "transcribed_files": count(AudioFile, AudioFile.transcribed_at.is_not(None), *file_filter),
                "predictions": count(Prediction, Prediction.file_id.in_(file_ids)),
                "model_versions": count(ModelVersion),
            }
