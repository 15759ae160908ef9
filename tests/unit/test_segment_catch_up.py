"""Issue 23, item 2: segments that a rebuild makes in an analysed file (diarization, an RTTM import, a
re-transcription) get predictions of the active model at once, from their own audio only: the file is not analysed
again (its windows stay as they were, and only the new segments' seconds go through the encoder)."""

from __future__ import annotations

from types import SimpleNamespace

from tests.conftest import write_audio


def _analysed_file(store, tmp_path, tiny_model):
    """A 20 s transcribed file (speech at 1-4 s and 12-15 s), analysed by the active tiny model."""
    from emotrace.core.workflows.analyze import analyze_corpus
    from emotrace.core.workflows.importing import import_folder
    from emotrace.core.workflows.transcribe import build_units

    root = tmp_path / "c"
    write_audio(root / "talk.wav", 20.0)
    import_folder(store, root, "c")
    f = store.corpora.files(store.corpora.corpus("c").id)[0]
    for first in (1.0, 12.0):
        store.words.append_asr_words(f.id, [SimpleNamespace(start=first + k * 0.5, end=first + k * 0.5 + 0.4,
                                                            text=f" w{k}", probability=0.9) for k in range(6)])
    build_units(store, f.id)
    store.corpora.mark_transcribed(f.id, "test")
    mv = store.models.register_model(name="tiny", folder=tiny_model, parent_id=None, metrics={}, config={},
                                     data_counts={}, activate=True)
    assert analyze_corpus(store, "c", device="cpu").done == 1
    return root, f, mv


def test_segments_rebuilt_by_a_diarization_get_predictions_without_a_reanalysis(store, tmp_path, tiny_model,
                                                                                 monkeypatch):
    from emotrace.core.ser.encoders import AudioFeaturizer
    from emotrace.core.workflows.diarize import import_rttm

    root, f, mv = _analysed_file(store, tmp_path, tiny_model)
    corpus_id = store.corpora.corpus("c").id
    windows = store.predictions.window_predictions(f.id, mv.id)
    before = {s.id for s in store.segments.segments(f.id, include_superseded=False)}
    encoded: list[float] = []
    real = AudioFeaturizer.encode_batch

    def counting(self, chunks):
        encoded.extend(len(c) / 16000 for c in chunks)
        return real(self, chunks)

    monkeypatch.setattr(AudioFeaturizer, "encode_batch", counting)
    (root / "talk.rttm").write_text("SPEAKER talk 1 0.000 2.500 <NA> <NA> A <NA> <NA>\n"
                                    "SPEAKER talk 1 2.500 17.500 <NA> <NA> B <NA> <NA>\n")
    report = import_rttm(store, "c", root / "talk.rttm")
    current = store.segments.segments(f.id, include_superseded=False)
    assert {s.id for s in current} - before, "the turns should have rebuilt the units"
    predicted = store.predictions.segment_predictions(mv.id, file_id=f.id)
    assert all(s.id in predicted and predicted[s.id].values[0] is not None for s in current), report.summary()
    assert store.predictions.stale_files(corpus_id, mv.id) == set()
    assert store.predictions.window_predictions(f.id, mv.id) == windows  # the trajectory was not redone
    new_seconds = sum(s.end - s.start for s in current if s.id not in before)
    assert 0 < sum(encoded) <= new_seconds + 0.1 < 20.0  # only the new segments' audio, never the whole file
    assert "predicted" in report.summary()


def test_analyze_everywhere_catches_up_an_edited_file_from_the_edited_segments_only(store, tmp_path, tiny_model,
                                                                                    monkeypatch):
    """A split in the app leaves two new segments without predictions (the file shows stale); the app's and
    `models activate --analyze`'s catch-up (`analyze_everywhere`) predicts those two, not the whole file again."""
    from emotrace.core.ser.encoders import AudioFeaturizer
    from emotrace.core.workflows.analyze import analyze_everywhere

    _root, f, mv = _analysed_file(store, tmp_path, tiny_model)
    corpus_id = store.corpora.corpus("c").id
    seg = store.segments.segments(f.id, include_superseded=False)[0]
    store.segments.split_segment(seg.id, (seg.start + seg.end) / 2)
    assert store.predictions.stale_files(corpus_id, mv.id) == {f.id}
    encoded: list[float] = []
    real = AudioFeaturizer.encode_batch
    monkeypatch.setattr(AudioFeaturizer, "encode_batch",
                        lambda self, chunks: encoded.extend(len(c) / 16000 for c in chunks) or real(self, chunks))
    report = analyze_everywhere(store, mv.id, device="cpu")
    assert store.predictions.stale_files(corpus_id, mv.id) == set(), report.summary()
    assert "predicted 2 new segments" in report.summary()
    assert 0 < sum(encoded) <= seg.end - seg.start + 0.1
