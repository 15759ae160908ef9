"""Annotation files in: one validated interval/sample model (emotrace.core.formats.interchange) for every
importer, imports that only add, and bounded reading. Real SQLite stores, real files through the real readers."""

from __future__ import annotations

import pytest

from emotrace.core.store import LabelSpec
from tests.conftest import write_audio


@pytest.fixture
def talk(store, tmp_path):
    from emotrace.core.workflows.importing import import_folder

    write_audio(tmp_path / "c" / "talk.wav", 20.0)
    import_folder(store, tmp_path / "c", "c")
    return store, store.corpora.files(store.corpora.corpus("c").id)[0]


def _current(store, annotator="alice"):
    return sorted((c.values, c.category) for c in store.labels.current_labels(corpus_id=store.corpora.corpus("c").id,
                                                                         annotator=annotator))


def test_a_value_missing_from_an_import_is_not_a_retraction(talk):
    """An edited table without alice's arousal used to clear her arousal: an import only adds."""
    store, f = talk
    store.labels.import_labels([LabelSpec(f.id, 1.0, 3.0, "alice", (5.0, 4.0, 3.0), "H")])
    assert store.labels.import_labels([LabelSpec(f.id, 1.0, 3.0, "alice", (None, 6.0, None))]) == (0, 1)
    assert _current(store) == [((5.0, 6.0, 3.0), "H")]
    assert store.labels.import_labels([LabelSpec(f.id, 1.0, 3.0, "alice", (None, 6.0, None))]) == (0, 0)  # nothing new


def test_a_renamed_textgrid_tier_leaves_the_other_dimensions(talk, tmp_path):
    from praatio import textgrid

    from emotrace.core.formats.batch import import_annotation_file

    store, f = talk
    store.labels.import_labels([LabelSpec(f.id, 1.0, 3.0, "alice", (5.0, 4.0, 3.0))])
    tg = textgrid.Textgrid()
    tg.addTier(textgrid.IntervalTier("alice/valence", [(1.0, 3.0, "2")], 0, 20.0))
    tg.addTier(textgrid.IntervalTier("alice/arousal-renamed", [(1.0, 3.0, "7")], 0, 20.0))
    tg.save(str(tmp_path / "talk.TextGrid"), format="short_textgrid", includeBlankSpaces=True)
    import_annotation_file(store, "c", tmp_path / "talk.TextGrid")
    assert _current(store) == [((5.0, 2.0, 3.0), None)]


def test_one_ms_intervals_land_on_their_own_segments(talk, tmp_path):
    """Segments 1 ms long used to match their neighbours within the 1 ms tolerance: a re-import added labels."""
    store, f = talk
    specs = [LabelSpec(f.id, 1.0 + k / 1000, 1.001 + k / 1000, "alice", (1.0 + k % 7, 4.0, 4.0)) for k in range(20)]
    assert store.labels.import_labels(specs) == (20, 20)
    assert store.labels.import_labels(specs) == (0, 0)
    got = {(round(s.start, 3), round(s.end, 3)) for s in store.segments.segments(f.id)}
    assert len(got) == 20
