"""The store's schema. Labels and predictions are append-only rows, so a correction never erases history."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from emotrace.core.vocab import (
    DIMENSIONS,
    SCALE,
    FileStatus,
    LabelOrigin,
    PredictionKind,
    RaterKind,
    SegmentOrigin,
    TurnSource,
    sql_in,
)


def _on_scale(column: str) -> str:
    return f"{column} IS NULL OR ({column} >= {SCALE.low} AND {column} <= {SCALE.high})"


DIMENSION_ORIGINS = tuple(o for o in LabelOrigin if o is not LabelOrigin.RETRACTION)


def _dimension_origin(dim: str) -> str:
    return (f"({dim} IS NULL AND {dim}_origin IS NULL) OR "
            f"({dim} IS NOT NULL AND {dim}_origin IS NOT NULL AND {dim}_origin IN ({sql_in(DIMENSION_ORIGINS)}))")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Corpus(Base):
    __tablename__ = "corpora"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    root: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    files: Mapped[list[AudioFile]] = relationship(back_populates="corpus", cascade="all, delete-orphan")


class AudioFile(Base):
    __tablename__ = "audio_files"
    __table_args__ = (
        UniqueConstraint("corpus_id", "fingerprint", name="uq_file_fingerprint"),
        Index("ix_audio_files_corpus_path", "corpus_id", "path"),
        CheckConstraint(f"status IN ({sql_in(FileStatus)})", name="ck_audio_files_status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpora.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    duration: Mapped[float | None] = mapped_column(Float)
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    channels: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=FileStatus.OK)
    error: Mapped[str | None] = mapped_column(Text)
    speaker: Mapped[str | None] = mapped_column(String(100))
    gender: Mapped[str | None] = mapped_column(String(20))
    split: Mapped[str | None] = mapped_column(String(40))
    asr_model: Mapped[str | None] = mapped_column(String(200))
    transcribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    corpus: Mapped[Corpus] = relationship(back_populates="files")
    segments: Mapped[list[Segment]] = relationship(back_populates="file", cascade="all, delete-orphan")


class Segment(Base):
    __tablename__ = "segments"
    __table_args__ = (
        Index("ix_segments_file_start", "file_id", "start"),
        CheckConstraint(f"origin IN ({sql_in(SegmentOrigin)})", name="ck_segments_origin"),
        {"sqlite_autoincrement": True},  # an id is never reused: undo brings a removed segment back as itself
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # Deleting a file cascades to its segments, and stops at the first label (labels.segment_id is RESTRICT).
    file_id: Mapped[int] = mapped_column(ForeignKey("audio_files.id", ondelete="CASCADE"))
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    speaker: Mapped[str | None] = mapped_column(String(100))
    split: Mapped[str | None] = mapped_column(String(40))
    origin: Mapped[str] = mapped_column(String(20))  # core.vocab.SegmentOrigin
    text: Mapped[str | None] = mapped_column(Text)
    # Set when a newer transcript replaced this unit; a labelled segment is kept (and stays trainable).
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    file: Mapped[AudioFile] = relationship(back_populates="segments")


class Word(Base):
    __tablename__ = "words"
    __table_args__ = (Index("ix_words_file_start", "file_id", "start"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("audio_files.id", ondelete="CASCADE"))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="SET NULL"))
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    probability: Mapped[float | None] = mapped_column(Float)
    segment_end: Mapped[bool] = mapped_column(Boolean, default=False)  # the ASR segment ended after this word


class SegmentSource(Base):
    """A segment made by splitting, merging or resizing others names them: a labelled source is kept (superseded)
    and its label is what the editor offers for the new segment; undo brings the sources back."""

    __tablename__ = "segment_sources"
    __table_args__ = (Index("ix_segment_sources_source", "source_id"),)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True)


class WordEdit(Base):
    """A hand correction of an ASR word: append-only (triggers), with the values it replaced. The word row holds
    the corrected values; a re-transcription keeps words that have edits."""

    __tablename__ = "word_edits"
    __table_args__ = (Index("ix_word_edits_word", "word_id", "id"),
                      CheckConstraint('"end" >= start', name="ck_word_edits_span"))
    id: Mapped[int] = mapped_column(primary_key=True)
    word_id: Mapped[int] = mapped_column(ForeignKey("words.id", ondelete="RESTRICT"))
    editor: Mapped[str] = mapped_column(String(100))
    old_text: Mapped[str] = mapped_column(Text)
    old_start: Mapped[float] = mapped_column(Float)
    old_end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Label(Base):
    __tablename__ = "labels"
    __table_args__ = (
        Index("ix_labels_segment_time", "segment_id", "created_at"),
        Index("uq_labels_chain_seq", "chain_seq", unique=True),
        CheckConstraint(f"origin IN ({sql_in(LabelOrigin)})", name="ck_labels_origin"),
        CheckConstraint(_on_scale("arousal"), name="ck_labels_arousal_scale"),
        CheckConstraint(_on_scale("valence"), name="ck_labels_valence_scale"),
        CheckConstraint(_on_scale("dominance"), name="ck_labels_dominance_scale"),
        # A retraction carries no values; every other row carries at least one.
        CheckConstraint(
            f"(origin = '{LabelOrigin.RETRACTION.value}' AND arousal IS NULL AND valence IS NULL AND dominance IS NULL)"
            f" OR (origin <> '{LabelOrigin.RETRACTION.value}' AND retracts_id IS NULL"
            " AND (arousal IS NOT NULL OR valence IS NOT NULL OR dominance IS NOT NULL))",
            name="ck_labels_retraction_shape"),
        # Per dimension, whose value it is (issue 24, migration 0009): NULL exactly where the value is NULL.
        *(CheckConstraint(_dimension_origin(dim), name=f"ck_labels_{dim}_origin") for dim in DIMENSIONS),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # RESTRICT, and triggers that refuse UPDATE and DELETE (migration 0003): a label row is never removed.
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="RESTRICT"))
    annotator: Mapped[str] = mapped_column(String(100))
    arousal: Mapped[float | None] = mapped_column(Float)
    valence: Mapped[float | None] = mapped_column(Float)
    dominance: Mapped[float | None] = mapped_column(Float)
    category: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(20))  # core.vocab.LabelOrigin
    # Per dimension (core.vocab.LabelOrigin): `manual` where the person typed, `accepted` where the model's value stood.
    arousal_origin: Mapped[str | None] = mapped_column(String(20))
    valence_origin: Mapped[str | None] = mapped_column(String(20))
    dominance_origin: Mapped[str | None] = mapped_column(String(20))
    # The row a retraction withdraws (only set on retractions; None on legacy undo rows with nothing to withdraw).
    retracts_id: Mapped[int | None] = mapped_column(ForeignKey("labels.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The hash chain over the store's label history (core/store/label_chain.py, migration 0011): the row's place
    # and sha256(previous hash, this row). NULL only on a row inserted around EmoTrace (`emotrace check` says so).
    chain_seq: Mapped[int | None] = mapped_column(Integer)
    chain_hash: Mapped[str | None] = mapped_column(String(64))


class LabelChain(Base):
    """The head of the label chain: the last row's seq and hash, one row (id 1). Appending labels moves it under a
    lock (core/store/label_chain.py `link`); a label row deleted from the end of the history shows against it."""

    __tablename__ = "label_chain"
    __table_args__ = (CheckConstraint("id = 1", name="ck_label_chain_one_row"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Rater(Base):
    """Who an annotator is (audformat's rater): a person, a model that a person accepted, or a computed consensus.
    An annotator never registered here is a person (an app user); imports register the raters they bring."""

    __tablename__ = "raters"
    __table_args__ = (CheckConstraint(f"kind IN ({sql_in(RaterKind)})", name="ck_raters_kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default=RaterKind.HUMAN)
    source: Mapped[str | None] = mapped_column(String(200))  # e.g. the labels file that brought the rater
    # Blind: this annotator sees neither predictions nor others' labels of a segment until they saved their own.
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RaterWeight(Base):
    """A rater's EWE weight per dimension in one corpus (their correlation with the raters' mean), kept so a
    single correction recomputes only its segment's consensus instead of reweighting the whole corpus."""

    __tablename__ = "rater_weights"
    __table_args__ = (UniqueConstraint("corpus_id", "annotator", name="uq_rater_weights"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpora.id", ondelete="CASCADE"))
    annotator: Mapped[str] = mapped_column(String(100))
    arousal: Mapped[float | None] = mapped_column(Float)
    valence: Mapped[float | None] = mapped_column(Float)
    dominance: Mapped[float | None] = mapped_column(Float)
    segments: Mapped[int] = mapped_column(Integer, default=0)  # how many segments the weight rests on


class AnnotationJob(Base):
    """A named set of segments handed to named annotators, optionally blind."""

    __tablename__ = "annotation_jobs"
    __table_args__ = (UniqueConstraint("corpus_id", "name", name="uq_annotation_jobs_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpora.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    blind: Mapped[bool] = mapped_column(Boolean, default=True)
    overlap: Mapped[int] = mapped_column(Integer, default=1)  # annotators per segment
    selection: Mapped[dict | None] = mapped_column(JSON)  # how the segments were chosen, for the record
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JobAssignment(Base):
    __tablename__ = "job_assignments"
    __table_args__ = (UniqueConstraint("job_id", "segment_id", "annotator", name="uq_job_assignments"),
                      Index("ix_job_assignments_annotator", "annotator"))
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("annotation_jobs.id", ondelete="CASCADE"))
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    annotator: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)  # the order the annotator works in


class ModelVersion(Base):
    __tablename__ = "model_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    folder: Mapped[str] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    metrics: Mapped[dict | None] = mapped_column(JSON)
    config: Mapped[dict | None] = mapped_column(JSON)
    data_counts: Mapped[dict | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=False)


class Prediction(Base):
    __tablename__ = "predictions"
    __table_args__ = (
        Index("ix_predictions_file_model_kind_start", "file_id", "model_version_id", "kind", "start"),
        Index("ix_predictions_segment", "segment_id"),
        CheckConstraint(f"kind IN ({sql_in(PredictionKind)})", name="ck_predictions_kind"),
        CheckConstraint("flag IS NOT NULL OR (arousal IS NOT NULL AND valence IS NOT NULL AND dominance IS NOT NULL)",
                        name="ck_predictions_values_or_flag"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("audio_files.id", ondelete="CASCADE"))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # core.vocab.PredictionKind
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    # None with a flag when the span could not be predicted (no decodable audio under it): never a made-up value.
    arousal: Mapped[float | None] = mapped_column(Float)
    valence: Mapped[float | None] = mapped_column(Float)
    dominance: Mapped[float | None] = mapped_column(Float)
    flag: Mapped[str | None] = mapped_column(String(40))
    # Single-modality outputs of the same model: their disagreement drives the review queue.
    audio_only: Mapped[list | None] = mapped_column(JSON)
    text_only: Mapped[list | None] = mapped_column(JSON)
    # Standard deviation over MC-dropout passes of the heads, averaged over A/V/D (1-7 scale).
    uncertainty: Mapped[float | None] = mapped_column(Float)
    # The trust indicator (core/ser/trust.py): distance from the model's training data over the radius holding 95%
    # of held-out training-domain windows; above 1, outside. None for a model stored without trust statistics.
    trust: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SpeakerTurn(Base):
    """Who speaks when in a file. A change never edits rows: it writes the whole new set as the next revision, so
    every earlier diarization, RTTM import and manual correction stays (history and undo, as for labels)."""

    __tablename__ = "speaker_turns"
    __table_args__ = (
        Index("ix_speaker_turns_file_revision", "file_id", "revision", "start"),
        CheckConstraint(f"source IN ({sql_in(TurnSource)})", name="ck_speaker_turns_source"),
        CheckConstraint('"end" > start', name="ck_speaker_turns_span"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("audio_files.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    speaker: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(20))  # core.vocab.TurnSource
    note: Mapped[str | None] = mapped_column(Text)  # what the revision did ("diarization, 2 speakers", "undo")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Trace(Base):
    """One pass of continuous tracing: an annotator, one dimension, one file, a sample rate and a scale.
    Re-tracing a stretch is a new pass (the newest pass wins where it has samples); passes are never removed."""

    __tablename__ = "traces"
    __table_args__ = (
        Index("ix_traces_file", "file_id", "annotator", "dimension"),
        CheckConstraint(f"dimension IN ({sql_in(DIMENSIONS)})", name="ck_traces_dimension"),
        CheckConstraint("rate > 0 AND rate <= 100", name="ck_traces_rate"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("audio_files.id", ondelete="RESTRICT"))
    annotator: Mapped[str] = mapped_column(String(100))
    dimension: Mapped[str] = mapped_column(String(20))
    pass_no: Mapped[int] = mapped_column(Integer)
    rate: Mapped[float] = mapped_column(Float)  # samples per second of audio
    scale_low: Mapped[float] = mapped_column(Float)
    scale_high: Mapped[float] = mapped_column(Float)
    # the model version whose trajectory the pass started from (model-assisted tracing); None for a free trace
    assisted_by: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TraceSample(Base):
    """One value of a pass at one audio time. Only what the annotator set is stored: where a model-assisted
    pass has no sample, the model's trajectory stands, marked as the model's."""

    __tablename__ = "trace_samples"
    __table_args__ = (Index("ix_trace_samples_trace_t", "trace_id", "t"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    trace_id: Mapped[int] = mapped_column(ForeignKey("traces.id", ondelete="RESTRICT"))
    t: Mapped[float] = mapped_column(Float)
    value: Mapped[float] = mapped_column(Float)


class WorkItem(Base):
    """One file's share of a corpus job, for workers on any machine sharing the store (core/store/queue.py)."""

    __tablename__ = "work_items"
    __table_args__ = (
        Index("ix_work_items_claim", "status", "kind", "id"),
        # one live item per file and kind: two processes cannot both claim a file (migration 0010)
        Index("uq_work_items_live", "kind", "file_id", unique=True, sqlite_where=text("status IN ('queued', 'claimed')"),
              postgresql_where=text("status IN ('queued', 'claimed')")),
        CheckConstraint("status IN ('queued', 'claimed', 'done', 'failed')", name="ck_work_items_status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    batch: Mapped[int] = mapped_column(Integer)  # the jobs row that queued it
    kind: Mapped[str] = mapped_column(String(20))  # transcribe | analyze | diarize
    file_id: Mapped[int] = mapped_column(ForeignKey("audio_files.id", ondelete="CASCADE"))
    params: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    worker: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|done|failed|cancelled|interrupted
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
