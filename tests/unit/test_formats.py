"""ELAN and TextGrid in and out (files made by their own libraries, and EmoTrace's exports read by them), and
the flat CSV on the 0..1 and -1..1 scales. Real SQLite stores."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from emotrace.core.formats.batch import export_corpus, import_annotation_file
from emotrace.core.formats.interchange import AnnotationFileError
from emotrace.core.vocab import SCALE
from tests.conftest import write_audio


@pytest.fixture
def talk(store, tmp_path):
    """A corpus with one 20 s file and no labels yet."""
    from emotrace.core.workflows.importing import import_folder

    write_audio(tmp_path / "c" / "talk.wav", 20.0)
    import_folder(store, tmp_path / "c", "c")
    return store


def _labels(store, corpus="c"):
    corpus_id = store.corpora.corpus(corpus).id
    bounds = {s.id: (round(s.start, 3), round(s.end, 3)) for s in store.segments.corpus_segments(corpus_id)}
    return sorted((bounds[c.segment_id], c.annotator, c.values) for c in store.labels.current_labels(corpus_id=corpus_id))


def test_elan_file_made_by_pympi_imports_as_documented(talk, tmp_path):
    import pympi

    eaf = pympi.Elan.Eaf()
    eaf.add_linked_file("file:///elsewhere/talk.wav", mimetype="audio/x-wav")
    for tier in ("alice/arousal", "alice/valence", "bob/arousal", "transcript", "gesture"):
        eaf.add_tier(tier)
    eaf.add_annotation("alice/arousal", 1000, 3500, "5.5")
    eaf.add_annotation("alice/valence", 1000, 3500, "2")
    eaf.add_annotation("bob/arousal", 1000, 3500, "6")
    eaf.add_annotation("bob/arousal", 4000, 6000, "3.25")
    eaf.add_annotation("transcript", 1000, 3500, "hello there")
    eaf.add_annotation("gesture", 0, 500, "nod")
    path = tmp_path / "session.eaf"
    eaf.to_file(str(path))
    report = import_annotation_file(talk, "c", path)
    assert report.skipped_tiers == ["gesture"] and report.labels_added == 3 and report.segments_added == 2
    assert _labels(talk) == [((1.0, 3.5), "alice", (5.5, 2.0, None)), ((1.0, 3.5), "bob", (6.0, None, None)),
                             ((4.0, 6.0), "bob", (3.25, None, None))]
    assert import_annotation_file(talk, "c", path).labels_added == 0  # importing again adds nothing


def test_textgrid_made_by_praatio_imports_as_documented(talk, tmp_path):
    from praatio import textgrid
    from praatio.data_classes.interval_tier import IntervalTier

    tg = textgrid.Textgrid(0, 20)
    tg.addTier(IntervalTier("carol/dominance", [(2.0, 4.0, "4.5"), (5.0, 7.5, "1")], 0, 20))
    tg.addTier(IntervalTier("carol/arousal", [(2.0, 4.0, "3")], 0, 20))
    tg.addTier(IntervalTier("transcript", [(2.0, 4.0, "so it goes")], 0, 20))
    path = tmp_path / "talk.TextGrid"
    tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)
    report = import_annotation_file(talk, "c", path)  # found by name: talk.TextGrid -> talk.wav
    assert report.labels_added == 2 and report.skipped_tiers == []
    assert _labels(talk) == [((2.0, 4.0), "carol", (3.0, None, 4.5)), ((5.0, 7.5), "carol", (None, None, 1.0))]


@pytest.mark.parametrize("fmt", ["eaf", "textgrid"])
def test_exports_open_in_their_libraries_and_round_trip(populated, tmp_path, fmt):
    from emotrace.core.store import Store
    from emotrace.core.workflows.importing import import_folder

    store, file_id, _mv = populated
    store.labels.record_label(store.segments.segments(file_id)[0].id, annotator="bob", arousal=2.5, valence=None,
                              dominance=6.75)
    (out,) = export_corpus(store, "c", tmp_path / "out", fmt)
    expected = {("alice/arousal", 0.0, 10.0, "3"), ("alice/arousal", 10.0, 20.0, "6"), ("bob/arousal", 30.0, 40.0, "2"),
                ("bob/arousal", 0.0, 10.0, "2.5"), ("bob/dominance", 0.0, 10.0, "6.75")}
    if fmt == "eaf":
        import pympi

        eaf = pympi.Elan.Eaf(str(out))
        got = {(t, a[0] / 1000, a[1] / 1000, a[2]) for t in eaf.get_tier_names()
               for a in eaf.get_annotation_data_for_tier(t)}
    else:
        from praatio import textgrid

        tg = textgrid.openTextgrid(str(out), includeEmptyIntervals=False)
        got = {(n, e.start, e.end, e.label) for n in tg.tierNames for e in tg.getTier(n).entries}
    assert expected <= got
    assert not any(t == "bob/valence" and start == 0.0 for t, start, *_ in got)  # left open: nothing made up
    # into a fresh store, from the same audio: the same labels
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    import_folder(fresh, tmp_path / "c", "c")
    import_annotation_file(fresh, "c", out)
    original = [x for x in _labels(store) if x[1] in ("alice", "bob")]
    assert _labels(fresh) == original
    fresh.close()


def test_malformed_files_name_the_tier_and_write_nothing(talk, tmp_path):
    import pympi

    eaf = pympi.Elan.Eaf()
    eaf.add_linked_file("file:///x/talk.wav")
    eaf.add_tier("alice/arousal")
    eaf.add_annotation("alice/arousal", 1000, 2000, "4")
    eaf.add_annotation("alice/arousal", 3000, 4000, "loud")
    path = tmp_path / "bad.eaf"
    eaf.to_file(str(path))
    with pytest.raises(AnnotationFileError, match=r"tier 'alice/arousal' at 3.000-4.000 s: arousal 'loud' is not a number"):
        import_annotation_file(talk, "c", path)
    assert _labels(talk) == []  # one transaction: the good row before it was not written either
    eaf.remove_annotation("alice/arousal", 3500)
    eaf.add_annotation("alice/arousal", 3000, 4000, "9")
    eaf.to_file(str(path))
    with pytest.raises(AnnotationFileError, match="off the 1-7 scale"):
        import_annotation_file(talk, "c", path)
    (tmp_path / "talk.TextGrid").write_text("File type = \"ooTextFile\"\nObject class = \"TextGrid\"\nxmin = oops\n")
    with pytest.raises(AnnotationFileError, match="not a readable TextGrid"):
        import_annotation_file(talk, "c", tmp_path / "talk.TextGrid")
    (tmp_path / "nowhere.TextGrid").write_text("")
    with pytest.raises(AnnotationFileError):
        import_annotation_file(talk, "c", tmp_path / "nowhere.TextGrid")


@pytest.mark.parametrize("scale", ["unit", "signed"])
def test_flat_csv_on_export_scales_round_trips(populated, tmp_path, scale):
    from emotrace.core.formats.label_tables import export_segments
    from emotrace.core.store import Store
    from emotrace.core.workflows.importing import import_folder, import_labels

    store, _file_id, _mv = populated
    out = tmp_path / f"{scale}.csv"
    export_segments(store, "c", out, scale=scale)
    rows = list(csv.DictReader(open(out)))
    convert = SCALE.to_unit if scale == "unit" else SCALE.to_signed
    first = next(r for r in rows if r["start"] == "0.000")
    assert float(first[f"arousal_{scale}"]) == pytest.approx(float(convert(3.0)))
    assert float(first[f"pred_arousal_{scale}"]) == pytest.approx(float(convert(5.0)), abs=1e-4)
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    import_folder(fresh, tmp_path / "c", "c")
    report = import_labels(fresh, "c", out)
    # the folder's own labels.csv came in with the audio; the flat CSV names the same annotators (its `annotators`
    # column) with the same values on its scale, so it adds nothing (it used to hand them all to `consensus`)
    assert report.labels_added == 0 and not report.row_errors
    assert not fresh.labels.current_labels(corpus_id=fresh.corpora.corpus("c").id, annotator="consensus")
    got = sorted((c.annotator, c.values) for c in fresh.labels.current_labels(corpus_id=fresh.corpora.corpus("c").id))
    want = sorted((c.annotator, c.values) for c in store.labels.current_labels(corpus_id=store.corpora.corpus("c").id))
    assert [a for a, _ in got] == [a for a, _ in want] and len(got) == 3
    np.testing.assert_allclose(np.array([v for _, v in got], dtype=float), np.array([v for _, v in want], dtype=float),
                               atol=1e-5)
    fresh.close()


def test_audformat_database_round_trips_with_rater_types(tmp_path, store):
    import audformat

    from emotrace.core.formats.audformat_db import export_audformat, import_audformat
    from emotrace.core.store import Store
    from emotrace.core.workflows.importing import import_folder
    from tests.helpers import msp_corpus

    msp_corpus(tmp_path / "msp", files=6)
    import_folder(store, tmp_path / "msp", "msp")
    n = export_audformat(store, "msp", tmp_path / "db")
    db = audformat.Database.load(str(tmp_path / "db"), load_data=True)
    assert set(db.tables) == {"arousal", "valence", "dominance", "category", "gold_standard"}
    assert db.schemes["arousal"].minimum == 1 and db.schemes["arousal"].maximum == 7
    assert db.raters["consensus:mean"].type == "vote" and db.raters["WORKER00001"].type == "human"
    assert db.raters["consensus"].type == "vote"  # the imported MSP consensus is a computed rater: a vote
    assert n > 0 and db["gold_standard"].get().shape[1] == 3
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    root = tmp_path / "msp2"
    (tmp_path / "msp" / "Labels").rename(tmp_path / "labels-aside")
    (tmp_path / "msp").rename(root)
    import_folder(fresh, root, "msp")
    import_audformat(fresh, "msp", tmp_path / "db")
    original = sorted((c.annotator, c.values, c.category)
                      for c in store.labels.human_labels(corpus_id=store.corpora.corpus("msp").id))
    assert sorted((c.annotator, c.values, c.category)
                  for c in fresh.labels.human_labels(corpus_id=fresh.corpora.corpus("msp").id)) == original
    fresh.close()


@pytest.mark.parametrize("fmt", ["eaf", "textgrid", "audformat"])
def test_cli_annotations_export_then_import(populated, tmp_path, capsys, fmt):
    from emotrace.cli.main import main
    from emotrace.core.store import Store
    from emotrace.core.workflows.importing import import_folder

    store, _file_id, _mv = populated
    out = tmp_path / "out"
    assert main(["--db", store.url, "annotations", "export", "--corpus", "c", "--format", fmt, "--out", str(out)]) == 0
    assert "wrote 1" in capsys.readouterr().out
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    import_folder(fresh, tmp_path / "c", "c")  # the folder's labels.csv: the same labels already
    target = out if fmt == "audformat" else next(out.iterdir())
    assert main(["--db", fresh.url, "annotations", "import", str(target), "--corpus", "c"]) == 0
    assert "0 labels added" in capsys.readouterr().out  # same segments, same values: nothing new
    bad = tmp_path / "bad.eaf"
    bad.write_text("<ANNOTATION_DOCUMENT><broken")
    assert main(["--db", fresh.url, "annotations", "import", str(bad), "--corpus", "c"]) == 2
    assert "not a readable ELAN file" in capsys.readouterr().err
    fresh.close()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_trajectories_export(populated, tmp_path, suffix):
    import pandas as pd

    from emotrace.core.formats.trajectories import export_trajectories

    store, _file_id, mv = populated
    out = tmp_path / f"traj{suffix}"
    assert export_trajectories(store, "c", out, scale="signed") == 57
    df = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    assert list(df.columns) == ["file", "start", "end", "arousal_signed", "valence_signed", "dominance_signed",
                                "uncertainty", "flag", "trust"]
    assert df["trust"].isna().all()  # this model was stored without trust statistics: empty, never invented
    assert df["arousal_signed"].iloc[5] == pytest.approx(float(SCALE.to_signed(4 + np.sin(1.0))), abs=1e-5)
    assert (df["valence_signed"] == 0).all() and df["file"].iloc[0] == "talk.wav"


@pytest.mark.parametrize("scale", ["1-7", "signed"])
def test_per_rater_csv_round_trips_every_rater_kind(store, tmp_path, scale):
    """`export --per-rater` then `import --labels` into a fresh store gives back the same current labels, annotators
    and rater kinds: people (names with commas, spaces, unicode, a `+`), an accepted model output, an imported
    consensus (a computed rater), trace means and the computed consensus (recomputed from the raters). The flat
    export joins several raters into one `annotators` cell and could not."""
    import shutil

    from emotrace.cli.main import main
    from emotrace.core.store import LabelSpec, Store
    from emotrace.core.vocab import LabelOrigin, RaterKind
    from emotrace.core.workflows.importing import import_folder

    write_audio(tmp_path / "c" / "talk.wav", 10.0)
    import_folder(store, tmp_path / "c", "c")
    f = store.corpora.files(store.corpora.corpus("c").id)[0]
    people = ["alice", "Bob, Jr.", "zoë 中", "c+d"]
    store.labels.import_labels(
        [LabelSpec(f.id, 0.0, 2.5, p, (1.0 + k, 7.0 - k, None if k == 2 else 4.0), "H" if k else None)
         for k, p in enumerate(people)]
        + [LabelSpec(f.id, 2.5, 5.0, p, (2.0 + k / 4, 3.0, 4.5)) for k, p in enumerate(people[:2])]
        + [LabelSpec(f.id, 5.0, 7.5, "carol", (6.0, 6.0, 6.0), origin=LabelOrigin.ACCEPTED),
           LabelSpec(f.id, 7.5, 9.0, "consensus", (3.5, 3.5, 3.5))])
    store.raters.register_rater("consensus", RaterKind.COMPUTED, source="labels_consensus.csv")
    store.traces.import_trace(f.id, annotator="tracy", dimension="arousal", rate=10.0,
                              times=np.arange(0, 9.0, 0.1), values=np.linspace(1, 7, 90))
    store.traces.trace_labels(f.id)
    store.labels.compute_consensus(store.corpora.corpus("c").id)

    def current(s: Store) -> list:
        cid = s.corpora.corpus("c").id
        bounds = {g.id: (round(g.start, 3), round(g.end, 3)) for g in s.segments.corpus_segments(cid)}
        return sorted((bounds[c.segment_id], c.annotator, tuple(None if v is None else round(v, 4) for v in c.values),
                       c.category, c.origin.value, s.raters.rater_kind(c.annotator).value)
                      for c in s.labels.current_labels(corpus_id=cid, include_computed=True))

    want = current(store)
    kinds = {row[1]: row[5] for row in want}
    assert kinds["consensus"] == "computed" and kinds["consensus:ewe"] == "computed" and kinds["alice"] == "human"
    assert {row[4] for row in want} >= {"accepted", "trace", "computed", "imported"}
    out = tmp_path / "raters.csv"
    assert main(["--db", store.url, "export", "--corpus", "c", "--per-rater", "--scale", scale, "--out", str(out)]) == 0
    shutil.copytree(tmp_path / "c", tmp_path / "moved" / "c")  # relative names: the table moves with the corpus
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    import_folder(fresh, tmp_path / "moved" / "c", "c")
    fresh.close()
    assert main(["--db", f"sqlite:///{tmp_path / 'fresh.sqlite'}", "-q", "import", str(tmp_path / "moved" / "c"),
                 "--corpus", "c", "--labels", str(out)]) == 0
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    assert current(fresh) == want
    fresh.close()
