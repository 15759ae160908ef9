"""Raters as MSP-Podcast defines them: labels_detailed.csv in, consensus computed (mean, EWE), kept in step with
corrections, and both files back out. Real SQLite stores; the migration is checked on a 0003 store (on
PostgreSQL too: tests/postgres; the Annotators dock: tests/gui/test_annotator_lanes.py)."""

from __future__ import annotations

import csv
import os

import numpy as np
import pytest

from emotrace.core.stats.consensus import ewe, ewe_weights, plurality
from emotrace.core.vocab import ConsensusMethod, LabelOrigin, RaterKind
from tests.helpers import WORKERS, check_migration_from_0003, msp_corpus


def _read(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_detailed_import_makes_raters_and_the_stated_consensus(store, tmp_path):
    from emotrace.core.workflows.importing import import_folder

    truth = msp_corpus(tmp_path / "msp")
    report = import_folder(store, tmp_path / "msp", "msp")
    assert report.problems == 0, report.summary()
    corpus_id = store.corpora.corpus("msp").id
    kinds = store.raters.rater_kinds()
    assert kinds["consensus"] is RaterKind.COMPUTED
    assert {w for w in WORKERS if w in kinds} and all(kinds[w] is RaterKind.HUMAN for w in WORKERS if w in kinds)
    files = {os.path.basename(f.path): f.id for f in store.corpora.files(corpus_id)}
    mean = store.labels.segment_labels(corpus_id=corpus_id, annotator=ConsensusMethod.MEAN.annotator)
    seg_of = {s.file_id: s.id for s in store.segments.corpus_segments(corpus_id)}
    for name, expected in truth.items():
        got = mean[seg_of[files[name]]]
        np.testing.assert_allclose(got.values, expected, atol=1e-4)
        assert got.origin is LabelOrigin.COMPUTED
    ewe_labels = store.labels.segment_labels(corpus_id=corpus_id, annotator=ConsensusMethod.EWE.annotator)
    assert len(ewe_labels) == len(truth)
    weights = store.raters.rater_weights(corpus_id)
    assert weights["WORKER00008"][0] < np.mean([w[0] for n, w in weights.items() if n != "WORKER00008"])
    # the default views (training, the editor) see neither consensus twice nor a computed row as a rater
    assert not any(c.origin is LabelOrigin.COMPUTED for c in store.labels.current_labels(corpus_id=corpus_id))
    assert {c.annotator for c in store.labels.human_labels(corpus_id=corpus_id)} <= set(WORKERS)


def test_detailed_and_consensus_export_back(store, tmp_path):
    from emotrace.core.formats.label_tables import export_msp, export_msp_detailed
    from emotrace.core.workflows.importing import import_folder

    msp_corpus(tmp_path / "msp")
    import_folder(store, tmp_path / "msp", "msp")
    out = tmp_path / "detailed.csv"
    n = export_msp_detailed(store, "msp", out)

    def key(rows):
        return sorted((os.path.basename(r["FileName"]), r["WorkerID"], r["EmoClass"],
                       *(float(r[c]) if r[c] else None for c in ("EmoAct", "EmoVal", "EmoDom"))) for r in rows)

    source = _read(tmp_path / "msp" / "Labels" / "labels_detailed.csv")
    assert n == len(source) and key(_read(out)) == key(source)
    out = tmp_path / "consensus.csv"
    export_msp(store, "msp", out, annotator="consensus")
    source = _read(tmp_path / "msp" / "Labels" / "labels_consensus.csv")
    cols = ("EmoAct", "EmoVal", "EmoDom")
    assert sorted((os.path.basename(r["FileName"]), r["SpkrID"], r["Split_Set"], *(float(r[c]) for c in cols))
                  for r in _read(out)) == sorted((r["FileName"], r["SpkrID"], r["Split_Set"],
                                                  *(float(r[c]) for c in cols)) for r in source)
    export_msp(store, "msp", out, annotator=ConsensusMethod.MEAN.annotator)
    mean = {os.path.basename(r["FileName"]): [float(r[c]) for c in cols] for r in _read(out)}
    np.testing.assert_allclose([mean[r["FileName"]] for r in source], [[float(r[c]) for c in cols] for r in source],
                               atol=1e-4)


def test_consensus_follows_a_raters_correction_and_its_undo(store, tmp_path):
    from emotrace.core.store import LabelError
    from emotrace.core.workflows.importing import import_folder

    msp_corpus(tmp_path / "msp")
    import_folder(store, tmp_path / "msp", "msp")
    corpus_id = store.corpora.corpus("msp").id
    seg = store.segments.corpus_segments(corpus_id)[1]
    raters = store.labels.human_labels(segment_ids=[seg.id])
    before = store.labels.segment_labels(segment_ids=[seg.id], annotator="consensus:mean")[seg.id].values
    first = raters[0]
    fixed = store.labels.record_label(seg.id, annotator=first.annotator, arousal=7.0, valence=first.values[1],
                                      dominance=first.values[2])
    after = store.labels.segment_labels(segment_ids=[seg.id], annotator="consensus:mean")[seg.id].values
    expected = np.mean([7.0 if c.annotator == first.annotator else c.values[0] for c in raters])
    assert after[0] == pytest.approx(expected, abs=1e-4) and after[1:] == before[1:]
    ewe_history = [h for h in store.labels.label_history(seg.id) if h.annotator == "consensus:ewe"]
    assert len(ewe_history) == 2 and all(h.origin is LabelOrigin.COMPUTED for h in ewe_history)
    store.labels.retract_label(fixed.id, annotator=first.annotator)  # undo: back to the imported judgement
    assert store.labels.segment_labels(segment_ids=[seg.id], annotator="consensus:mean")[seg.id].values == before
    # a model prediction a rater accepts is not a judgement: the consensus is the others' mean, not pulled to 1
    store.labels.record_label(seg.id, annotator=first.annotator, arousal=1, valence=1, dominance=1, origin="accepted")
    others = np.mean([c.values[0] for c in raters if c.annotator != first.annotator])
    assert store.labels.segment_labels(segment_ids=[seg.id], annotator="consensus:mean")[seg.id].values[0] == \
        pytest.approx(others, abs=1e-4)
    with pytest.raises(LabelError, match="computed consensus"):
        store.labels.record_label(seg.id, annotator="consensus:mean", arousal=4, valence=4, dominance=4)
    consensus_row = store.labels.current_labels(segment_ids=[seg.id], annotator="consensus:mean")[0]
    with pytest.raises(LabelError, match="follows its raters"):
        store.labels.retract_label(consensus_row.label_id, annotator="consensus:mean")
    assert store.labels.compute_consensus(corpus_id, reweight=False) == 0  # nothing changed: no new rows


def test_ewe_and_plurality_rules():
    # identical raters: every weight 1, EWE = mean
    ratings = {s: {"a": float(s), "b": float(s), "c": float(s)} for s in range(1, 6)}
    w = ewe_weights(ratings)
    assert w == pytest.approx({"a": 1.0, "b": 1.0, "c": 1.0})
    assert ewe({"a": 2.0, "b": 4.0}, w) == pytest.approx(3.0)
    # a rater running against the others gets weight 0 and drops out of the EWE
    ratings = {s: {"a": float(s), "b": float(s) + 0.5, "c": 7.0 - s} for s in range(1, 6)}
    w = ewe_weights(ratings)
    assert w["c"] == 0.0 and w["a"] > 0.5
    assert ewe({"a": 2.0, "b": 2.0, "c": 6.0}, w) == pytest.approx(2.0)
    # too few segments: no weight of its own, counts like the average rater
    assert ewe_weights({1: {"a": 3.0}, 2: {"a": 4.0}})["a"] is None
    assert ewe({"a": 2.0, "new": 4.0}, {"a": 0.5}) == pytest.approx(3.0)
    assert plurality(["N", "H", "N"]) == "N" and plurality(["N", "H"]) == "X" and plurality([None, ""]) is None


def test_migration_from_0003_keeps_every_label_and_the_triggers(tmp_path):
    check_migration_from_0003(f"sqlite:///{tmp_path / 'old.sqlite'}")


def test_latest_rule_takes_the_consensus_until_a_correction(store, tmp_path):
    """The default label of a segment with raters (what training, review and the editor see): their mean
    consensus, not the last-imported rater's row; a correction in the app supersedes it; its undo restores it."""
    from emotrace.core.workflows.importing import import_folder

    truth = msp_corpus(tmp_path / "msp", files=4)
    import_folder(store, tmp_path / "msp", "msp")
    corpus_id = store.corpora.corpus("msp").id
    seg = store.segments.corpus_segments(corpus_id)[0]
    name = os.path.basename(store.corpora.file(seg.file_id).path)
    label = store.labels.segment_labels(segment_ids=[seg.id])[seg.id]
    assert label.annotators == ("consensus:mean",)
    np.testing.assert_allclose(label.values, truth[name], atol=1e-4)
    fixed = store.labels.record_label(seg.id, annotator="tester", arousal=6.5, valence=2, dominance=3)
    assert store.labels.segment_labels(segment_ids=[seg.id])[seg.id].values == (6.5, 2.0, 3.0)
    store.labels.retract_label(fixed.id, annotator="tester")
    assert store.labels.segment_labels(segment_ids=[seg.id])[seg.id].annotators == ("consensus:mean",)
    # the MEAN rule never counts the computed rows (they would count the raters twice)
    mean = store.labels.segment_labels(segment_ids=[seg.id], rule="mean")[seg.id]
    assert not any(a.startswith("consensus:") for a in mean.annotators)


def test_file_view_shows_the_same_standing_label(store, tmp_path):
    from emotrace.core.workflows.importing import import_folder
    from emotrace.gui.state.viewdata import load_file_data

    msp_corpus(tmp_path / "msp", files=3)
    import_folder(store, tmp_path / "msp", "msp")
    seg = store.segments.corpus_segments(store.corpora.corpus("msp").id)[2]
    data = load_file_data(store, seg.file_id)
    assert data.segment_label(seg.id) == store.labels.segment_labels(segment_ids=[seg.id])[seg.id]
    assert data.segment_label(seg.id).annotators == ("consensus:mean",)
