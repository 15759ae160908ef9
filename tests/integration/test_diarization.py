"""Who is speaking: diarization with the packaged GE2E encoder on real speech of two different people, in
process and through `emotrace diarize` / `speakers` (speaker turns in the store, RTTM and everything downstream
following speakers: tests/unit/test_speakers.py). No test needs the shared data folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emotrace.core.audio.decode import AudioSource
from emotrace.core.speech.diarization import DiarizationOptions, SpeakerEncoder, diarize_file
from tests.conftest import SPEECH_SAMPLES as SAMPLES
from tests.helpers import REPO as ROOT

CHANGE = 11.5  # JFK speaks until ~10.6 s; the other voice starts after a 1 s pause, at 12.0 s


@pytest.fixture(scope="module")
def encoder():
    return SpeakerEncoder()


@pytest.fixture(scope="module")
def two_voices(tmp_path_factory) -> Path:
    """JFK (resources/demo, public domain) then the pytest-audioeval reader: two people, known change."""
    root = tmp_path_factory.mktemp("voices")
    jfk = AudioSource(ROOT / "resources" / "demo" / "jfk_inaugural.flac").decode_all()
    other = [AudioSource(SAMPLES / n).decode_all() for n in ("quick_brown_fox.wav", "counting.wav")]
    pause = np.zeros(16000, np.float32)
    audio = np.concatenate([jfk, pause, other[0], pause, other[1]])
    assert abs(len(jfk) / 16000 + 1.0 - 12.0) < 0.05
    sf.write(root / "talk.wav", audio, 16000)
    return root


def test_diarization_finds_both_voices_and_the_change(encoder, two_voices):
    turns = diarize_file(two_voices / "talk.wav", encoder)
    assert len({t.speaker for t in turns}) == 2
    before = {t.speaker for t in turns if t.end <= CHANGE}
    after = {t.speaker for t in turns if t.start >= CHANGE}
    assert len(before) == 1 and len(after) == 1 and before != after
    assert all(t.end <= CHANGE + 0.25 or t.start >= CHANGE - 0.25 for t in turns)  # no turn spans the change
    assert turns[0].speaker == "S1" and max(t.end for t in turns) > 17.0


def test_one_voice_is_one_speaker(encoder):
    turns = diarize_file(ROOT / "resources" / "demo" / "jfk_inaugural.flac", encoder)
    assert {t.speaker for t in turns} == {"S1"}


def test_given_speaker_count_is_honoured(encoder, two_voices):
    assert len({t.speaker for t in diarize_file(two_voices / "talk.wav", encoder, DiarizationOptions(speakers=2))}) == 2


def test_cli_diarize_and_list(two_voices, tmp_path):
    db = str(tmp_path / "s.sqlite")
    run = lambda *a: subprocess.run([sys.executable, "-m", "emotrace.cli", "--db", db, "-q", *a], capture_output=True,  # noqa: E731
                                    text=True)
    assert run("import", str(two_voices), "--corpus", "v").returncode == 0
    r = run("diarize", "--corpus", "v")
    assert r.returncode == 0 and "talk.wav: 2" in r.stdout, r.stdout + r.stderr
    r = run("speakers", "list", "--corpus", "v")
    assert "S1" in r.stdout and "S2" in r.stdout
    r = run("speakers", "rename", "--corpus", "v", "--file", "talk", "--speaker", "S1", "--to", "president")
    assert r.returncode == 0 and "revision 2" in r.stdout
    r = run("speakers", "split", "--corpus", "v", "--file", "talk", "--turn", "99", "--at", "3")
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr


def test_a_rerun_keeps_finished_files_and_manual_corrections(two_voices, tmp_path):
    """A rerun (after a killed run, say) does not diarize a finished file again, and a manual rename is never
    replaced silently: the file is kept and the report says so (issue 23, item 2)."""
    from emotrace.core.store import Store
    from emotrace.core.workflows.diarize import diarize_corpus
    from emotrace.core.workflows.importing import import_folder

    store = Store(str(tmp_path / "s.sqlite"))
    import_folder(store, two_voices, "v")
    fid = store.corpora.files(store.corpora.corpus("v").id)[0].id
    diarize_corpus(store, "v")
    assert len(store.speakers.speaker_revisions(fid)) == 1
    diarize_corpus(store, "v")
    assert len(store.speakers.speaker_revisions(fid)) == 1  # finished: not a second revision
    store.speakers.rename_speaker(fid, "S1", "president")
    report = diarize_corpus(store, "v", redo=True)
    assert len(store.speakers.speaker_revisions(fid)) == 2  # the rename stands
    assert "president" in {t.speaker for t in store.speakers.speaker_turns(fid)}
    assert "KEPT" in report.summary() and "manual corrections" in report.summary()
    store.close()


def test_a_rerun_after_an_interrupted_diarize_writes_no_second_revision(two_voices, tmp_path):
    """A diarization stopped after its first file (cancelled, as a killed run stops): the rerun diarizes only the
    file left, and the finished one keeps its one revision (issue 23, item 2: it got a second one)."""
    import shutil

    from emotrace.core.progress import Cancelled
    from emotrace.core.store import Store
    from emotrace.core.workflows.diarize import diarize_corpus
    from emotrace.core.workflows.importing import import_folder

    root = tmp_path / "two"
    root.mkdir()
    shutil.copy(two_voices / "talk.wav", root / "a.wav")
    shutil.copy(ROOT / "resources" / "demo" / "jfk_inaugural.flac", root / "b.flac")
    store = Store(str(tmp_path / "s.sqlite"))
    import_folder(store, root, "v")
    first, second = (f.id for f in store.corpora.files(store.corpora.corpus("v").id))
    with pytest.raises(Cancelled):
        diarize_corpus(store, "v", cancel=lambda: bool(store.speakers.speaker_revisions(first)))
    assert len(store.speakers.speaker_revisions(first)) == 1 and not store.speakers.speaker_revisions(second)
    report = diarize_corpus(store, "v")
    assert report.skipped == 1 and report.done == 1, report.summary()
    assert [len(store.speakers.speaker_revisions(f)) for f in (first, second)] == [1, 1]
    store.close()


DEMO_TWO = ROOT / "resources" / "demo" / "two_speakers_30s.flac"


def test_batched_windows_are_resemblyzers_embeddings(encoder):
    """Every region's windows through the LSTM in shared batches (any batch size) give the embeddings and centres
    resemblyzer's own `embed_utterance` gives region by region (issue 25, item 3)."""
    from resemblyzer import VoiceEncoder

    from emotrace.core.speech.ge2e import SpeakerEncoder as Batched

    audio = AudioSource(DEMO_TWO).decode_all()
    bounds = [(8000, 70001), (80000, 82000), (90000, 300000), (300000, 305000), (320000, len(audio))]
    reference = VoiceEncoder("cpu", verbose=False)
    want, centres = [], []
    for a, b in bounds:
        if b - a < 3200:  # under 0.2 s: no window
            continue
        _, partials, slices = reference.embed_utterance(audio[a:b], return_partials=True, rate=4.0, min_coverage=0.5)
        want.append(partials)
        centres += [(a + min((s.start + s.stop) / 2, b - a)) / 16000 for s in slices]
    want = np.concatenate(want)
    for batched in (encoder, Batched(batch=7)):
        got, at = batched.embed_regions(audio, bounds, 4.0)
        assert got.shape == want.shape
        assert np.min(np.sum(got * want, axis=1)) > 0.9999  # unit vectors: cosine similarity
        np.testing.assert_allclose(at, centres, atol=1e-9)


def test_diarization_reports_its_position_within_the_file(tmp_path):
    """diarize_file calls on_position with increasing positions inside the file, ending at its duration, and
    diarize_corpus turns them into the message transcribe and analyze write ("name 40% (0:12 of 0:30)") that
    the CLI bar and the app's jobs dock read (issue 25, item 5)."""
    import shutil

    from emotrace.core.progress import fraction_in_file
    from emotrace.core.speech.ge2e import SpeakerEncoder as Batched
    from emotrace.core.store import Store
    from emotrace.core.workflows.diarize import diarize_corpus
    from emotrace.core.workflows.importing import import_folder

    seen: list[tuple[float, float]] = []
    turns = diarize_file(DEMO_TWO, Batched(batch=16), on_position=lambda t, d: seen.append((t, d)))
    assert turns and len(seen) >= 4
    positions = [t for t, _ in seen]
    assert positions == sorted(positions) and 0 < positions[0] < positions[-2] < 30.0
    assert all(abs(d - 30.0) < 0.05 for _, d in seen) and positions[-1] == seen[0][1]

    root = tmp_path / "audio"
    root.mkdir()
    shutil.copy(DEMO_TWO, root / "talk.flac")
    store = Store(str(tmp_path / "s.sqlite"))
    import_folder(store, root, "v")
    messages: list[str] = []
    diarize_corpus(store, "v", progress=lambda done, total, message: messages.append(message))
    store.close()
    within = [m for m in messages if "%" in m]
    assert within and all(m.startswith("talk.flac ") and m.endswith(" of 0:30)") for m in within), messages
    fractions = [fraction_in_file(m) for m in within]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and within[-1] == "talk.flac 100% (0:30 of 0:30)"
