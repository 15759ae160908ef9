"""Issue 23, item 6: files that changed on disk after import. Analysis checks each file against what import
recorded (it exists, same size, same content hash) and reports a FAILED line, leaving the file unanalysed so a
rerun retries; a labelled file renamed to an earlier-sorting name, with a new take under its old name, is
relinked by the first import. (Transcribe and diarize through the CLI: tests/integration/test_changed_files.py.)"""

from __future__ import annotations

import pytest

from tests.conftest import write_audio


def _corpus(store, tmp_path):
    from emotrace.core.workflows.importing import import_folder

    root = tmp_path / "c"
    write_audio(root / "a.wav", 3.0)
    write_audio(root / "b.wav", 2.0, freq=300)
    import_folder(store, root, "c")
    return root, {f.path: f.id for f in store.corpora.files(store.corpora.corpus("c").id)}


@pytest.mark.parametrize("change, words", [
    (lambda p: p.write_bytes(b"\x00garbage" * 4000), "changed on disk"),
    (lambda p: write_audio(p, 0.05, freq=500), "changed on disk"),  # garbage that decodes: once `no_audio`, 0 failed
    (lambda p: p.write_bytes(p.read_bytes()[:-2] + b"\x01\x02"), "changed on disk"),  # same size, new content
    (lambda p: p.unlink(), "no longer there"),
])
def test_analyze_reports_a_changed_file_and_leaves_it_to_a_rerun(store, tmp_path, tiny_model, change, words):
    from emotrace.core.workflows.analyze import analyze_corpus

    root, ids = _corpus(store, tmp_path)
    mv = store.models.register_model(name="tiny", folder=tiny_model, parent_id=None, metrics={}, config={},
                                     data_counts={}, activate=True)
    change(root / "a.wav")
    corpus_id = store.corpora.corpus("c").id
    for _run in range(2):  # the rerun retries the file (and fails again, as it still differs)
        report = analyze_corpus(store, "c", device="cpu")
        assert report.done == 1 and [p for p, _why in report.failed] == [str(root / "a.wav")], report.summary()
        assert words in report.failed[0][1] and "re-import" in report.failed[0][1]
        assert store.predictions.predicted_files(corpus_id, mv.id) == {ids[str(root / "b.wav")]}


def test_a_renamed_labelled_file_with_a_new_take_under_its_old_name_is_relinked_at_once(store, tmp_path):
    from emotrace.core.workflows.importing import import_folder

    root = tmp_path / "c"
    write_audio(root / "take.wav", 3.0)
    (root / "labels.csv").write_text("file,start,end,arousal,valence,dominance\ntake.wav,0,2,5,4,3\n")
    import_folder(store, root, "c")
    (root / "labels.csv").unlink()
    corpus_id = store.corpora.corpus("c").id
    labelled = store.corpora.files(corpus_id)[0].id
    (root / "take.wav").rename(root / "a_take.wav")  # sorts before take.wav
    write_audio(root / "take.wav", 2.5, freq=330)  # a new take under the old name
    report = import_folder(store, root, "c")
    assert report.relinked == 1 and report.added == 1 and not report.replaced, report.summary()
    moved = store.corpora.file(labelled)
    assert moved.path == str(root / "a_take.wav") and moved.status == "ok"
    assert store.labels.label_count(file_id=labelled) == 1
    again = import_folder(store, root, "c")  # nothing left for a second import to fix
    assert (again.relinked, again.added, again.unchanged) == (0, 0, 2), again.summary()
