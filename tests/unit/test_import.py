import shutil

from sqlalchemy import func, select

from emotrace.core.store import AudioFile, Label, Segment
from emotrace.core.workflows.importing import import_folder, import_labels
from tests.conftest import write_audio


def _count(store, model):
    with store.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_import_with_msp_labels(store, audio_dir):
    seen = []
    report = import_folder(store, audio_dir, "c", progress=lambda d, t, m: seen.append((d, t)))
    assert (report.added, len(report.failed), report.problems) == (6, 0, 0)
    assert report.segments_added == 6 and report.labels_added == 6
    assert seen[-1] == (6, 6)
    files = store.corpora.files(store.corpora.corpus("c").id)
    b = next(f for f in files if f.path.endswith("b.flac"))
    assert (b.sample_rate, b.channels, b.speaker, b.split) == (44100, 2, "spk1", "Train")
    assert abs(b.duration - 4.5) < 0.05
    seg = store.segments.segments(b.id)[0]
    assert seg.origin == "imported" and seg.end == b.duration and seg.split == "Train"
    label = store.labels.segment_labels(file_id=b.id)[seg.id]
    assert (label.values[0], label.annotators, label.origin) == (2.5, ("consensus",), "imported")


def test_reimport_is_idempotent(store, audio_dir):
    import_folder(store, audio_dir, "c")
    before = (_count(store, AudioFile), _count(store, Segment), _count(store, Label))
    again = import_folder(store, audio_dir, "c")
    assert (again.added, again.unchanged, again.labels_added) == (0, 6, 0)
    assert (_count(store, AudioFile), _count(store, Segment), _count(store, Label)) == before


def test_moved_file_is_relinked_not_duplicated(store, audio_dir):
    import_folder(store, audio_dir, "c")
    (audio_dir / "moved").mkdir()
    shutil.move(audio_dir / "spk1" / "a.wav", audio_dir / "moved" / "a_renamed.wav")
    report = import_folder(store, audio_dir, "c")
    assert report.relinked == 1 and report.added == 0
    paths = [f.path for f in store.corpora.files(store.corpora.corpus("c").id)]
    assert len(paths) == 6 and any(p.endswith("a_renamed.wav") for p in paths)


def test_broken_files_and_rows_for_absent_audio_are_reported_and_the_rest_imports(store, audio_dir):
    import pytest

    from emotrace.core.workflows.importing import LabelFileError

    (audio_dir / "empty.wav").write_bytes(b"")
    (audio_dir / "text.wav").write_text("hello\n" * 50)
    good = (audio_dir / "spk1" / "a.wav").read_bytes()
    (audio_dir / "cut.wav").write_bytes(good[: len(good) // 3])
    csv = audio_dir / "labels_consensus.csv"
    original = csv.read_text()
    csv.write_text(original + "missing.wav,N,3,3,3,x,Male,Train\nspk1/a.wav,N,9,3,3,x,Male,Train\n")
    with pytest.raises(LabelFileError, match="labels_consensus.csv:9: EmoAct 9 is off the 1-7 scale"):
        import_folder(store, audio_dir, "c")  # a bad row rejects the file before any work
    assert store.corpora.corpora() == []
    csv.write_text(original + "missing.wav,N,3,3,3,x,Male,Train\n")
    report = import_folder(store, audio_dir, "c")
    reasons = dict((p.rsplit("/", 1)[-1], why) for p, why in report.failed)
    assert set(reasons) == {"empty.wav", "text.wav", "cut.wav"}
    assert "empty" in reasons["empty.wav"] and "truncated" in reasons["cut.wav"]
    assert "cannot decode" in reasons["text.wav"]
    assert report.labels_added == 6
    row_reasons = " | ".join(why for _, why in report.row_errors)
    assert "no such audio file" in row_reasons and "SKIPPED 1 rows" in report.summary()
    failed = store.corpora.files(store.corpora.corpus("c").id, status="error")
    assert len(failed) == 3 and all(f.error for f in failed)


def test_generic_csv_segments(store, tmp_path):
    root = tmp_path / "g"
    write_audio(root / "talk.wav", 20.0)
    (root / "turns.csv").write_text(
        "file,start,end,arousal,valence,dominance,category,annotator\n"
        "talk.wav,0,5,3,4,5,H,anna\ntalk.wav,5,11.5,6,2,3,A,anna\ntalk.wav,18,25,4,4,4,N,anna\n"
    )
    import pytest

    from emotrace.core.workflows.importing import LabelFileError

    with pytest.raises(LabelFileError, match="turns.csv:4: end 25 s is past the end of the audio"):
        import_folder(store, root, "g", labels=root / "turns.csv")  # checked after the walk: this audio is new
    assert store.labels.current_labels(corpus_id=store.corpora.corpus("g").id) == []  # the file wrote nothing
    (root / "turns.csv").write_text("\n".join((root / "turns.csv").read_text().splitlines()[:3]) + "\n")
    report = import_folder(store, root, "g", labels=root / "turns.csv")
    assert report.segments_added == 2 and report.labels_added == 2
    f = store.corpora.files(store.corpora.corpus("g").id)[0]
    assert [(s.start, s.end) for s in store.segments.segments(f.id)] == [(0, 5), (5, 11.5)]


def test_malformed_csv_is_a_clear_error(store, audio_dir):
    import pytest

    from emotrace.core.workflows.importing import LabelFileError

    import_folder(store, audio_dir, "c")
    bad = audio_dir / "bad.csv"
    bad.write_text("name;value\nx;1\n")
    with pytest.raises(LabelFileError, match="unknown columns"):
        import_labels(store, "c", bad)


def test_import_caches_the_waveform_envelope_from_its_own_decode(store, audio_dir):
    import numpy as np

    from emotrace.core.audio.decode import AudioSource
    from emotrace.core.audio.envelope import EnvelopeBuilder, _cache_path, envelope

    import_folder(store, audio_dir, "c")
    f = next(f for f in store.corpora.files(store.corpora.corpus("c").id) if f.path.endswith("b.flac"))
    assert _cache_path(f.fingerprint).is_file()
    cached = envelope(f.path, f.fingerprint)
    fresh = EnvelopeBuilder()
    for chunk in AudioSource(f.path).iter_chunks(60.0):
        fresh.add(chunk)
    mins, maxs, duration = fresh.finish()
    np.testing.assert_allclose(cached.levels[0][0], mins)
    np.testing.assert_allclose(cached.levels[0][1], maxs)
    assert cached.duration == duration == f.duration
    x, y = cached.view(0.0, 4.5, pixels=300)
    assert len(x) == len(y) and 150 <= len(x) // 2 <= 600  # about one min/max pair per pixel
