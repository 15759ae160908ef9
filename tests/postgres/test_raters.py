"""Raters and their consensus on PostgreSQL: an MSP-style import, the computed consensus, the origin check."""

from __future__ import annotations

import pytest

from tests.helpers import msp_corpus
from tests.postgres.conftest import throwaway_pg_database


def test_raters_and_consensus_on_postgres(tmp_path):
    from sqlalchemy import text

    from emotrace.core.store import Store
    from emotrace.core.workflows.importing import import_folder

    with throwaway_pg_database() as url:
        store = Store(url)
        assert store.schema_revision() == store.head_revision()
        truth = msp_corpus(tmp_path / "msp", files=6)
        assert import_folder(store, tmp_path / "msp", "msp").problems == 0
        corpus_id = store.corpora.corpus("msp").id
        mean = store.labels.segment_labels(corpus_id=corpus_id, annotator="consensus:mean")
        assert sorted(round(m.values[0], 4) for m in mean.values()) == sorted(round(t[0], 4) for t in truth.values())
        with pytest.raises(Exception, match="ck_labels_origin"), store.engine.begin() as conn:
            conn.execute(text("INSERT INTO labels (segment_id, annotator, arousal, arousal_origin, origin, created_at) "
                              "VALUES (1, 'x', 3, 'manual', 'typed', now())"))
        store.close()
