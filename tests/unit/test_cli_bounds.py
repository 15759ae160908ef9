"""Options out of range are one line and exit code 2 before any work (issue 23, item 7): argparse types in
emotrace.cli.argtypes, checked through the real CLI entry point."""

from __future__ import annotations

import pytest

CASES = [
    (["worker", "--lease", "0"], "out of range"),
    (["worker", "--kinds", "bogus"], "unknown work kinds"),
    (["traces", "agreement", "--corpus", "c", "--max-lag", "1e6"], "out of range"),
    (["traces", "agreement", "--corpus", "c", "--max-lag", "-3"], "out of range"),
    (["traces", "agreement", "--corpus", "c", "--max-lag", "nan"], "out of range"),
    (["traces", "export", "--corpus", "c", "--rate", "0"], "out of range"),
    (["analyze", "--corpus", "c", "--model", "99999999999999999999999"], "not a model version id"),
    (["models", "activate", "99999999999999999999999"], "not a model version id"),
    (["train", "--corpus", "c", "--seed", "-1"], "out of range"),
    (["train", "--corpus", "c", "--seed", "1e20"], "not a whole number"),
    (["train", "--corpus", "c", "--device", "tpu:7"], "not a device"),
    (["job", "create", "--corpus", "c", "--name", "j", "--annotators", "a", "-n", "-5"], "out of range"),
    (["job", "create", "--corpus", "c", "--name", "j", "--annotators", "a", "-n", "0"], "out of range"),
    (["export", "--corpus", "c", "--out", "/dev/full"], "not a regular file"),
    (["export", "--corpus", "c", "--out", "t.xlsx"], "must end in .csv"),
    (["stats", "--corpus", "   "], "empty or blank"),
    (["import", "x", "--corpus", ""], "empty or blank"),
    (["raters", "--blind", " "], "empty or blank"),  # registered a blank rater
    (["job", "create", "--corpus", "c", "--name", " ", "--annotators", "a"], "empty or blank"),
    (["job", "create", "--corpus", "c", "--name", "j", "--annotators", " , "], "empty or blank"),
    (["job", "create", "--corpus", "c", "--name", "j", "--annotators", "a", "--overlap", "-1"], "out of range"),
    (["diarize", "--corpus", "c", "--speakers", "-2"], "out of range"),
    (["diarize", "--corpus", "c", "--max-speakers", "0"], "out of range"),
    (["transcribe", "--corpus", "c", "--workers", "-1"], "out of range"),
]


@pytest.mark.parametrize(("argv", "message"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_nonsense_options_are_refused_before_any_work(tmp_path, capsys, argv, message):
    from emotrace.cli.main import main

    db = tmp_path / "never.sqlite"
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(db), *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.strip().count("\n") == 0, err  # one line: no usage block
    assert not db.exists()  # refused before the store was even opened


def test_a_pickled_backbone_folder_is_one_line_before_any_work(tmp_path, capsys):
    """`train --backbone DIR` on a folder holding a pickle: 12 lines suggesting `weights_only=False` (or, for a
    plain state dict, the pickle loaded); now one line naming the file, before the store is opened."""
    from emotrace.cli.main import main

    folder = tmp_path / "enc"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "hubert"}')
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04K\x01.")  # a pickle
    db = tmp_path / "never.sqlite"
    assert main(["--db", str(db), "train", "--corpus", "c", "--backbone", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(folder / "pytorch_model.bin") in err and "safetensors only" in err, err
    assert not db.exists()


@pytest.mark.parametrize("argv", [["annotations", "export", "--corpus", "c"], ["speakers", "rename", "--corpus", "c"]])
def test_missing_companion_options_are_one_line(tmp_path, capsys, argv):
    from emotrace.cli.main import main

    db = tmp_path / "never.sqlite"
    assert main(["--db", str(db), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and ("--out" in err or "--to" in err), err
    assert not db.exists()
