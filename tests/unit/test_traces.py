"""Continuous traces: passes written in committed chunks, the newest pass winning where it re-traced, means
over segments as labels of origin `trace`, lag-searched agreement, and CARMA / NOVA files, on a real store."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError, IntegrityError

from emotrace.core.formats.traces import read_carma_csv, read_nova, write_carma_csv, write_nova
from emotrace.core.stats.traces import lagged_agreement
from emotrace.training.data import load_examples


def test_passes_chunks_and_the_newest_pass_wins(store, traced_file):
    fid = traced_file
    first = store.traces.start_trace(fid, annotator="ann", dimension="arousal", rate=10)
    t = np.arange(0, 30, 0.1)
    for k in range(0, len(t), 10):  # one committed chunk per second, as the app writes them
        store.traces.append_trace(first, t[k:k + 10], np.full(len(t[k:k + 10]), 3.0))
    second = store.traces.start_trace(fid, annotator="ann", dimension="arousal", rate=10)
    store.traces.append_trace(second, np.arange(10, 15, 0.1), np.full(50, 6.0))  # re-trace 10-15 s
    ct, cv = store.traces.current_trace(fid, "ann", "arousal")
    assert np.allclose(cv[(ct >= 10) & (ct < 14.95)], 6.0) and np.allclose(cv[ct < 9.9], 3.0)
    assert np.allclose(cv[ct > 15.1], 3.0) and len(ct) == 300  # 50 old samples replaced by 50 new ones
    passes = store.traces.trace_passes(fid, "ann", "arousal")
    assert [(p.pass_no, p.samples) for p in passes] == [(1, 300), (2, 50)]  # the first pass is all still there
    with pytest.raises((IntegrityError, DatabaseError)):
        with store.db.session() as s:
            s.execute(text("DELETE FROM trace_samples"))
    with pytest.raises(ValueError, match="scale"):
        store.traces.append_trace(second, [16.0], [9.0])


def test_trace_means_become_trace_labels_and_training_targets(store, traced_file):
    fid = traced_file
    tid = store.traces.start_trace(fid, annotator="ann", dimension="arousal", rate=10)
    t = np.arange(0, 30, 0.1)
    store.traces.append_trace(tid, t, np.where(t < 10, 2.0, np.where(t < 20, 5.0, 6.5)))
    tid = store.traces.start_trace(fid, annotator="ann", dimension="valence", rate=10)
    store.traces.append_trace(tid, t, np.full(len(t), 3.0))
    assert store.traces.trace_labels(fid) == (0, 3)
    assert store.traces.trace_labels(fid) == (0, 0)  # nothing changed: nothing added
    current = {(c.segment_id, c.annotator): (c.values, c.origin) for c in store.labels.current_labels(file_id=fid)}
    traced = sorted(v for (sid, ann), v in current.items() if ann == "ann (trace)")
    assert [values for values, _ in traced] == [(2.0, 3.0, None), (5.0, 3.0, None), (6.5, 3.0, None)]
    assert all(origin == "trace" for _, origin in traced)
    labels = {e.label for e in load_examples(store, "c")}
    assert labels == {(4.0, 4.0, 4.0)}  # segment labels only by default
    both = sorted(e.label for e in load_examples(store, "c", targets="both"))
    assert both == [(2.0, 3.0, 4.0), (5.0, 3.0, 4.0), (6.5, 3.0, 4.0)]  # per dimension, the newest that has it
    assert load_examples(store, "c", targets="traces") == []  # dominance was never traced


def test_lag_search_finds_the_annotators_delay():
    t = np.arange(0, 120, 0.1)
    signal = 4 + 2 * np.sin(2 * np.pi * t / 17) + np.sin(2 * np.pi * t / 5.3)
    delayed = np.interp(t - 2.0, t, signal)  # the annotator follows the audio 2 s late
    res = lagged_agreement((t, signal), (t, delayed))
    assert res.best_lag == pytest.approx(2.0, abs=0.11) and res.ccc_at_best_lag > 0.99 and res.ccc < 0.9
    assert res.icc21 is not None and res.icc21 < 0.9
    same = lagged_agreement((t, signal), (t, signal + 0.01))
    assert same.icc21 > 0.99 and same.icc31 > 0.99 and same.best_lag == 0.0


def test_carma_and_nova_round_trip(tmp_path):
    t = np.round(np.arange(0, 20, 0.1), 3)
    v = 4 + 2.5 * np.sin(t)
    write_carma_csv(tmp_path / "a.csv", t, v)
    rt, rv = read_carma_csv(tmp_path / "a.csv")
    assert np.allclose(rt, t) and np.allclose(rv, v, atol=1e-3)
    assert float(open(tmp_path / "a.csv").read().splitlines()[1].split(",")[1]) == pytest.approx(0.0, abs=1e-3)
    header = write_nova(tmp_path / "a", t, v, annotator="ann", dimension="arousal", rate=10, duration=20.0)
    nt, nv, meta = read_nova(header)
    assert meta["sr"] == "10" and meta["type"] == "CONTINUOUS" and meta["annotator"] == "ann"
    assert np.allclose(nt, t[: len(nt)], atol=1e-6) and np.allclose(nv, v[: len(nv)], atol=1e-4) and len(nt) >= 199
