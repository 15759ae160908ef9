"""Issue 25, item 5: `emotrace transcribe` and `emotrace analyze` on the demo audio say, per file, how much audio
they did in how long and at what rate (x real time); with stderr not a terminal (a log) the lines are plain:
no carriage returns, no escape sequences, no bar redrawn a hundred times."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

DEMO = Path(str(files("emotrace.resources") / "demo"))
FINISHED = r"{cmd} (\d)/2 {name} \|#{{24}}\| {length} of {length} in \d:\d\d \((\d+\.\d)x real time\)$"


def test_transcribe_and_analyze_log_each_files_rate(store, tmp_path, monkeypatch):
    monkeypatch.delenv("EMOTRACE_NO_DEFAULT_MODEL")  # the bundled model analyses
    (tmp_path / "demo").mkdir()
    for name in ("jfk_inaugural.flac", "two_speakers_30s.flac"):
        shutil.copy(DEMO / name, tmp_path / "demo" / name)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "emotrace.cli", "--db", store.url, *args], capture_output=True,
                              text=True, timeout=600)

    assert run("-q", "import", str(tmp_path / "demo"), "--corpus", "demo").returncode == 0
    for cmd in ("transcribe", "analyze"):
        extra = ["--model", "tiny.en", "--device", "cpu"] if cmd == "transcribe" else ["--device", "cpu"]
        r = run(cmd, "--corpus", "demo", *extra)
        assert r.returncode == 0, r.stderr
        assert "\r" not in r.stderr and "\x1b" not in r.stderr, r.stderr
        lines = r.stderr.splitlines()
        for k, (name, length) in enumerate((("jfk_inaugural.flac", "0:11"), ("two_speakers_30s.flac", "0:30"))):
            done = [m for line in lines if (m := re.search(FINISHED.format(cmd=cmd, name=name, length=length), line))]
            assert len(done) == 1, r.stderr
            assert int(done[0][1]) == k + 1 and float(done[0][2]) > 0
        assert len(lines) <= 6, r.stderr  # a few lines, not a bar redrawn per piece
