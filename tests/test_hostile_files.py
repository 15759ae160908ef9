"""Hostile annotation files: nothing EmoTrace reads may run code. A YAML python tag or a pickled table in an
audformat database is refused with one line naming the file, through the real CLI, and the store stays
byte-identical. Each payload would create a marker file if it ran."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pytest

from tests.conftest import write_audio


class _Payload:
    """Unpickling this runs `touch MARKER` (the classic pickle exploit)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def _sha(store) -> str:
    """The store file's hash once every connection is closed (so SQLite's WAL is folded into the file)."""
    store.close()
    return hashlib.sha256(Path(store.url.removeprefix("sqlite:///")).read_bytes()).hexdigest()


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

    root = Path(__file__).resolve().parents[1]
    unsafe = re.compile(r"yaml\.(load|load_all|unsafe_load)\(|yaml\.(Unsafe|Full)?Loader\b|pickle\.loads?\("
                        r"|read_pickle\(|joblib\.load\(|(^|[^.\w])eval\(|Database\.load\(|allow_pickle=True"
                        r"|weights_only=False")
    hits = [f"{p.relative_to(root)}:{i}" for folder in ("core", "training", "gui", "cli")
            for p in (root / folder).rglob("*.py")
            for i, line in enumerate(p.read_text().splitlines(), 1) if unsafe.search(line)]
    assert hits == []
