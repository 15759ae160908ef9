"""Issue 16, bad input never poisons a corpus: label rows never land on a namesake or a copy, disagreeing
duplicates warn, spaced headers work, formula cells are escaped on export, self-linking files are reported, a
zoo of broken audio files is reported one by one, and fuzzed label rows are applied or reported, never a crash
(the CLI's one-line answers and an unreadable folder: tests/integration/test_import_robustness.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emotrace.core.store import Store
from emotrace.core.workflows.importing import LabelFileError, import_folder, import_labels
from tests.conftest import write_audio
from tests.helpers import nan_wav


def test_label_rows_never_land_on_a_namesake_or_a_copy(store, tmp_path):
    root = tmp_path / "c"
    write_audio(root / "Audios" / "03-01-01-01-01-01-03.wav", 3.0, freq=200)
    write_audio(root / "Other" / "03-01-01-01-01-01-03.wav", 3.0, freq=300)
    shutil.copy(root / "Audios" / "03-01-01-01-01-01-03.wav", root / "copy.wav")  # identical audio, second path
    import_folder(store, root, "c")
    files = {Path(f.path).relative_to(root).as_posix(): f for f in store.corpora.files(store.corpora.corpus("c").id)}
    assert set(files) == {"Audios/03-01-01-01-01-01-03.wav", "Other/03-01-01-01-01-01-03.wav"}  # the copy: once
    csv = root / "labels.csv"
    csv.write_text("FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"
                   "Audios/03-01-01-01-01-01-03.wav,N,2,3,4,spkA,Female,Train\n"
                   "Missing/03-01-01-01-01-01-03.wav,N,6,6,6,spkB,Male,Test1\n"
                   "copy.wav,N,7,7,7,spkC,Male,Test1\n")
    report = import_labels(store, "c", csv, base=root)
    assert len(report.row_errors) == 2 and report.labels_added == 1
    assert any("not a file of this corpus" in why for _w, why in report.row_errors)
    audios = store.corpora.file(files["Audios/03-01-01-01-01-01-03.wav"].id)
    assert (audios.speaker, audios.split) == ("spkA", "Train")  # not overwritten by the other rows
    labels = store.labels.segment_labels(file_id=audios.id)
    assert [lab.values for lab in labels.values()] == [(2.0, 3.0, 4.0)]


def test_disagreeing_duplicates_warn_and_spaced_headers_work(store, tmp_path):
    root = tmp_path / "c"
    write_audio(root / "a.wav", 3.0)
    csv = root / "labels_consensus.csv"
    csv.write_text("FileName , EmoClass , EmoAct , EmoVal , EmoDom , SpkrID , Gender , Split_Set\n"
                   "a.wav , N , 2 , 3 , 4 , s1 , Female , Train\n"
                   "a.wav , N , 6 , 3 , 4 , s1 , Female , Train\n")
    report = import_folder(store, root, "c")
    assert report.labels_added == 2 and not report.row_errors
    assert len(report.warnings) == 1 and "WARNING" in report.summary() and "disagrees" in report.summary()


def test_csv_export_escapes_formula_cells(store, tmp_path):
    from emotrace.core.formats.label_tables import export_segments

    root = tmp_path / "c"
    write_audio(root / "a.wav", 3.0)
    (root / "labels.csv").write_text("file,start,end,arousal,valence,dominance,category,annotator\n"
                                     "a.wav,0,1,3,4,5,=cmd|' /C calc'!A0,@SUM(1)\n")
    import_folder(store, root, "c")
    export_segments(store, "c", tmp_path / "out.csv")
    text = (tmp_path / "out.csv").read_text()
    assert "'=cmd" in text and "=cmd" not in text.replace("'=cmd", "")
    assert "'@SUM" in text


def test_self_linking_files_are_reported_not_skipped(store, tmp_path):
    root = tmp_path / "c"
    write_audio(root / "a.wav")
    (root / "loop.wav").symlink_to(root / "loop.wav")
    (root / "dangling.flac").symlink_to(root / "gone.flac")
    report = import_folder(store, root, "c")
    assert report.added == 1 and {Path(p).name for p, _ in report.skipped} == {"loop.wav", "dangling.flac"}
    assert "SKIPPED" in report.summary() and report.problems == 2


def build_zoo(root: Path) -> dict[str, str | tuple[str, ...]]:
    """Broken audio files and what the import must say about each (a substring of the reason, or any of some)."""
    root.mkdir(parents=True, exist_ok=True)
    expect = {}
    (root / "empty.wav").write_bytes(b"")
    expect["empty.wav"] = "empty file"
    write_audio(root / "full.wav", 4.0)
    data = (root / "full.wav").read_bytes()
    (root / "truncated.wav").write_bytes(data[: len(data) // 3])  # header says 4 s
    expect["truncated.wav"] = "truncated"
    (root / "text.mp3").write_text("not audio at all\n" * 50)
    expect["text.mp3"] = "cannot decode"
    (root / "random.flac").write_bytes(np.random.default_rng(0).bytes(5000))
    expect["random.flac"] = ("cannot decode", "no audio samples")  # FFmpeg may probe noise as an empty stream
    nan_wav(root / "nan.wav")
    expect["nan.wav"] = "not finite"
    nan_wav(root / "inf.wav", "inf")
    expect["inf.wav"] = "not finite"
    sf.write(str(root / "zero_frames.wav"), np.zeros(0, np.float32), 16000)
    expect["zero_frames.wav"] = "samples"
    (root / "header_only.ogg").write_bytes(b"OggS" + b"\x00" * 60)
    expect["header_only.ogg"] = "cannot decode"
    (root / "full.wav").unlink()
    return expect


def test_the_zoo_of_broken_audio_files_is_reported_one_by_one(store, tmp_path):
    root = tmp_path / "zoo"
    expect = build_zoo(root)
    write_audio(root / "good.wav", 2.0)
    report = import_folder(store, root, "zoo")
    reasons = {Path(p).name: why for p, why in report.failed}
    assert set(reasons) == set(expect)
    for name, words in expect.items():
        assert any(w in reasons[name] for w in ((words,) if isinstance(words, str) else words)), (name, reasons[name])
    assert store.stats()["files_ok"] == 1
    again = import_folder(store, root, "zoo")  # a rerun adds nothing and still lists every failure
    assert again.added == 0 and len(again.failed) == len(expect)


cell = st.one_of(st.text(max_size=12), st.floats(allow_nan=True, allow_infinity=True).map(str),
                 st.integers(-10, 10).map(str), st.sampled_from(["", " ", "4", "7.0", "1", "0", "8", "=1+1", "a.wav"]))


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    store = Store(f"sqlite:///{tmp / 's.sqlite'}")
    write_audio(tmp / "c" / "a.wav", 3.0)
    write_audio(tmp / "c" / "b.wav", 2.0, freq=330)
    import_folder(store, tmp / "c", "c")
    yield store, tmp
    store.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["a.wav", "b.wav", "c.wav", "", "../a.wav", "A.WAV"]), cell, cell,
                               cell, cell, cell, cell), min_size=1, max_size=8))
def test_fuzzed_label_files_are_imported_or_rejected_whole_never_crash(fuzz_store, rows):
    import csv
    import io

    from emotrace.core.vocab import SCALE

    store, tmp = fuzz_store
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["file", "start", "end", "arousal", "valence", "dominance", "annotator"])
    writer.writerows(rows)
    path = tmp / "fuzz.csv"
    path.write_text(buf.getvalue(), encoding="utf-8", errors="surrogatepass")
    before = store.stats()["label_rows"]
    try:
        report = import_labels(store, "c", path, base=tmp / "c")
    except LabelFileError as exc:  # a bad row rejects the whole file, with one line, and writes nothing
        assert "\n" not in str(exc) and str(exc).startswith("fuzz.csv")
        assert store.stats()["label_rows"] == before
        return
    assert report.labels_added + len(report.row_errors) <= len(
        [r for r in csv.reader(io.StringIO(buf.getvalue())) if any(v.strip() for v in r)]) - 1
    assert store.stats()["label_rows"] == before + report.labels_added
    for label in store.labels.current_labels(corpus_id=store.corpora.corpus("c").id):
        assert all(SCALE.low <= v <= SCALE.high and np.isfinite(v) for v in label.values)
