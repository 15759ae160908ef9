"""Issue 21 through the real `emotrace` command, one hostile file per format: every bad file is one line on stderr
naming the file and the row, tier or time, rc 2, and the store file is byte-identical (its SHA-256, with SQLite's
WAL folded in, before and after). The formats' own rules are tested in tests/unit/test_hostile_files.py."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import write_audio
from tests.helpers import cli, one_line_error


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """A store with corpus `c` (talk.wav, 5 s) made by the CLI once; each test works on a copy."""
    root = tmp_path_factory.mktemp("hostile")
    write_audio(root / "c" / "talk.wav", 5.0)
    r = cli("--db", str(root / "s.sqlite"), "-q", "import", str(root / "c"), "--corpus", "c")
    assert r.returncode == 0, r.stderr
    return root


@pytest.fixture
def db(imported, tmp_path) -> Path:
    shutil.copyfile(imported / "s.sqlite", tmp_path / "s.sqlite")
    return tmp_path / "s.sqlite"


def _sha(path: Path) -> str:
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _eaf(path: Path) -> None:
    import pympi

    eaf = pympi.Elan.Eaf()
    eaf.add_linked_file("file:///x/talk.wav", mimetype="audio/x-wav")
    eaf.add_tier("alice/arousal")
    eaf.add_annotation("alice/arousal", 1000, 2000, "5")
    eaf.add_annotation("alice/arousal", 2000, 3000, "1e308")
    eaf.to_file(str(path))


TEXTGRID = ('File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = 5\ntiers? <exists>\nsize = 1\n'
            'item []:\n    item [1]:\n        class = "IntervalTier"\n        name = "alice/valence"\n        xmin = 0\n'
            '        xmax = 5\n        intervals: size = 1\n        intervals [1]:\n            xmin = 1\n'
            '            xmax = 9\n            text = "5"\n')
AUDFORMAT_HEADER = ("name: db\nsource: x\nusage: unrestricted\nraters:\n  alice: {type: human}\n"
                    "schemes:\n  arousal: {dtype: float, minimum: 1.0, maximum: 7.0}\n"
                    "tables:\n  arousal:\n    type: segmented\n    columns:\n"
                    "      alice: {scheme_id: arousal, rater_id: alice}\n")


def _case(tmp: Path, fmt: str) -> tuple[list[str], str]:
    """The command (after --db) that imports a hostile file of `fmt`, and what its one line must name."""
    if fmt in ("generic", "msp", "detailed"):
        text = {"generic": "file,start,end,arousal,valence,dominance,annotator\ntalk.wav,1,2,5,4,3,alice\n"
                           "talk.wav,2,3,5,4,-3,bob\n",
                "msp": "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"
                       "talk.wav,N,2,3,4,s,Female,Train\ntalk.wav,N,2,3\n",
                "detailed": "FileName,WorkerID,EmoClass,EmoAct,EmoVal,EmoDom\ntalk.wav,w1,N,2,3,4\n"
                            "talk.wav,consensus:ewe,N,2,3,4\n"}[fmt]
        (tmp / "labels.csv").write_text(text)
        return ["import", "{audio}", "--corpus", "c", "--labels", str(tmp / "labels.csv")], "labels.csv:3"
    if fmt == "eaf":
        _eaf(tmp / "talk.eaf")
        return ["annotations", "import", str(tmp / "talk.eaf"), "--corpus", "c"], "talk.eaf: tier 'alice/arousal'"
    if fmt == "textgrid":
        (tmp / "talk.TextGrid").write_text(TEXTGRID)
        return ["annotations", "import", str(tmp / "talk.TextGrid"), "--corpus", "c"], "at 1.000-9.000 s"
    if fmt in ("rttm", "speakers"):
        (tmp / "c.rttm").write_text("SPEAKER talk 1 0.5 1.0 <NA> <NA> a <NA> <NA>\n"
                                    "SPEAKER talk 1 inf 1.0 <NA> <NA> b <NA> <NA>\n")
        if fmt == "speakers":
            return ["speakers", "import", "--corpus", "c", "--rttm", str(tmp / "c.rttm")], "c.rttm:2"
        return ["annotations", "import", str(tmp / "c.rttm"), "--corpus", "c"], "c.rttm:2"
    if fmt == "audformat":
        (tmp / "db").mkdir()
        (tmp / "db" / "db.yaml").write_text(AUDFORMAT_HEADER)
        (tmp / "db" / "db.arousal.csv").write_text("file,start,end,alice\ntalk.wav,0 days 00:00:01,0 days 00:00:02,5\n"
                                                   "talk.wav,0 days 00:00:02,0 days 00:00:03,nan?\n")
        return ["annotations", "import", str(tmp / "db"), "--corpus", "c"], "row 3"
    if fmt == "carma":
        (tmp / "trace.csv").write_text("time,value\n0.0,10\n0.1,20\n0.2,1e308\n")
        return ["traces", "import", "--corpus", "c", "--file", "talk", "--annotator", "ann", "--dimension",
                "arousal", "--path", str(tmp / "trace.csv")], "sample 3 at 0.2 s"
    assert fmt == "nova"
    (tmp / "a.annotation").write_text('<?xml version="1.0"?><annotation ssi-v="3"><info ftype="ASCII" size="3"/>'
                                      '<scheme name="arousal" type="CONTINUOUS" sr="10" min="0" max="1"/></annotation>')
    (tmp / "a.annotation~").write_text("0.5;1\n0.6;1\ninf;1\n")
    return ["traces", "import", "--corpus", "c", "--file", "talk", "--annotator", "ann", "--dimension", "arousal",
            "--format", "nova", "--path", str(tmp / "a.annotation")], "a.annotation~:3"


FORMATS = ["generic", "msp", "detailed", "eaf", "textgrid", "rttm", "speakers", "audformat", "carma", "nova"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_hostile_file_of_each_format_is_one_line_rc_2_and_the_store_is_untouched(imported, db, tmp_path, fmt):
    args, names = _case(tmp_path, fmt)
    args = [str(imported / "c") if a == "{audio}" else a for a in args]
    before = _sha(db)
    line = one_line_error(cli("--db", str(db), "-q", *args))
    assert names in line, line
    assert _sha(db) == before, fmt
