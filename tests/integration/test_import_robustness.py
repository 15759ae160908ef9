"""Issue 16 through the CLI: broken label files are one line (rc 2, no traceback), and a folder the user cannot
read is reported as SKIPPED (run as an unprivileged user)."""

from __future__ import annotations

import os

import pytest

from tests.conftest import write_audio
from tests.helpers import as_other_user, cli, one_line_error

LABEL_ZOO = {
    "binary.csv": (b"\x00\xff\xfe\x00garbage" * 20, "not a readable CSV"),
    "wrong_columns.csv": (b"a,b,c\n1,2,3\n", "unknown columns"),
    "empty.csv": (b"", "unknown columns"),
}


@pytest.mark.parametrize("name", sorted(LABEL_ZOO))
def test_broken_label_files_are_one_line(tmp_path, audio_dir, name):
    data, words = LABEL_ZOO[name]
    (audio_dir / "labels_consensus.csv").unlink()
    (tmp_path / name).write_bytes(data)
    line = one_line_error(cli("--db", str(tmp_path / "s.sqlite"), "-q", "import", str(audio_dir), "--corpus", "c",
                              "--labels", str(tmp_path / name)))
    assert words in line


def test_an_unreadable_folder_is_reported(open_tmp):
    tmp_path = open_tmp
    root = tmp_path / "c"
    write_audio(root / "ok" / "a.wav")
    write_audio(root / "locked" / "b.wav")
    (root / "locked").chmod(0o000)
    os.chmod(tmp_path, 0o777)
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o777)
    try:
        r = as_other_user("from emotrace.cli.main import main; sys.exit(main(['--db', os.environ['DB'], '-q', 'import', "
                          "os.environ['ROOT'], '--corpus', 'c']))",
                          {"DB": str(tmp_path / "s.sqlite"), "ROOT": str(root), "HOME16": str(home)})
    finally:
        (root / "locked").chmod(0o755)
    assert r.returncode == 1, r.stderr
    assert "SKIPPED" in r.stdout and "locked" in r.stdout and "cannot read this folder" in r.stdout, r.stdout
