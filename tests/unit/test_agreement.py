"""Agreement statistics against published worked examples, and `emotrace agreement` on a store that holds them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emotrace.core.stats.agreement import cohen_kappa, crossed_block, fleiss_kappa, icc, krippendorff_alpha
from tests.helpers import KRIPPENDORFF, SHROUT_FLEISS, agreement_store

# Shrout & Fleiss (1979) and Krippendorff (2011): tests/helpers.py (the agreement dialog's test uses them too).
SHROUT_FLEISS_ICC = {"ICC(1,1)": 0.17, "ICC(2,1)": 0.29, "ICC(3,1)": 0.71,
                     "ICC(1,k)": 0.44, "ICC(2,k)": 0.62, "ICC(3,k)": 0.91}
N = np.nan
# Fleiss' kappa, the 10 subjects x 14 raters x 5 categories example (Wikipedia, after Fleiss 1971): 0.210.
FLEISS = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                   [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])


def test_icc_reproduces_shrout_and_fleiss():
    out = icc(SHROUT_FLEISS)
    for form, expected in SHROUT_FLEISS_ICC.items():
        assert out[form]["icc"] == pytest.approx(expected, abs=0.005), form
    low, high = out["ICC(2,1)"]["ci95"]
    assert low < 0.29 < high and out["ICC(2,1)"]["df1"] == 5
    # ICC is invariant to one linear map of all ratings: the same data put on the 1-7 scale gives the same values
    assert icc(1 + (SHROUT_FLEISS - 1) * 6 / 9)["ICC(2,k)"]["icc"] == out["ICC(2,k)"]["icc"]


def test_krippendorff_alpha_reproduces_the_published_example():
    assert krippendorff_alpha(KRIPPENDORFF, "interval") == pytest.approx(0.849, abs=0.0005)
    assert krippendorff_alpha(KRIPPENDORFF, "nominal") == pytest.approx(0.743, abs=0.0005)


def test_kappas_reproduce_the_published_examples():
    assert fleiss_kappa(FLEISS) == pytest.approx(0.210, abs=0.0005)
    # Cohen's kappa, the 50-item 2x2 example (20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no): 0.4
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-6)


def test_crossed_block_finds_the_complete_raters():
    m = np.array([[1, 2, 3, N], [2, 3, 4, N], [3, 4, 5, 1], [4, 5, 6, N]], float)
    block, raters = crossed_block(m, ["a", "b", "c", "d"])
    assert raters == ["a", "b", "c"] and block.shape == (4, 3)


def test_cli_agreement_reproduces_the_known_values(store, tmp_path, capsys):
    from emotrace.cli.main import main

    agreement_store(store, tmp_path)
    assert main(["--db", store.url, "agreement", "--corpus", "agree", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    arousal, valence = report["dimensions"]["arousal"], report["dimensions"]["valence"]
    assert arousal["icc"]["ICC(2,1)"]["icc"] == pytest.approx(0.29, abs=0.005)
    assert arousal["icc"]["ICC(2,k)"]["icc"] == pytest.approx(0.62, abs=0.005)
    assert arousal["icc"]["block_raters"] == ["A", "B", "C", "D"]
    assert valence["krippendorff_alpha_interval"] == pytest.approx(0.849, abs=0.0005)
    assert report["dimensions"]["dominance"]["icc"] is None
    assert {p["pair"][0] + p["pair"][1] for p in arousal["ccc_pairwise"]} == {"AB", "AC", "AD", "BC", "BD", "CD"}
    assert set(arousal["ccc_rater_vs_others"]) == set("ABCD")
    assert report["categories"]["fleiss_raters"] == 4
    assert {tuple(p["pair"]): p["kappa"] for p in report["categories"]["cohen_pairwise"]}[("A", "B")] == 1.0
    # a split with no segments: an empty report, not an error
    assert main(["--db", store.url, "agreement", "--corpus", "agree", "--split", "Train", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["segments"] == 0
    assert main(["--db", store.url, "agreement", "--corpus", "agree", "--split", "Test1"]) == 0
    text = capsys.readouterr().out
    assert "ICC(2,1) 0.290" in text and "Krippendorff's alpha (interval) 0.849" in text


def test_accepted_predictions_and_consensus_are_not_raters(store, tmp_path):
    from emotrace.core.stats.agreement import agreement_report

    corpus_id = agreement_store(store, tmp_path)
    sid = store.segments.corpus_segments(corpus_id)[0].id
    store.labels.record_label(sid, annotator="model-fan", arousal=4, valence=4, dominance=4, origin="accepted")
    store.labels.compute_consensus(corpus_id)
    report = agreement_report(store, "agree")
    assert report["raters"] == 4


def test_sparse_statistics_equal_the_dense_ones():
    """The report's sparse paths (value counts, co-occurring pairs, leave-one-out sums) give the figures of the
    dense reliability matrix."""
    from emotrace.core.stats.agreement import Ratings, alpha_sparse, pairwise_ccc, rater_vs_others
    from emotrace.core.stats.metrics import ccc

    by_rater = {name: {k: float(KRIPPENDORFF[k, j]) for k in range(12) if not np.isnan(KRIPPENDORFF[k, j])}
                for j, name in enumerate("ABCD")}
    r = Ratings.of(by_rater)
    assert alpha_sparse(r) == pytest.approx(0.849, abs=0.0005)
    assert alpha_sparse(r, "nominal") == pytest.approx(0.743, abs=0.0005)
    pairs, summary = pairwise_ccc(r)
    ab = next(p for p in pairs if p["pair"] == ["A", "B"])
    shared = [k for k in range(12) if not np.isnan(KRIPPENDORFF[k, 0]) and not np.isnan(KRIPPENDORFF[k, 1])]
    assert ab["n"] == len(shared) == 9
    assert ab["ccc"] == pytest.approx(ccc(KRIPPENDORFF[shared, 0], KRIPPENDORFF[shared, 1]), abs=1e-4)
    assert summary["pairs"] == 6
    vs = rater_vs_others(r)
    rows = [k for k in range(12) if not np.isnan(KRIPPENDORFF[k, 2]) and (~np.isnan(np.delete(KRIPPENDORFF[k], 2))).any()]
    others = [np.nanmean(np.delete(KRIPPENDORFF[k], 2)) for k in rows]
    assert vs["C"]["ccc"] == pytest.approx(ccc(KRIPPENDORFF[rows, 2], np.array(others)), abs=1e-4)
