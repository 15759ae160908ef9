"""Per-dimension provenance of a label (issue 24, item 1): a dimension the person typed is theirs (`manual`), one
left at the model's value is `accepted`. Training (unless --include-accepted), agreement and a person's export
tiers read only the human values; exports write the accepted ones under the model-assisted rater. Real SQLite."""

from __future__ import annotations

import csv

import pytest

from emotrace.core.formats.batch import import_annotation_file
from emotrace.core.formats.elan import export_eaf
from emotrace.core.formats.label_tables import export_segments
from emotrace.core.formats.textgrid import export_textgrid
from emotrace.core.stats.agreement import annotator_agreement
from emotrace.core.store import LabelError
from emotrace.core.vocab import LabelOrigin
from emotrace.training.data import load_examples

M, ACC = LabelOrigin.MANUAL, LabelOrigin.ACCEPTED


@pytest.fixture
def mixed(populated):
    """alice's imported labels on 0-10 and 10-20 s; tester typed arousal and accepted the model's valence and
    dominance on both."""
    store, file_id, _mv = populated
    segs = store.segments.segments(file_id)
    for seg, a in zip(segs[:2], (6.0, 2.0)):
        store.labels.record_label(seg.id, annotator="tester", arousal=a, valence=4.0, dominance=4.0,
                                  origin=M, origins=(M, ACC, ACC))
    return store, file_id, segs


def test_origins_are_stored_per_dimension_and_checked(mixed):
    store, _f, segs = mixed
    row = [h for h in store.labels.label_history(segs[0].id) if h.annotator == "tester"][-1]
    assert (row.origin, row.origins) == (M, (M, ACC, ACC))
    imported = [h for h in store.labels.label_history(segs[0].id) if h.annotator == "alice"][-1]
    assert imported.origins == (LabelOrigin.IMPORTED,) * 3  # without origins: the row's, per value
    with pytest.raises(LabelError, match="valence"):
        store.labels.record_label(segs[0].id, annotator="tester", arousal=5.0, valence=None, dominance=None,
                                  origins=(M, ACC, None))
    partial = store.labels.record_label(segs[2].id, annotator="tester", arousal=5.0, valence=None, dominance=None)
    assert partial.origins == (M, None, None)


def test_only_human_values_count_unless_accepted_are_asked_for(mixed):
    store, _f, segs = mixed
    human = {c.segment_id: c.values for c in store.labels.current_labels(include_accepted=False)
             if c.annotator == "tester"}
    assert human == {segs[0].id: (6.0, None, None), segs[1].id: (2.0, None, None)}
    [pair] = [p for p in annotator_agreement(store, store.corpora.corpus("c").id) if p["pair"] == ("alice", "tester")]
    assert pair["ccc"]["arousal"] is not None and pair["ccc"]["valence"] is None and pair["ccc"]["dominance"] is None
    # training: tester's accepted valence/dominance are not targets; alice's human values fill them per dimension
    by_default = {e.segment_id: e.label for e in load_examples(store, "c", annotator="tester")}
    assert by_default == {}  # tester alone has no complete human label
    with_accepted = {e.segment_id: e.label for e in load_examples(store, "c", annotator="tester", include_accepted=True)}
    assert with_accepted == {segs[0].id: (6.0, 4.0, 4.0), segs[1].id: (2.0, 4.0, 4.0)}


def test_exports_keep_accepted_values_off_the_persons_tiers(mixed, tmp_path):
    import pympi
    from praatio import textgrid

    store, file_id, segs = mixed
    export_eaf(store, file_id, tmp_path / "talk.eaf")
    eaf = pympi.Elan.Eaf(str(tmp_path / "talk.eaf"))
    tiers = {name: sorted(v for *_t, v in eaf.get_annotation_data_for_tier(name)) for name in eaf.get_tier_names()}
    assert tiers["tester/arousal"] == ["2", "6"]
    assert "tester/valence" not in tiers and "tester/dominance" not in tiers
    assert tiers["tester (accepted)/valence"] == ["4", "4"] and "tester (accepted)/arousal" not in tiers
    export_textgrid(store, file_id, tmp_path / "talk.TextGrid")
    tg = textgrid.openTextgrid(str(tmp_path / "talk.TextGrid"), includeEmptyIntervals=False)
    assert "tester/valence" not in tg.tierNames and "tester (accepted)/dominance" in tg.tierNames
    rows_before = sum(len(store.labels.label_history(s.id)) for s in segs)
    report = import_annotation_file(store, "c", tmp_path / "talk.eaf")  # the same labels again: nothing to add
    assert "tester (accepted)/valence" not in report.skipped_tiers
    assert "tester (accepted)" not in store.raters.rater_kinds()
    assert sum(len(store.labels.label_history(s.id)) for s in store.segments.segments(file_id)) == rows_before
    export_segments(store, "c", tmp_path / "seg.csv")
    with open(tmp_path / "seg.csv", newline="") as fh:
        first = next(csv.DictReader(fh))
    assert (first["arousal_origin"], first["valence_origin"], first["dominance_origin"]) == ("manual", "accepted",
                                                                                             "accepted")


def test_the_notebook_api_says_whose_each_value_is(mixed):
    from emotrace import labels

    store, _f, segs = mixed
    human = labels(store, "c")
    tester = human[human.annotator == "tester"]
    assert tester["arousal"].tolist() == [6.0, 2.0] and tester["valence"].isna().all()
    assert tester["arousal_origin"].tolist() == ["manual", "manual"] and tester["valence_origin"].isna().all()
    every = labels(store, "c", include_accepted=True)
    assert every[every.annotator == "tester"]["valence_origin"].tolist() == ["accepted", "accepted"]


def test_an_import_that_leaves_a_dimension_open_keeps_whose_value_it_was(mixed):
    """An import only adds: where a row leaves a dimension open, the person's current value stands, and so does
    whose it is. Carrying tester's accepted valence into the new row as `imported` would turn the model's value
    into a human judgement."""
    from emotrace.core.store import LabelSpec

    store, file_id, segs = mixed
    store.labels.import_labels([LabelSpec(file_id, segs[0].start, segs[0].end, "tester", (None, None, 5.0))])
    row = [h for h in store.labels.label_history(segs[0].id) if h.annotator == "tester"][-1]
    assert row.values == (6.0, 4.0, 5.0)
    assert row.origins == (M, ACC, LabelOrigin.IMPORTED)
    human = {c.segment_id: c.values for c in store.labels.current_labels(include_accepted=False)
             if c.annotator == "tester"}
    assert human[segs[0].id] == (6.0, None, 5.0)


@pytest.mark.parametrize("fmt", ["eaf", "TextGrid"])
def test_accepted_values_round_trip_as_accepted_never_as_a_persons(mixed, tmp_path, fmt):
    """ELAN and TextGrid carry a person's accepted values on `NAME (accepted)/DIM` tiers: read back into another
    store they are that person's accepted values again (model-assisted), never their human judgement, and never a
    rater of their own."""
    from emotrace.core.store import Store
    from emotrace.core.workflows.importing import import_folder

    store, file_id, segs = mixed
    out = tmp_path / f"talk.{fmt}"
    (export_eaf if fmt == "eaf" else export_textgrid)(store, file_id, out)
    other = Store(f"sqlite:///{tmp_path / 'other.sqlite'}")
    import_folder(other, tmp_path / "c", "c")  # the same audio (and alice's and bob's labels.csv)
    import_annotation_file(other, "c", out)

    def tester(s):
        bounds = {g.id: (round(g.start, 3), round(g.end, 3)) for g in s.segments.segments(
            s.corpora.files(s.corpora.corpus("c").id)[0].id)}
        return {bounds[c.segment_id]: (c.values, c.origins)
                for c in s.labels.current_labels(include_accepted=True) if c.annotator == "tester"}

    def kinds(origins):
        return tuple(None if o is None else o.rater_kind for o in origins)

    mine, theirs = tester(store), tester(other)
    assert theirs.keys() == mine.keys() and len(mine) == 2
    for key, (values, origins) in mine.items():
        assert theirs[key][0] == values and kinds(theirs[key][1]) == kinds(origins)
    assert "tester (accepted)" not in other.raters.rater_kinds()
    human = {c.values for c in other.labels.current_labels(include_accepted=False) if c.annotator == "tester"}
    assert human == {(6.0, None, None), (2.0, None, None)}
