from sqlalchemy import inspect, text

from emotrace.core.store import AudioFile, Segment, Store


def test_migrates_empty_database_to_head(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'new.sqlite'}")
    assert store.schema_revision() == Store.head_revision()
    tables = set(inspect(store.engine).get_table_names())
    assert {"corpora", "audio_files", "segments", "words", "labels", "predictions", "model_versions", "jobs"} <= tables
    indexes = {ix["name"] for ix in inspect(store.engine).get_indexes("segments")}
    assert "ix_segments_file_start" in indexes


def test_sqlite_uses_wal_and_foreign_keys(store):
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_bare_path_is_a_sqlite_file(tmp_path):
    store = Store(str(tmp_path / "plain.sqlite"))
    store.corpora.corpus("x", create=True)
    assert (tmp_path / "plain.sqlite").stat().st_size > 0


def _one_segment(store) -> tuple[int, int]:
    """A corpus with one 3 s file and one segment: (segment id, file id)."""
    corpus = store.corpora.corpus("c", create=True)
    with store.db.session() as s:
        f = AudioFile(corpus_id=corpus.id, path="/x.wav", fingerprint="ab", duration=3.0)
        s.add(f)
        s.flush()
        seg = Segment(file_id=f.id, start=0, end=3, origin="imported")
        s.add(seg)
        s.flush()
        return seg.id, f.id


def test_corrections_append_and_history_stays(store):
    seg_id, file_id = _one_segment(store)
    store.labels.record_label(seg_id, annotator="ann", arousal=3, valence=4, dominance=5)
    store.labels.record_label(seg_id, annotator="ann", arousal=6, valence=4, dominance=5)
    history = store.labels.label_history(seg_id)
    assert [h.values[0] for h in history] == [3, 6]
    assert store.labels.segment_labels(file_id=file_id)[seg_id].values[0] == 6


def test_label_off_scale_is_refused_and_not_written(store):
    import pytest

    seg_id, _file_id = _one_segment(store)
    with pytest.raises(ValueError, match="off the 1-7 scale"):
        store.labels.record_label(seg_id, annotator="a", arousal=8, valence=4, dominance=4)
    assert store.labels.label_history(seg_id) == []


def test_unknown_corpus_error_lists_known(store):
    import pytest

    from emotrace.core.store import StoreError

    store.corpora.corpus("alpha", create=True)
    with pytest.raises(StoreError, match="alpha"):
        store.corpora.corpus("beta")


def test_upgrade_from_the_first_schema_keeps_data(tmp_path):
    """A store made by an older EmoTrace (revision 0001) is upgraded in place when opened, rows intact."""
    from alembic import command

    from emotrace.core.store.store import alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = Store(url, migrate=False)
    cfg = alembic_config(url)
    with old.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("INSERT INTO corpora (name, created_at) VALUES ('kept', '2026-01-01')"))
    assert old.schema_revision() == "0001"
    old.close()
    store = Store(url)
    assert store.schema_revision() == Store.head_revision() != "0001"
    assert [c.name for c in store.corpora.corpora()] == ["kept"]
    assert "uncertainty" in {c["name"] for c in inspect(store.engine).get_columns("predictions")}
