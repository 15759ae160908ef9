"""The bundled model: a store without models registers it as version 1, and it predicts on its own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from training.default_model import bundled_folder, ensure_default_model

pytestmark = pytest.mark.skipif(bundled_folder() is None, reason="resources/models/emotrace-ravdess not built")


def test_empty_store_registers_the_bundled_model_once(store, monkeypatch):
    monkeypatch.delenv("EMOTRACE_NO_DEFAULT_MODEL")
    first = ensure_default_model(store)
    assert first is not None and first.active and first.parent_id is None
    assert first.config["audio_backbone"] == "whisper:tiny.en" and first.metrics["bundled"]
    assert set(first.metrics["ccc"]) == {"arousal", "valence", "dominance"}
    assert ensure_default_model(store) is None and len(store.model_versions()) == 1
    card = (bundled_folder() / "MODEL_CARD.md").read_text()
    assert "CC BY-NC-SA 4.0" in card and "proxy" in card


def test_cli_analyzes_a_fresh_store_with_the_bundled_model(store, audio_dir, monkeypatch):
    monkeypatch.delenv("EMOTRACE_NO_DEFAULT_MODEL")
    run = lambda *a: subprocess.run([sys.executable, "-m", "cli", "--db", store.url, "-q", *a],  # noqa: E731
                                    capture_output=True, text=True)
    assert run("import", str(audio_dir), "--corpus", "c").returncode == 0
    r = run("analyze", "--corpus", "c")
    assert r.returncode == 0 and "6/6 files" in r.stdout, r.stderr
    mv = store.active_model()
    f = store.files(store.corpus("c").id)[0]
    _t, wins = store.trajectory(f.id, mv.id)
    assert len(wins) >= 1 and ((wins >= 1) & (wins <= 7)).all()
    stats = json.loads(run("stats", "--json").stdout)
    assert stats  # the store stays usable; the bundled version is the only one
    assert [v.name for v in store.model_versions()] == ["default-ravdess"]
