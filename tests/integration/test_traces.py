"""Continuous traces through `emotrace traces` (import, lag-searched agreement, NOVA export), run as a subprocess."""

from __future__ import annotations

import numpy as np
import pytest

from emotrace.core.formats.traces import write_carma_csv


def test_cli_traces_import_export_agreement(store, traced_file, tmp_path):
    import subprocess
    import sys

    t = np.arange(0, 30, 0.1)
    write_carma_csv(tmp_path / "ann.csv", t, 4 + 2 * np.sin(t / 3))
    write_carma_csv(tmp_path / "bob.csv", t, 4 + 2 * np.sin((t - 1.5) / 3))
    run = lambda *a: subprocess.run([sys.executable, "-m", "emotrace.cli", "--db", store.url, "traces", *a, "--corpus", "c"],  # noqa: E731
                                    capture_output=True, text=True)
    for who in ("ann", "bob"):
        r = run("import", "--file", "talk", "--annotator", who, "--dimension", "arousal", "--path",
                str(tmp_path / f"{who}.csv"))
        assert r.returncode == 0 and "pass 1" in r.stdout, r.stderr
    r = run("agreement", "--json")
    import json

    rows = json.loads(r.stdout)
    assert rows[0]["best_lag"] == pytest.approx(1.5, abs=0.11)
    r = run("export", "--file", "talk", "--annotator", "ann", "--dimension", "arousal", "--format", "nova",
            "--path", str(tmp_path / "out"))
    assert r.returncode == 0 and (tmp_path / "out.annotation~").exists()
