"""Hostile annotation files: nothing EmoTrace reads may run code. A YAML python tag or a pickled table in an
audformat database is refused with one line naming the file, through the real CLI, and the store stays
byte-identical. Each payload would create a marker file if it ran."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pytest

from emotrace.core.formats.interchange import AnnotationFileError
from tests.conftest import write_audio
from tests.helpers import REPO


class _Payload:
    """Unpickling this runs `touch MARKER` (the classic pickle exploit)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def _sha(store) -> str:
    """The store file's hash with SQLite's WAL folded into it: the CLI run in this process may still hold its own
    connections, so what it wrote can sit in the `-wal` file until a checkpoint (hashing the main file alone
    would miss it)."""
    import gc
    import sqlite3

    store.close()
    gc.collect()
    path = Path(store.url.removeprefix("sqlite:///"))
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def corpus(store, tmp_path):
    from emotrace.core.workflows.importing import import_folder

    write_audio(tmp_path / "c" / "talk.wav", 5.0)
    import_folder(store, tmp_path / "c", "c")
    return store


def _header(source: str = "EmoTrace", table: str = "arousal") -> str:
    return (f"name: db\nsource: {source}\nusage: unrestricted\n"
            "raters:\n  alice: {type: human}\n"
            "schemes:\n  arousal: {dtype: float, minimum: 1.0, maximum: 7.0}\n"
            f"tables:\n  {table}:\n    type: segmented\n    columns:\n"
            "      alice: {scheme_id: arousal, rater_id: alice}\n")


def _import(store, path: Path, corpus: str = "c") -> int:
    from emotrace.cli.main import main

    return main(["--db", store.url, "annotations", "import", str(path), "--corpus", corpus])


@pytest.mark.parametrize("corpus_name", ["nosuch", "c"])
def test_yaml_python_tag_in_audformat_header_never_runs(corpus, tmp_path, capsys, corpus_name):
    marker = tmp_path / "PWNED"
    db = tmp_path / "db"
    db.mkdir()
    (db / "db.yaml").write_text(_header(source=f"!!python/object/apply:os.system ['touch {marker}']"))
    (db / "db.arousal.csv").write_text("file,start,end,alice\ntalk.wav,0 days 00:00:01,0 days 00:00:02,5.0\n")
    before = _sha(corpus)
    assert _import(corpus, db, corpus_name) == 2
    err = capsys.readouterr().err
    assert not marker.exists()
    assert ("db.yaml" if corpus_name == "c" else "nosuch") in err and len(err.strip().splitlines()) == 1
    assert _sha(corpus) == before


def test_pickled_table_is_never_unpickled(corpus, tmp_path, capsys):
    marker = tmp_path / "PWNED"
    db = tmp_path / "db"
    db.mkdir()
    (db / "db.yaml").write_text(_header(table="t"))
    (db / "db.t.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    before = _sha(corpus)
    assert _import(corpus, db) == 2
    err = capsys.readouterr().err
    assert not marker.exists()
    assert "db.t.pkl" in err and "pickle" in err and len(err.strip().splitlines()) == 1
    assert _sha(corpus) == before


def test_pickle_beside_a_csv_table_is_ignored_and_the_csv_is_read(corpus, tmp_path, capsys):
    marker = tmp_path / "PWNED"
    db = tmp_path / "db"
    db.mkdir()
    (db / "db.yaml").write_text(_header(table="t"))
    (db / "db.t.csv").write_text("file,start,end,alice\ntalk.wav,0 days 00:00:01,0 days 00:00:02.500000,5.5\n")
    (db / "db.t.pkl").write_bytes(pickle.dumps(_Payload(marker)))  # newer than the CSV: audformat would load it
    assert _import(corpus, db) == 0
    assert not marker.exists()
    from emotrace.core.store import Store

    s = Store(corpus.url)
    labels = s.labels.current_labels(corpus_id=s.corpora.corpus("c").id)
    assert [(c.annotator, c.values[0]) for c in labels] == [("alice", 5.5)]
    seg = s.segments.corpus_segments(s.corpora.corpus("c").id)[0]
    assert (seg.start, seg.end) == (1.0, 2.5)
    s.close()


@pytest.mark.parametrize("table_id", ["../escape", "a/b"])
def test_table_ids_cannot_name_files_outside_the_database(corpus, tmp_path, capsys, table_id):
    db = tmp_path / "db"
    db.mkdir()
    (db / "db.yaml").write_text(_header(table=f"'{table_id}'"))
    assert _import(corpus, db) == 2
    assert "table" in capsys.readouterr().err


def test_no_module_reads_files_with_an_unsafe_loader():
    """The audit of issue 21: no unsafe YAML loader, pickle, eval or pickled torch.load anywhere in the product."""
    import re

    root = REPO
    unsafe = re.compile(r"yaml\.(load|load_all|unsafe_load)\(|yaml\.(Unsafe|Full)?Loader\b|pickle\.loads?\("
                        r"|read_pickle\(|joblib\.load\(|(^|[^.\w])eval\(|Database\.load\(|allow_pickle=True"
                        r"|weights_only=False")
    hits = [f"{p.relative_to(root)}:{i}" for folder in ("core", "training", "gui", "cli")
            for p in (root / folder).rglob("*.py")
            for i, line in enumerate(p.read_text().splitlines(), 1) if unsafe.search(line)]
    assert hits == []


# -- traces (CARMA, NOVA) and label CSVs: one validated model, nothing written when a file is rejected -------------
def _cli(store, *args) -> int:
    from emotrace.cli.main import main

    return main(["--db", store.url, *args])


def _carma(tmp_path, rows: list[str], header: str = "time,value") -> Path:
    path = tmp_path / "trace.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


CARMA_CASES = {
    "before the audio": (["-5,10", "0.1,20"], "before the audio begins"),
    "past the audio": (["0.1,10", "5000,20"], "past the end of the audio"),
    "huge value": (["0.1,1e308"], "off the -100..100 scale"),
    "nan value": (["0.1,nan"], "off the -100..100 scale"),
    "inf time": (["inf,3"], "has time"),
    "backwards": (["1.0,3", "0.5,3"], "times must increase"),
    "text value": (["0.1,loud"], "are not numbers"),
    "header only": ([], "no samples"),
    "all nan": (["0.1,nan", "0.2,nan"], "off the -100..100 scale"),
}


@pytest.mark.parametrize("case", sorted(CARMA_CASES))
def test_bad_carma_traces_are_one_line_rc_2_and_leave_the_store_untouched(corpus, tmp_path, capsys, case):
    rows, message = CARMA_CASES[case]
    path = _carma(tmp_path, rows)
    before = _sha(corpus)
    assert _cli(corpus, "traces", "import", "--corpus", "c", "--file", "talk", "--annotator", "ann",
                "--dimension", "arousal", "--path", str(path)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err and "trace.csv" in err, err
    assert _sha(corpus) == before  # no empty pass committed


def _nova(tmp_path, sr: str | None, lines: list[str], extra: str = "") -> Path:
    header = tmp_path / "ann.annotation"
    sr_attr = "" if sr is None else f' sr="{sr}"'
    header.write_text(f'<?xml version="1.0"?>{extra}<annotation ssi-v="3"><info ftype="ASCII" size="{len(lines)}"/>'
                      f'<scheme name="arousal" type="CONTINUOUS"{sr_attr} min="0" max="1"/></annotation>')
    (tmp_path / "ann.annotation~").write_text("\n".join(lines) + "\n")
    return header


NOVA_CASES = {
    "sr 0": ("0", ["0.5;1"], "sample rate"),
    "sr missing": (None, ["0.5;1"], "sample rate"),
    "sr negative": ("-10", ["0.5;1"], "sample rate"),
    "sr text": ("abc", ["0.5;1"], "sample rate"),
    "bad data line": ("10", ["0.5;1", "loud;1"], "is not a number"),
    "off scale": ("10", ["0.5;1", "1.5;1"], "off the 0..1 scale"),
    "too long": ("1", ["0.5;1"] * 60, "past the end of the audio"),
    "only uncovered": ("10", ["nan;0", "nan;0"], "no samples"),
}


@pytest.mark.parametrize("case", sorted(NOVA_CASES))
def test_bad_nova_traces_are_one_line_rc_2(corpus, tmp_path, capsys, case):
    sr, lines, message = NOVA_CASES[case]
    header = _nova(tmp_path, sr, lines)
    before = _sha(corpus)
    assert _cli(corpus, "traces", "import", "--corpus", "c", "--file", "talk", "--annotator", "ann",
                "--dimension", "arousal", "--format", "nova", "--path", str(header)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err, err
    assert _sha(corpus) == before


def test_nova_entity_expansion_is_refused_as_a_user_error(corpus, tmp_path, capsys):
    laughs = ('<!DOCTYPE a [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
              '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>')
    header = _nova(tmp_path, "10", ["0.5;1"], extra=laughs)
    assert _cli(corpus, "traces", "import", "--corpus", "c", "--file", "talk", "--annotator", "ann",
                "--dimension", "arousal", "--format", "nova", "--path", str(header)) == 2
    assert "entity" in capsys.readouterr().err


def test_a_good_trace_imports_as_one_pass_without_clipping(corpus, tmp_path, capsys):
    path = _carma(tmp_path, ["0.0,-100", "1.0,0", "2.0,100"])
    assert _cli(corpus, "traces", "import", "--corpus", "c", "--file", "talk", "--annotator", "ann",
                "--dimension", "arousal", "--path", str(path)) == 0
    from emotrace.core.store import Store

    s = Store(corpus.url)
    f = s.corpora.files(s.corpora.corpus("c").id)[0]
    t, v = s.traces.current_trace(f.id, "ann", "arousal")
    assert t.tolist() == [0.0, 1.0, 2.0] and v.tolist() == [1.0, 4.0, 7.0]
    s.close()


@pytest.mark.parametrize("annotator", ["ann\x00x", "ann\nbob", "   "])
def test_trace_rater_names_with_control_characters_are_refused(corpus, tmp_path, capsys, annotator):
    """Refused at the command line already (argparse, rc 2), and by the interchange model below it."""
    from emotrace.core.formats.interchange import rater_name

    path = _carma(tmp_path, ["0.0,0"])
    with pytest.raises(SystemExit) as exit_:
        _cli(corpus, "traces", "import", "--corpus", "c", "--file", "talk", "--annotator", annotator,
             "--dimension", "arousal", "--path", str(path))
    assert exit_.value.code == 2
    assert "control character" in capsys.readouterr().err or not annotator.strip()
    with pytest.raises(AnnotationFileError, match="rater name"):
        rater_name("trace.csv", annotator)


def test_special_files_are_not_read(corpus, tmp_path, capsys):
    """`import --labels /dev/zero` grew to 9.8 GB; a FIFO blocked or was ignored."""
    import os

    fifo = tmp_path / "labels.csv"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo)):
        assert _cli(corpus, "traces", "import", "--corpus", "c", "--file", "talk", "--annotator", "ann",
                    "--dimension", "arousal", "--path", path) == 2
        assert "not a regular file" in capsys.readouterr().err


def test_the_size_cap_is_stated_and_configurable(corpus, tmp_path, capsys, monkeypatch):
    path = _carma(tmp_path, [f"{k / 100:.2f},0" for k in range(400)])
    monkeypatch.setenv("EMOTRACE_MAX_IMPORT_MB", "0.001")
    assert _cli(corpus, "traces", "import", "--corpus", "c", "--file", "talk", "--annotator", "ann",
                "--dimension", "arousal", "--path", str(path)) == 2
    assert "import limit (EMOTRACE_MAX_IMPORT_MB raises it)" in capsys.readouterr().err


# -- tier files and audformat tables through the interchange model ---------------------------------------------
def _textgrid(tmp_path, body: str) -> Path:
    path = tmp_path / "talk.TextGrid"
    path.write_text('File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = 5\ntiers? <exists>\n'
                    + body)
    return path


def _interval_tier(name: str, intervals: list[tuple[str, str, str]]) -> str:
    rows = "".join(f'        intervals [{k}]:\n            xmin = {a}\n            xmax = {b}\n            text = "{t}"\n'
                   for k, (a, b, t) in enumerate(intervals, 1))
    return (f'    item [1]:\n        class = "IntervalTier"\n        name = "{name}"\n        xmin = 0\n        xmax = 5\n'
            f'        intervals: size = {len(intervals)}\n' + rows)


@pytest.mark.parametrize(("intervals", "message"), [
    ([("-1", "2", "5")], "negative time"),
    ([("1", "3", "5"), ("2", "4", "6")], "overlap in time"),
    ([("1", "9", "5")], "past the end of the audio"),
    ([("1", "2", "1e308")], "off the 1-7 scale"),
    ([("1", "2", "nan")], "not a finite number"),
])
def test_bad_textgrids_are_one_line_rc_2(corpus, tmp_path, capsys, intervals, message):
    path = _textgrid(tmp_path, "size = 1\nitem []:\n" + _interval_tier("alice/arousal", intervals))
    before = _sha(corpus)
    assert _import(corpus, path) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err, err
    assert _sha(corpus) == before


def _eaf(tmp_path, tier: str, text: str = "5") -> Path:
    import pympi

    eaf = pympi.Elan.Eaf()
    eaf.add_linked_file("file:///x/talk.wav", mimetype="audio/x-wav")
    eaf.add_tier(tier)
    eaf.add_annotation(tier, 1000, 2000, text)
    eaf.to_file(str(tmp_path / "talk.eaf"))
    return tmp_path / "talk.eaf"


def test_a_consensus_tier_with_a_leading_space_is_no_human_rater(corpus, tmp_path, capsys):
    assert _import(corpus, _eaf(tmp_path, " consensus:mean/arousal")) == 0
    from emotrace.core.store import Store

    s = Store(corpus.url)
    assert s.labels.current_labels(corpus_id=s.corpora.corpus("c").id, include_computed=True) == []
    s.close()


def test_a_nul_in_a_rater_name_is_refused(corpus, tmp_path, capsys):
    before = _sha(corpus)
    assert _import(corpus, _eaf(tmp_path, "al\tice/arousal")) == 2  # XML carries a tab (not a NUL)
    assert "control character" in capsys.readouterr().err
    assert _sha(corpus) == before


@pytest.mark.parametrize(("start", "end", "message"), [
    ("0 days 00:01:40", "0 days 00:00:50", "is not after start"),
    ("-1 days +23:59:59", "0 days 00:00:02", "before the audio begins"),
    ("0 days 00:00:01", "0 days 00:10:00", "past the end of the audio"),
])
def test_audformat_rows_are_checked_like_every_other_format(corpus, tmp_path, capsys, start, end, message):
    db = tmp_path / "db"
    db.mkdir()
    (db / "db.yaml").write_text(_header())
    (db / "db.arousal.csv").write_text(f"file,start,end,alice\ntalk.wav,{start},{end},5.0\n")
    before = _sha(corpus)
    assert _import(corpus, db) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err, err
    assert _sha(corpus) == before


def test_labels_from_dev_zero_are_refused_before_reading(corpus, tmp_path, capsys):
    """`import --labels /dev/zero` grew to 9.8 GB before."""
    before = _sha(corpus)
    assert _cli(corpus, "import", str(tmp_path / "c"), "--corpus", "c", "--labels", "/dev/zero") == 2
    assert "not a regular file" in capsys.readouterr().err
    assert _sha(corpus) == before


GENERIC = "file,start,end,arousal,valence,dominance,annotator"
MSP = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set"
DETAILED = "FileName,WorkerID,EmoClass,EmoAct,EmoVal,EmoDom"
LABEL_CSV_CASES = {  # (header, good row, bad row, what the one line says); the bad row is line 3 of the file
    "short row": (GENERIC, "talk.wav,1,2,5,4,3,alice", "talk.wav,1", "2 cells, the header names 7"),
    "off scale": (GENERIC, "talk.wav,1,2,5,4,3,alice", "talk.wav,2,3,9,4,3,bob", "off the 1-7 scale"),
    "backwards": (GENERIC, "talk.wav,1,2,5,4,3,alice", "talk.wav,3,2,5,4,3,bob", "is not after start"),
    "negative": (GENERIC, "talk.wav,1,2,5,4,3,alice", "talk.wav,-1,2,5,4,3,bob", "before the audio begins"),
    "past the end": (GENERIC, "talk.wav,1,2,5,4,3,alice", "talk.wav,1,60,5,4,3,bob", "past the end of the audio"),
    "nan value": (GENERIC, "talk.wav,1,2,5,4,3,alice", "talk.wav,2,3,nan,4,3,bob", "not a finite number"),
    "text value": (GENERIC, "talk.wav,1,2,5,4,3,alice", "talk.wav,2,3,loud,4,3,bob", "is not a number"),
    "control char": (GENERIC, "talk.wav,1,2,5,4,3,alice", "talk.wav,2,3,5,4,3,b\x01ob", "control character"),
    "msp off scale": (MSP, "talk.wav,N,2,3,4,s1,Female,Train", "talk.wav,N,9,3,4,s1,Female,Train",
                      "off the 1-7 scale"),
    "msp short": (MSP, "talk.wav,N,2,3,4,s1,Female,Train", "talk.wav,N,2", "3 cells, the header names 8"),
    "detailed consensus": (DETAILED, "talk.wav,w1,N,2,3,4", "talk.wav,consensus:mean,N,2,3,4",
                           "names a computed consensus"),
    "detailed empty": (DETAILED, "talk.wav,w1,N,2,3,4", "talk.wav,w2,N,,,", "gave none of"),
    "detailed no worker": (DETAILED, "talk.wav,w1,N,2,3,4", "talk.wav,,N,2,3,4", "empty rater name"),
}


@pytest.mark.parametrize("case", sorted(LABEL_CSV_CASES))
def test_a_bad_row_rejects_the_whole_label_csv(corpus, tmp_path, capsys, case):
    """Every kind of label CSV is checked whole before anything is written: one bad row is one line naming the file
    and the line, rc 2, and the store is byte-identical (no other row, no metadata, no job row, no rater)."""
    header, good, bad, message = LABEL_CSV_CASES[case]
    labels = tmp_path / "labels.csv"
    labels.write_text(f"{header}\n{good}\n{bad}\n")
    before = _sha(corpus)
    assert _cli(corpus, "-q", "import", str(tmp_path / "c"), "--corpus", "c", "--labels", str(labels)) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.count("\n") == 0 and "labels.csv:3:" in err and message in err, err
    assert "internal error" not in err and "ROW" not in captured.out
    assert _sha(corpus) == before


def test_a_bad_row_in_a_folders_own_labels_file_imports_no_audio_either(store, tmp_path, capsys):
    """Checked before the audio walk: a rejected labels_consensus.csv leaves the store as it was, audio included."""
    write_audio(tmp_path / "c" / "talk.wav", 5.0)
    (tmp_path / "c" / "labels_consensus.csv").write_text(f"{MSP}\ntalk.wav,N,2,3,4,s1,Female,Train\n"
                                                         "talk.wav,N,2,3,x,s1,Female,Train\n")
    before = _sha(store)
    assert _cli(store, "-q", "import", str(tmp_path / "c"), "--corpus", "c") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "labels_consensus.csv:3:" in err and "is not a number" in err, err
    assert _sha(store) == before


def test_rows_for_audio_outside_the_corpus_are_skipped_and_counted(corpus, tmp_path, capsys):
    """A label file that covers more audio than was imported (MSP's labels for a subset of its files) is not a bad
    file: those rows are left out, counted in one line, rc 1; every other row is imported."""
    labels = tmp_path / "labels.csv"
    labels.write_text(f"{GENERIC}\ntalk.wav,1,2,5,4,3,alice\n"
                      + "".join(f"gone{k}.wav,1,2,5,4,3,alice\n" for k in range(50)))
    assert _cli(corpus, "-q", "import", str(tmp_path / "c"), "--corpus", "c", "--labels", str(labels)) == 1
    out = capsys.readouterr().out
    assert "50 rows name audio that is not a usable file of this corpus" in out and "labels.csv:3" in out, out
    assert len(out.strip().splitlines()) < 6, out
    from emotrace.core.store import Store

    s = Store(corpus.url)
    assert [(c.annotator, c.values) for c in s.labels.current_labels(corpus_id=s.corpora.corpus("c").id)] == \
        [("alice", (5.0, 4.0, 3.0))]
    s.close()


def _tier_file(tmp_path, kind: str, value: str, name: str = "talk") -> Path:
    if kind == "eaf":
        path = _eaf(tmp_path, "alice/arousal", value)
        return path.rename(tmp_path / f"{name}.eaf")
    path = _textgrid(tmp_path, "size = 1\nitem []:\n" + _interval_tier("alice/arousal", [("1", "2", value)]))
    return path.rename(tmp_path / f"{name}.TextGrid")


def test_several_annotation_files_are_all_checked_before_any_is_written(corpus, tmp_path, capsys):
    """`annotations import good.eaf bad.TextGrid`: the good file is not written when a later one is rejected."""
    good = _tier_file(tmp_path, "eaf", "5")
    bad = _tier_file(tmp_path, "textgrid", "9")
    before = _sha(corpus)
    assert _cli(corpus, "annotations", "import", str(good), str(bad), "--corpus", "c") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "talk.TextGrid" in err and "off the 1-7 scale" in err, err
    assert _sha(corpus) == before


def test_rttm_with_a_bad_line_is_one_line_and_writes_nothing(corpus, tmp_path, capsys):
    rttm = tmp_path / "c.rttm"
    rttm.write_text("SPEAKER talk 1 0.5 1.0 <NA> <NA> alice <NA> <NA>\nSPEAKER talk 1 nan 1.0 <NA> <NA> bob <NA> <NA>\n")
    before = _sha(corpus)
    assert _import(corpus, rttm) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "c.rttm:2" in err, err
    assert _sha(corpus) == before


def test_rttm_turns_past_the_audio_are_refused(corpus, tmp_path, capsys):
    rttm = tmp_path / "c.rttm"
    rttm.write_text("SPEAKER talk 1 0.5 1.0 <NA> <NA> alice <NA> <NA>\nSPEAKER talk 1 3.0 60 <NA> <NA> bob <NA> <NA>\n")
    before = _sha(corpus)
    assert _import(corpus, rttm) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "c.rttm:2" in err and "past the end of the audio" in err, err
    assert _sha(corpus) == before


def test_a_long_trace_is_read_with_flat_memory(corpus, tmp_path):
    """Reading 200,000 CARMA rows holds numbers, not rows: Python's peak allocation stays under 40 MB (the
    36 MB / 2,000,000-row file of the issue: 309 MB peak RSS in all, bench/bench_trace_import.py)."""
    import tracemalloc

    from emotrace.core.formats.traces import read_carma_csv

    path = tmp_path / "long.csv"
    with open(path, "w") as fh:
        fh.write("time,value\n")
        fh.writelines(f"{k / 100:.3f},{(k % 200) - 100}\n" for k in range(200_000))
    tracemalloc.start()
    t, v = read_carma_csv(path, duration=2001.0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(t) == 200_000 and v.min() >= 1 and v.max() <= 7
    assert peak < 40 * 1024 * 1024, peak


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_wrong_encodings_are_one_line(corpus, tmp_path, capsys, encoding):
    path = tmp_path / "trace.csv"
    path.write_text("zeit,wert\n0.5,10\n1.0,Ä\n", encoding=encoding)
    assert _cli(corpus, "traces", "import", "--corpus", "c", "--file", "talk", "--annotator", "ann",
                "--dimension", "arousal", "--path", str(path)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "trace.csv" in err, err


def test_a_damaged_mp3_says_nothing_on_stderr(store, tmp_path, capfd):
    """libmpg123 printed "Illegal Audio-MPEG-Header", "Trying to resync" and "Giving up resync" on file
    descriptor 2 during import; the file's one FAILED line (with mpg123's reason) is all the user gets."""
    import numpy as np
    import soundfile as sf

    from tests.conftest import tone

    sf.write(str(tmp_path / "good.mp3"), tone(3.0), 16000, format="MP3")
    data = (tmp_path / "good.mp3").read_bytes()
    write_audio(tmp_path / "c" / "ok.wav", 2.0)
    (tmp_path / "c" / "mid.mp3").write_bytes(data[:3000] + np.random.default_rng(0).bytes(4000) + data[7000:])
    (tmp_path / "c" / "cut.mp3").write_bytes(data[: len(data) // 2])
    capfd.readouterr()
    assert _cli(store, "-q", "import", str(tmp_path / "c"), "--corpus", "c") == 1
    out, err = capfd.readouterr()
    assert err == "", err
    assert "FAILED" in out and "mid.mp3" in out and "; mpg123: " in out, out


def test_an_eaf_with_entity_declarations_is_refused_before_parsing(corpus, tmp_path, capsys):
    """A billion-laughs EAF was refused by accident (pympi then failed on a missing attribute, a cryptic line):
    an ELAN file never declares a DOCTYPE or entities, so one that does is refused by name before any parser."""
    laughs = ('<!DOCTYPE a [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>')
    path = tmp_path / "laughs.eaf"
    path.write_text(f'<?xml version="1.0"?>{laughs}<ANNOTATION_DOCUMENT AUTHOR="&b;" DATE="x" FORMAT="3.0" '
                    'VERSION="3.0"><HEADER MEDIA_FILE="" TIME_UNITS="milliseconds"/><TIME_ORDER/></ANNOTATION_DOCUMENT>')
    before = _sha(corpus)
    assert _import(corpus, path) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "laughs.eaf: refused: an XML DOCTYPE or entity declaration" in err, err
    assert _sha(corpus) == before
