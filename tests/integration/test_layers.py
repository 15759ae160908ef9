"""`emotrace layers` (table, JSON, PNG) on the real offline backbone, run as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from emotrace.core.workflows.importing import import_folder
from tests.conftest import labelled_corpus


@pytest.fixture
def corpus(store, tmp_path):
    import_folder(store, labelled_corpus(tmp_path / "gen"), "gen")
    return "gen"


def test_layers_command_table_json_and_png(store, corpus, tmp_path):
    png = tmp_path / "layers.png"
    cmd = [sys.executable, "-m", "emotrace.cli", "--db", store.url, "-q", "layers", "--corpus", corpus,
           "--backbone", "whisper:tiny.en", "--json", "--png", str(png)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["backbone"] == "whisper:tiny.en" and report["n_train"] == 30 and report["n_eval"] == 12
    assert len(report["probe_ccc"]) == 5 and set(report["probe_ccc"][0]) == {"arousal", "valence", "dominance"}
    assert max(p["arousal"] for p in report["probe_ccc"]) > 0.5  # arousal is audible in this corpus
    baseline = report["egemaps_ridge"]  # the field's baseline on the same split (issue 26, item 4)
    assert baseline["model"] == "eGeMAPS v02 + ridge" and (baseline["n_train"], baseline["n"]) == (30, 12)
    assert baseline["ccc"]["arousal"] > 0.5  # louder and higher means more aroused here: eGeMAPS hears it
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    r = subprocess.run(cmd[:-3], capture_output=True, text=True)
    assert r.returncode == 0 and "layer 0 = embeddings" in r.stdout and "  all " in r.stdout
    assert "eGeMAPS+ridge " in r.stdout
