"""The bundled model through the CLI: `analyze` on a fresh store registers it and predicts with it."""

from __future__ import annotations

import json
import subprocess
import sys


def test_cli_analyzes_a_fresh_store_with_the_bundled_model(store, audio_dir, monkeypatch):
    monkeypatch.delenv("EMOTRACE_NO_DEFAULT_MODEL")
    run = lambda *a: subprocess.run([sys.executable, "-m", "emotrace.cli", "--db", store.url, "-q", *a],  # noqa: E731
                                    capture_output=True, text=True)
    assert run("import", str(audio_dir), "--corpus", "c").returncode == 0
    r = run("analyze", "--corpus", "c")
    assert r.returncode == 0 and "6/6 files" in r.stdout, r.stderr
    mv = store.models.active_model()
    f = store.corpora.files(store.corpora.corpus("c").id)[0]
    _t, wins = store.predictions.trajectory(f.id, mv.id)
    assert len(wins) >= 1 and ((wins >= 1) & (wins <= 7)).all()
    stats = json.loads(run("stats", "--json").stdout)
    assert stats  # the store stays usable; the bundled version is the only one
    assert [v.name for v in store.models.model_versions()] == ["default-ravdess"]


def test_opening_a_store_that_has_its_model_imports_no_torch(store, monkeypatch):
    """Every store-opening command (stats, export, check, ...) went through the registry, which imports torch to
    check model folders: 256 MB and seconds before any work. Only the first open, which registers the bundled
    model, needs it."""
    monkeypatch.delenv("EMOTRACE_NO_DEFAULT_MODEL")
    code = ("import sys; from emotrace.training.default_model import open_store; "
            f"s = open_store({store.url!r}); print(len(s.models.model_versions()), 'torch' in sys.modules)")
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert first.stdout.split() == ["1", "True"], first.stderr
    assert again.stdout.split() == ["1", "False"], again.stderr
