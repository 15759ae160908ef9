"""Issue 25, item 5: trajectories appear while analysis runs. Each piece of a file's windows is stored as it is
predicted, flagged `partial`, and announced with a partial `predictions_changed`; the file counts as analysed only
once its final rows replace them in one transaction, so a run killed halfway leaves a file that the next `analyze`
takes up again, and a re-analysis never mixes old and new windows."""

from __future__ import annotations

from emotrace.core.store import PredictionRow
from emotrace.core.vocab import PredictionFlag, PredictionKind
from tests.conftest import write_audio


def _file(store, tmp_path, seconds: float = 20.0):
    from emotrace.core.workflows.importing import import_folder

    write_audio(tmp_path / "c" / "talk.wav", seconds)
    import_folder(store, tmp_path / "c", "c")
    return store.corpora.files(store.corpora.corpus("c").id)[0]


def _windows(a: float, b: float) -> list[PredictionRow]:
    return [PredictionRow(None, PredictionKind.WINDOW, s, s + 4.0, (4.0, 4.5, 3.5)) for s in range(int(a), int(b))]


def test_partial_windows_are_shown_but_the_file_is_not_analysed_until_its_final_rows(store, tmp_path, tiny_model):
    f = _file(store, tmp_path)
    mv = store.models.register_model(name="t", folder=tiny_model, parent_id=None, metrics={}, config={},
                                     data_counts={}, activate=True)
    events = []
    store.subscribe(lambda name, info: events.append((name, info)))
    corpus_id = store.corpora.corpus("c").id
    assert store.predictions.add_partial_windows(f.id, mv.id, _windows(0, 5))
    centres, values = store.predictions.trajectory(f.id, mv.id)
    assert len(centres) == 5 and values[0, 0] == 4.0
    assert ("predictions_changed", {"file_id": f.id, "model_version_id": mv.id, "partial": True}) in events
    assert f.id not in store.predictions.predicted_files(corpus_id, mv.id)  # not analysed yet: analyze takes it up
    assert mv.id not in store.predictions.predicted_models(f.id)
    store.predictions.replace_predictions(f.id, mv.id, _windows(0, 17))
    rows = store.predictions.window_predictions(f.id, mv.id)
    assert len(rows) == 17 and all(r.flag != PredictionFlag.PARTIAL for r in rows)  # replaced, none left over
    assert f.id in store.predictions.predicted_files(corpus_id, mv.id)


def test_a_reanalysis_streams_nothing_over_the_old_trajectory(store, tmp_path, tiny_model):
    f = _file(store, tmp_path)
    mv = store.models.register_model(name="t", folder=tiny_model, parent_id=None, metrics={}, config={},
                                     data_counts={}, activate=True)
    store.predictions.replace_predictions(f.id, mv.id, _windows(0, 17))
    assert not store.predictions.add_partial_windows(f.id, mv.id, _windows(0, 5))
    assert len(store.predictions.window_predictions(f.id, mv.id)) == 17


def test_analysis_stores_windows_piece_by_piece(store, tmp_path, tiny_model):
    """A 200 s file (more than one encoder batch of chunks) analysed by a real (tiny) model: partial events come
    while it runs, each with more windows in the store than the one before, and the end state has no partial row."""
    from emotrace.core.workflows.analyze import analyze_corpus

    f = _file(store, tmp_path, 200.0)
    mv = store.models.register_model(name="t", folder=tiny_model, parent_id=None, metrics={}, config={},
                                     data_counts={}, activate=True)
    seen = []

    def on_event(name, info):
        if name == "predictions_changed" and info.get("partial"):
            seen.append(len(store.predictions.trajectory(f.id, mv.id)[0]))

    store.subscribe(on_event)
    analyze_corpus(store, "c", device="cpu", batch_size=1)
    assert len(seen) >= 2 and seen == sorted(seen) and seen[0] > 0
    rows = store.predictions.window_predictions(f.id, mv.id)
    assert len(rows) > seen[-1] - 1 and all(r.flag != PredictionFlag.PARTIAL for r in rows)


def test_a_new_run_replaces_the_partial_windows_a_killed_run_left(store, tmp_path, tiny_model):
    """A run killed halfway leaves partial windows; the next run's first piece replaces them (the view never
    shows the old piece beside the new one), and its later pieces add to its own."""
    f = _file(store, tmp_path)
    mv = store.models.register_model(name="t", folder=tiny_model, parent_id=None, metrics={}, config={},
                                     data_counts={}, activate=True)
    assert store.predictions.add_partial_windows(f.id, mv.id, _windows(0, 8))  # the killed run's pieces
    assert store.predictions.add_partial_windows(f.id, mv.id, _windows(0, 5), first=True)  # the next run
    assert len(store.predictions.trajectory(f.id, mv.id)[0]) == 5
    assert store.predictions.add_partial_windows(f.id, mv.id, _windows(5, 9))
    assert len(store.predictions.trajectory(f.id, mv.id)[0]) == 9
