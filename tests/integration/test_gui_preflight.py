"""`emotrace gui` without a display, run as a user would: one line, rc 2, before Qt is imported."""

from __future__ import annotations

import subprocess
import sys


def test_no_display_is_one_line_and_rc_2(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "EMOTRACE_HOME": str(tmp_path), "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "emotrace.cli", "gui"], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "no display" in r.stderr
