"""Segment edits on PostgreSQL: a split offers the label, its undo revives the segment, ids are never reused,
word corrections are append-only (on SQLite: tests/unit/test_segment_edits.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from emotrace.core.store import Store
from tests.helpers import file_with_words, ids_survive_undo, live
from tests.postgres.conftest import throwaway_pg_database


def test_segment_edits_on_postgresql(tmp_path):
    with throwaway_pg_database() as url:
        store = Store(url)
        try:
            fid = file_with_words(store, tmp_path)
            seg = live(store, fid)[0]
            store.labels.record_label(seg.id, annotator="ann", arousal=6.0, valence=2.0, dominance=5.0)
            edit = store.segments.split_segment(seg.id, 4.0)
            assert store.labels.source_label(edit.added[0], annotator="ann").values == (6.0, 2.0, 5.0)
            store.segments.edit_segments(**edit.inverse())
            assert store.segments.segment(seg.id).superseded_at is None
            ids_survive_undo(store, fid)  # on a sequence, ids are never reused either
            w = store.words.words(fid)[0]
            store.words.edit_word(w.id, editor="ann", text="hello")
            with store.db.session() as s, pytest.raises(Exception, match="append-only"):
                s.execute(text("DELETE FROM word_edits"))
        finally:
            store.engine.dispose()
