"""On PostgreSQL: an analysed file's segments rebuilt at new speaker turns get predictions of the active model at
once, beside its windows, and nothing is left stale; re-imported changed audio keeps the speaker corrections made
on it (on SQLite: tests/unit/test_segment_catch_up.py, tests/unit/test_reimport_keeps_human_work.py)."""

from __future__ import annotations

from emotrace.core.store import Store
from tests.conftest import tiny_ser_model, write_audio
from tests.postgres.conftest import throwaway_pg_database
from tests.unit.test_segment_catch_up import _analysed_file


def test_rebuilt_segments_are_caught_up_on_postgresql(tmp_path):
    from emotrace.core.speech.diarization import Turn
    from emotrace.core.vocab import FileStatus, TurnSource
    from emotrace.core.workflows.analyze import catch_up_segments
    from emotrace.core.workflows.importing import import_folder
    from emotrace.core.workflows.transcribe import build_units

    with throwaway_pg_database() as url:
        store = Store(url)
        try:
            root, f, mv = _analysed_file(store, tmp_path, tiny_ser_model(tmp_path / "model"))
            windows = store.predictions.window_predictions(f.id, mv.id)
            store.speakers.write_speaker_turns(f.id, [Turn(0.0, 2.5, "A"), Turn(2.5, 20.0, "B")],
                                               TurnSource.DIARIZATION)
            build_units(store, f.id)
            corpus_id = store.corpora.corpus("c").id
            assert store.predictions.stale_files(corpus_id, mv.id) == {f.id}
            assert catch_up_segments(store, [f.id], device="cpu").segments > 0
            assert store.predictions.stale_files(corpus_id, mv.id) == set()
            assert store.predictions.window_predictions(f.id, mv.id) == windows
            store.speakers.rename_speaker(f.id, "A", "Alice")
            write_audio(root / "talk.wav", 12.0, freq=330)
            report = import_folder(store, root, "c")
            old = store.corpora.files(corpus_id, status=FileStatus.REPLACED)
            assert [o.id for o in old] == [f.id] and len(store.speakers.speaker_revisions(f.id)) == 2
            assert "speaker corrections" in report.summary()
        finally:
            store.engine.dispose()
