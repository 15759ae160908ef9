"""The store on PostgreSQL (a team's shared store): same migrations, import, labels and queries as on SQLite.

Runs against the throwaway server that scripts/test.sh (or tests/postgres/conftest.py) starts; skipped only where
the machine has no PostgreSQL server installed.
"""


import pytest

from tests.postgres.conftest import throwaway_pg_database


@pytest.fixture
def pg_store():
    from emotrace.core.store import Store

    with throwaway_pg_database() as url:
        store = Store(url)
        yield store
        store.close()


def test_migrations_import_labels_and_queries_on_postgres(pg_store, audio_dir, tmp_path):
    from emotrace.core.formats.label_tables import export_msp
    from emotrace.core.workflows.importing import import_folder
    from emotrace.core.workflows.review import review_queue
    from emotrace.gui.state.viewdata import corpus_table, load_file_data

    store = pg_store
    assert store.engine.dialect.name == "postgresql"
    assert store.schema_revision() == store.head_revision()
    report = import_folder(store, audio_dir, "c")
    assert (report.added, report.labels_added, report.problems) == (6, 6, 0)
    again = import_folder(store, audio_dir, "c")
    assert (again.added, again.labels_added) == (0, 0)
    corpus_id = store.corpora.corpus("c").id
    rows = corpus_table(store, corpus_id)
    assert len(rows) == 6 and all(r["segments"] == 1 and r["labelled"] == 1 for r in rows)
    f = store.corpora.files(corpus_id)[0]
    seg = store.segments.segments(f.id)[0]
    store.labels.record_label(seg.id, annotator="anna", arousal=6.5, valence=2.0, dominance=3.0, note="louder than it looks")
    data = load_file_data(store, f.id)
    assert data.segment_label(seg.id).values == (6.5, 2.0, 3.0)
    assert [h.origin for h in store.labels.label_history(seg.id)] == ["imported", "manual"]
    assert store.stats(corpus_id)["label_rows"] == 7
    assert review_queue(store, corpus_id, model_version_id=1) == []
    out = tmp_path / "msp.csv"
    assert export_msp(store, "c", out) == 6


def test_training_registers_a_version_on_postgres(pg_store, tmp_path):
    from emotrace.core.workflows.importing import import_folder
    from emotrace.training.trainer import TrainConfig, train
    from tests.conftest import labelled_corpus

    import_folder(pg_store, labelled_corpus(tmp_path / "gen"), "gen")
    result = train(pg_store, TrainConfig(corpus="gen", epochs=3, device="cpu"))
    active = pg_store.models.active_model()
    assert active.id == result.model_version_id and active.metrics["ccc"].keys() == {"arousal", "valence", "dominance"}
