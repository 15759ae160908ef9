"""The label domain: one rule for a segment's current label, seen the same by every consumer; nothing deletes a
label (not a cascade, not re-transcription, not re-import); accepted predictions stay the model's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError, IntegrityError

from emotrace.core.formats.label_tables import export_msp, export_segments
from emotrace.core.stats.agreement import annotator_agreement
from emotrace.core.store import AudioFile, Corpus, LabelError, ModelVersion, PredictionRow, SegmentSpec, Store, StoreError
from emotrace.core.store.annotations import combine
from emotrace.core.vocab import SCALE, LabelOrigin
from emotrace.core.workflows.importing import import_folder
from emotrace.core.workflows.review import review_queue
from emotrace.gui.state.viewdata import load_file_data
from emotrace.training.data import load_examples
from tests.conftest import write_audio
from tests.helpers import check_migrated_from_0002, csv_rows, fill_0002, store_at_0002

ANNOTATORS = ["ann", "bob", "cy"]
N_FILES, SEGS_PER_FILE = 2, 2


# -- the reference model: a few lines that say what "current" means -------------------------------------
class Reference:
    """Per (segment, annotator): rows as written; a retraction withdraws one of them."""

    def __init__(self) -> None:
        self.rows: dict[tuple[int, str], list[dict]] = {}
        self.counter = 0

    def write(self, seg: int, ann: str, values, origin: str) -> None:
        self.counter += 1
        self.rows.setdefault((seg, ann), []).append({"order": self.counter, "values": values, "origin": origin,
                                                     "withdrawn": False})

    def standing(self, seg: int, ann: str) -> dict | None:
        rows = [r for r in self.rows.get((seg, ann), []) if not r["withdrawn"]]
        return rows[-1] if rows else None

    def retract(self, seg: int, ann: str) -> bool:
        row = self.standing(seg, ann)
        if row is None:
            return False
        row["withdrawn"] = True
        return True

    def current(self, human_only: bool = False) -> dict[tuple[int, str], dict]:
        out = {}
        for (seg, ann) in self.rows:
            row = self.standing(seg, ann)
            if row is not None and not (human_only and row["origin"] == "accepted"):
                out[(seg, ann)] = row
        return out

    def segment_value(self, human_only: bool = False) -> dict[int, tuple]:
        """ConsensusRule.LATEST: the newest current row over annotators."""
        best: dict[int, dict] = {}
        for (seg, _ann), row in self.current(human_only).items():
            if seg not in best or row["order"] > best[seg]["order"]:
                best[seg] = row
        return {seg: row["values"] for seg, row in best.items()}


values_st = st.tuples(*[st.sampled_from([1.0, 2.5, 4.0, 5.25, 7.0])] * 3)
op_st = st.one_of(
    st.tuples(st.just("record"), st.sampled_from(ANNOTATORS), st.integers(0, N_FILES * SEGS_PER_FILE - 1), values_st),
    st.tuples(st.just("accept"), st.sampled_from(ANNOTATORS), st.integers(0, N_FILES * SEGS_PER_FILE - 1), values_st),
    st.tuples(st.just("undo"), st.sampled_from(ANNOTATORS), st.integers(0, N_FILES * SEGS_PER_FILE - 1), st.none()),
)


def _corpus_with_segments(store: Store, tmp: Path, name: str, audio: Path) -> tuple[int, list[int], int]:
    """A corpus of two real files with two segments each, a model version and its segment predictions."""
    with store.db.session() as s:
        corpus = Corpus(name=name, root=str(tmp))
        s.add(corpus)
        s.flush()
        files = []
        for k in range(N_FILES):
            f = AudioFile(corpus_id=corpus.id, path=str(audio), fingerprint=f"{name}-{k}", duration=4.0)
            s.add(f)
            s.flush()
            files.append(f.id)
        mv = ModelVersion(name=f"m-{name}", folder=str(tmp / "none"))
        s.add(mv)
        s.flush()
        corpus_id, mv_id = corpus.id, mv.id
    seg_ids = []
    for fid in files:
        ids = store.segments.add_segments(fid, [SegmentSpec(0.0, 2.0, "manual", "hello"), SegmentSpec(2.0, 4.0, "manual")])
        store.predictions.replace_predictions(fid, mv_id, [PredictionRow(sid, "segment", 0.0, 2.0, (4.0, 4.0, 4.0))
                                                           for sid in ids])
        seg_ids += ids
    return corpus_id, seg_ids, mv_id


def test_every_consumer_sees_the_same_current_labels(tmp_path):
    """Random record / accept / undo sequences by several annotators, checked against the reference model
    through the file view, the review queue, agreement, both exports and the trainer's examples."""
    store = Store(f"sqlite:///{tmp_path / 'prop.sqlite'}")
    audio = write_audio(tmp_path / "a.wav", 4.0)
    runs = iter(range(10_000))

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(op_st, min_size=1, max_size=25))
    def check(ops):
        name = f"c{next(runs)}"
        corpus_id, seg_ids, mv = _corpus_with_segments(store, tmp_path, name, audio)
        ref = Reference()
        for kind, ann, k, values in ops:
            sid = seg_ids[k]
            if kind == "undo":
                standing = [c for c in store.labels.current_labels(segment_ids=[sid], annotator=ann)]
                assert bool(standing) == (ref.standing(sid, ann) is not None)
                if standing:
                    store.labels.retract_label(standing[0].label_id, annotator=ann)
                    ref.retract(sid, ann)
                continue
            origin = LabelOrigin.ACCEPTED if kind == "accept" else LabelOrigin.MANUAL
            store.labels.record_label(sid, annotator=ann, arousal=values[0], valence=values[1], dominance=values[2],
                                      origin=origin)
            ref.write(sid, ann, values, origin.value)

        expected_all = ref.segment_value()
        expected_human = ref.segment_value(human_only=True)
        # the store itself
        assert {(c.segment_id, c.annotator): c.values for c in store.labels.current_labels(corpus_id=corpus_id)} == {
            key: row["values"] for key, row in ref.current().items()}
        assert {sid: lab.values for sid, lab in store.labels.segment_labels(corpus_id=corpus_id).items()} == expected_all
        # the file view
        seen = {}
        for fid in {store.segments.segment(sid).file_id for sid in seg_ids}:
            data = load_file_data(store, fid, [mv])
            for sid in data.seg_ids:
                lab = data.segment_label(int(sid))
                if lab is not None:
                    seen[int(sid)] = lab.values
        assert seen == expected_all
        # the review queue
        queue = {item.segment_id: item.label.values if item.label else None
                 for item in review_queue(store, corpus_id, mv)}
        assert {sid: v for sid, v in queue.items() if v is not None} == expected_all
        # agreement: human judgements only
        human = ref.current(human_only=True)
        pairs = {row["pair"]: row["n"] for row in annotator_agreement(store, corpus_id)}
        for x, y in [(a, b) for i, a in enumerate(ANNOTATORS) for b in ANNOTATORS[i + 1:]]:
            shared = {s for (s, a) in human if a == x} & {s for (s, a) in human if a == y}
            assert pairs.get((x, y), 0) == (len(shared) if len(shared) >= 2 else 0)
        # both exports
        flat = tmp_path / f"{name}.csv"
        export_segments(store, name, flat, model_version_id=mv)
        by_order = [tuple(float(r[d]) for d in ("arousal", "valence", "dominance")) if r["arousal"] else None
                    for r in csv_rows(flat)]
        ordered = [s.id for s in store.segments.corpus_segments(corpus_id)]
        assert {sid: v for sid, v in zip(ordered, by_order) if v is not None} == expected_all
        msp = tmp_path / f"{name}-msp.csv"
        export_msp(store, name, msp)
        got = sorted(tuple(float(r[c]) for c in ("EmoAct", "EmoVal", "EmoDom")) for r in csv_rows(msp))
        assert got == sorted(expected_human.values())
        # the trainer's examples: human only by default, accepted too when asked
        assert {e.segment_id: e.label for e in load_examples(store, name)} == expected_human
        assert {e.segment_id: e.label for e in load_examples(store, name, include_accepted=True)} == expected_all

    check()


# -- nothing deletes a label ------------------------------------------------------------------------------
def _labelled_segment(store: Store, tmp_path: Path) -> tuple[int, int, int]:
    corpus_id, seg_ids, _mv = _corpus_with_segments(store, tmp_path, "g", write_audio(tmp_path / "g.wav", 4.0))
    label = store.labels.record_label(seg_ids[0], annotator="ann", arousal=5, valence=3, dominance=4)
    return corpus_id, seg_ids[0], label.id


def test_the_database_refuses_to_delete_or_change_a_label(store, tmp_path):
    _c, sid, lid = _labelled_segment(store, tmp_path)
    for statement in ("DELETE FROM labels", f"UPDATE labels SET arousal = 1 WHERE id = {lid}",
                      f"DELETE FROM segments WHERE id = {sid}"):
        with pytest.raises((IntegrityError, DatabaseError)):
            with store.db.session() as s:
                s.execute(text(statement))
    file_id = store.segments.segment(sid).file_id
    with pytest.raises((IntegrityError, DatabaseError, StoreError)):
        with store.db.session() as s:
            s.delete(s.get(AudioFile, file_id))  # the ORM cascade to segments stops at the label
    from emotrace.core.store import Label

    with pytest.raises(StoreError, match="append-only"):
        with store.db.session() as s:
            s.delete(s.get(Label, lid))
    assert [h.values for h in store.labels.label_history(sid)] == [(5.0, 3.0, 4.0)]


def test_record_and_retract_rules(store, tmp_path):
    _c, sid, lid = _labelled_segment(store, tmp_path)
    with pytest.raises(LabelError, match="only they can retract"):
        store.labels.retract_label(lid, annotator="bob")
    with pytest.raises(ValueError, match="off the 1-7 scale"):
        store.labels.record_label(sid, annotator="ann", arousal=7.5, valence=4, dominance=4)
    with pytest.raises(LabelError, match="at least one"):
        store.labels.record_label(sid, annotator="ann", arousal=None, valence=None, dominance=None)
    retraction = store.labels.retract_label(lid, annotator="ann")
    assert retraction.origin is LabelOrigin.RETRACTION and retraction.retracts_id == lid
    with pytest.raises(LabelError, match="already retracted"):
        store.labels.retract_label(lid, annotator="ann")
    assert store.labels.current_labels(segment_ids=[sid]) == []
    assert len(store.labels.label_history(sid)) == 2  # the withdrawn row and its retraction both stay


def test_events_fire_after_the_commit(store, tmp_path):
    _c, sid, _lid = _labelled_segment(store, tmp_path)
    seen = []

    def listener(what, info):
        if what == "label_added":  # a second connection must already see the row
            other = Store(store.url, migrate=False)
            seen.append(any(h.id == info["label_id"] for h in other.labels.label_history(info["segment_id"])))
            other.close()

    store.subscribe(listener)
    store.labels.record_label(sid, annotator="bob", arousal=2, valence=2, dominance=2)
    assert seen == [True]


def test_vocabulary_scales_round_trip():
    x = np.array([1.0, 2.5, 4.0, 7.0])
    assert np.allclose(SCALE.to_unit(x), [0, 0.25, 0.5, 1])
    assert np.allclose(SCALE.to_signed(x), [-1, -0.5, 0, 1])
    assert np.allclose(SCALE.from_unit(SCALE.to_unit(x)), x) and np.allclose(SCALE.from_signed(SCALE.to_signed(x)), x)
    assert LabelOrigin.ACCEPTED.rater_kind == "model_assisted" and LabelOrigin.MANUAL.rater_kind == "human"


# -- re-transcription and re-import keep every label --------------------------------------------------------


def test_reimport_of_changed_audio_keeps_labels_on_the_old_content(store, tmp_path):
    root = tmp_path / "c"
    write_audio(root / "a.wav", 3.0, freq=200)
    (root / "labels.csv").write_text("file,start,end,arousal,valence,dominance\na.wav,0,2,3,4,5\n")
    import_folder(store, root, "c")
    corpus_id = store.corpora.corpus("c").id
    old = store.corpora.files(corpus_id)[0]
    sid = store.segments.segments(old.id)[0].id
    store.labels.record_label(sid, annotator="ann", arousal=6, valence=2, dominance=2)
    original = old.path
    (root / "a.wav").rename(tmp_path / "a-original.wav")
    write_audio(root / "a.wav", 5.0, freq=300)  # new content at the same path
    report = import_folder(store, root, "c")
    assert "CHANGED" in report.summary() and "2 label rows stay with it" in report.summary()
    files = {f.fingerprint: f for f in store.corpora.files(corpus_id)}
    assert files[old.fingerprint].status == "replaced" and len(files) == 2
    assert [h.values for h in store.labels.label_history(sid)] == [(3.0, 4.0, 5.0), (6.0, 2.0, 2.0)]
    new = next(f for f in store.corpora.files(corpus_id) if f.fingerprint != old.fingerprint)
    assert [lab.values for lab in store.labels.segment_labels(file_id=new.id).values()] == [(3.0, 4.0, 5.0)]  # the CSV's row
    assert {e.file_id for e in load_examples(store, "c", rule="latest")} == {new.id}  # no audio behind the old one
    # the old content comes back elsewhere: relinked, its labels usable again
    (tmp_path / "a-original.wav").rename(root / "a-old.wav")
    again = import_folder(store, root, "c")
    assert again.relinked == 1
    relinked = next(f for f in store.corpora.files(corpus_id) if f.fingerprint == old.fingerprint)
    assert relinked.status == "ok" and relinked.path != original


# -- migration from the schema before this change ---------------------------------------------------------


def test_migration_from_0002_keeps_every_label_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = store_at_0002(url)
    fill_0002(old)
    old.close()
    store = Store(url)
    check_migrated_from_0002(store)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []


# -- smaller things the same reading found ---------------------------------------------------------------
def test_sqlite_uri_urls_make_no_literal_file_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "u.sqlite"
    store = Store(f"sqlite:///file:{db}?uri=true")
    store.corpora.corpus("x", create=True)
    assert db.exists() and not (tmp_path / "file:").exists()


def test_utterances_cut_at_asr_segment_ends(store, tmp_path):
    from emotrace.core.store import Word
    from emotrace.core.workflows.transcribe import build_units

    audio = write_audio(tmp_path / "w.wav", 12.0)
    with store.db.session() as s:
        corpus = Corpus(name="w", root=str(tmp_path))
        s.add(corpus)
        s.flush()
        f = AudioFile(corpus_id=corpus.id, path=str(audio), fingerprint="w", duration=12.0)
        s.add(f)
        s.flush()
        # 20 words 0.45 s apart, no pause; the ASR segment ended after word 9 (at 4.3 s)
        s.add_all(Word(file_id=f.id, start=k * 0.45, end=k * 0.45 + 0.4, text=f" w{k}", segment_end=k == 9)
                  for k in range(20))
        file_id = f.id
    build_units(store, file_id)
    bounds = [(round(s.start, 2), round(s.end, 2)) for s in store.segments.segments(file_id)]
    assert bounds[0] == (0.0, 4.45)


def test_a_span_without_audio_is_flagged_not_predicted():
    from emotrace.core.workflows.analyze import NO_AUDIO, stack_pooled

    good = np.ones((2, 8), np.float32)
    pooled, missing = stack_pooled([good, None, np.full((2, 8), np.nan, np.float32)], layers=2, dim=4)
    assert missing.tolist() == [False, True, True] and pooled.shape == (3, 2, 8)
    assert NO_AUDIO == "no_audio"


def test_a_flagged_prediction_is_stored_without_values(store, tmp_path):
    _c, seg_ids, mv = _corpus_with_segments(store, tmp_path, "f", write_audio(tmp_path / "f.wav", 4.0))
    fid = store.segments.segment(seg_ids[0]).file_id
    store.predictions.replace_predictions(fid, mv, [PredictionRow(None, "window", 0, 4, (None, None, None), flag="no_audio"),
                                                    PredictionRow(None, "window", 1, 5, (4.0, 4.0, 4.0))])
    t, values = store.predictions.trajectory(fid, mv)
    assert np.isnan(values[0]).all() and values[1].tolist() == [4.0, 4.0, 4.0]
    with pytest.raises((IntegrityError, DatabaseError)):
        store.predictions.replace_predictions(fid, mv, [PredictionRow(None, "window", 0, 4, (None, None, None))])  # no flag


def test_a_bug_is_not_reported_as_a_user_error(monkeypatch, capsys, tmp_path):
    import emotrace.cli.main as cli_main

    def broken(_args):
        raise TypeError("unsupported operand")

    monkeypatch.setattr(cli_main, "cmd_stats", broken)
    assert cli_main.main(["--db", str(tmp_path / "x.sqlite"), "stats"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("internal error: TypeError") and "-v" in err and "emotrace-errors.log" in err
    assert cli_main.main(["--db", str(tmp_path / "x.sqlite"), "-v", "stats"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_combine_mean_is_msp_consensus(store, tmp_path):
    _c, sid, _lid = _labelled_segment(store, tmp_path)
    store.labels.record_label(sid, annotator="bob", arousal=3, valence=5, dominance=None)
    mean = combine(store.labels.current_labels(segment_ids=[sid]), rule="mean")
    assert mean.values == (4.0, 4.0, 4.0) and mean.annotators == ("ann", "bob")


def test_a_downgrade_that_would_drop_labels_is_refused(store, tmp_path):
    from alembic import command

    from emotrace.core.errors import IrreversibleMigration
    from emotrace.core.store.store import alembic_config

    _c, sid, _lid = _labelled_segment(store, tmp_path)
    cfg = alembic_config(store.url)
    with pytest.raises(IrreversibleMigration, match="not reversible"):
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
    assert store.schema_revision() == store.head_revision()
    assert [h.values for h in store.labels.label_history(sid)] == [(5.0, 3.0, 4.0)]
