"""Issue 23, item 6, through the CLI: a file overwritten with garbage after import is a FAILED line in
transcribe, diarize and analyze (it used to be marked transcribed with 0 words, diarized as 0 speakers and
analysed as `no_audio`, all "0 failed"), and it stays not-done, so a rerun retries it. (Analysis and the relink
order in process: tests/unit/test_changed_files.py.)"""

from __future__ import annotations

import numpy as np
import soundfile as sf

from emotrace.core.store import Store
from emotrace.core.workflows.importing import import_folder
from tests.conftest import write_audio
from tests.helpers import cli


def test_a_file_overwritten_after_import_fails_every_job_and_stays_not_done(tmp_path):
    db = tmp_path / "s.sqlite"
    root = tmp_path / "c"
    write_audio(root / "good.wav", 2.0)
    write_audio(root / "bad.wav", 2.0, freq=330)
    store = Store(f"sqlite:///{db}")
    import_folder(store, root, "c")
    # garbage that still decodes: a few samples of noise under a valid header (raw garbage already failed to decode)
    sf.write(str(root / "bad.wav"), np.random.default_rng(0).uniform(-1, 1, 800).astype(np.float32), 16000)
    bad = str(root / "bad.wav")
    for _run in range(2):  # the rerun retries the file: nothing marked it done
        r = cli("--db", str(db), "-q", "transcribe", "--corpus", "c", "--model", "tiny.en", "--beam-size", "1")
        assert r.returncode == 1 and f"FAILED {bad}: bad.wav changed on disk" in r.stdout, r.stdout + r.stderr
        assert "1 failed" in r.stdout and "Traceback" not in r.stderr
    files = {f.path: f for f in store.corpora.files(store.corpora.corpus("c").id)}
    assert files[bad].transcribed_at is None and files[str(root / "good.wav")].transcribed_at is not None
    r = cli("--db", str(db), "-q", "diarize", "--corpus", "c")
    assert r.returncode == 1 and f"FAILED {bad}: bad.wav changed on disk" in r.stdout, r.stdout + r.stderr
    assert store.speakers.speaker_revisions(files[bad].id) == []
    store.close()
