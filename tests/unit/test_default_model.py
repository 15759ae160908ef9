"""The bundled model: a store without models registers it as version 1 (its predictions through the CLI:
tests/integration/test_default_model.py)."""

from __future__ import annotations

from emotrace.training.default_model import BUNDLED, bundled_folder, ensure_default_model, open_store


def test_the_bundled_model_is_package_data():
    """It ships inside the package (emotrace.resources), so an installed wheel finds it from any folder; a missing
    bundle fails here instead of skipping."""
    assert bundled_folder() == BUNDLED and BUNDLED.parts[-3:] == ("resources", "models", "emotrace-ravdess")
    assert (BUNDLED / "LICENSE").read_text().count("CC BY-NC-SA 4.0") >= 1


def test_the_app_and_the_cli_open_a_fresh_store_the_same_way(tmp_path, monkeypatch):
    """`emotrace gui` used to open Store(url) directly, so a fresh store had no model in the app."""
    monkeypatch.delenv("EMOTRACE_NO_DEFAULT_MODEL")
    store = open_store(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    assert [v.name for v in store.models.model_versions()] == ["default-ravdess"] and store.models.active_model() is not None
    store.close()


def test_empty_store_registers_the_bundled_model_once(store, monkeypatch):
    monkeypatch.delenv("EMOTRACE_NO_DEFAULT_MODEL")
    first = ensure_default_model(store)
    assert first is not None and first.active and first.parent_id is None
    assert first.config["audio_backbone"] == "whisper:tiny.en" and first.metrics["bundled"]
    assert set(first.metrics["ccc"]) == {"arousal", "valence", "dominance"}
    assert ensure_default_model(store) is None and len(store.models.model_versions()) == 1
    card = (bundled_folder() / "MODEL_CARD.md").read_text()
    assert "CC BY-NC-SA 4.0" in card and "proxy" in card
