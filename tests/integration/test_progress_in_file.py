"""Issue 12: a long file's transcription reports how far it is inside the file, not only "0/1" until done."""

import numpy as np
import soundfile as sf

from emotrace.core.workflows.importing import import_folder
from tests.conftest import SPEECH_SAMPLES as SAMPLES


def test_transcription_reports_progress_within_a_file(store, tmp_path):
    from emotrace.core.speech.asr import Transcriber
    from emotrace.core.workflows.transcribe import transcribe_corpus

    clips = [sf.read(p, dtype="float32")[0] for p in sorted(SAMPLES.glob("*.wav"))[:3]]
    pause = np.zeros(16000, np.float32)
    (tmp_path / "long").mkdir()
    sf.write(tmp_path / "long" / "talk.wav", np.concatenate([x for c in clips for x in (c, pause)]), 16000)
    import_folder(store, tmp_path / "long", "long")
    seen = []
    transcribe_corpus(store, "long", Transcriber("tiny.en", device="cpu", beam_size=1, batch_size=0),
                      progress=lambda done, total, msg: seen.append((done, total, msg)))
    within = [msg for done, total, msg in seen if done == 0 and "%" in msg]
    assert len(within) >= 2, seen  # more than one step inside the one file
    assert within[0].startswith("talk.wav ") and " of 0:" in within[0]
    percents = [int(m.split()[1].rstrip("%")) for m in within]
    assert percents == sorted(percents) and percents[-1] <= 100
