"""Helpers that test modules of several files (and tiers) share: builders of test data, wrappers, and the checks
that run on SQLite in one tier and on PostgreSQL in another. Test modules import from here (or from
tests/conftest.py), never from each other. Nothing heavy is imported at module level: the unit tier imports
this module too (no torch, Qt nor model at import)."""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, IntegrityError

from emotrace.core.audio.decode import AudioSource
from emotrace.core.store import ModelVersion, SegmentSpec, Store, Word
from emotrace.core.vocab import SegmentOrigin
from emotrace.core.workflows.importing import import_folder
from tests.conftest import SPEECH_SAMPLES as SAMPLES
from tests.conftest import tone, write_audio

REPO = Path(__file__).resolve().parents[1]  # the repository root, whichever tier folder a test lives in
assert (REPO / "pyproject.toml").is_file(), REPO


# -- raters, segment edits, encoders, a long file: data builders several subjects use ---------------------------
WORKERS = [f"WORKER{i:05d}" for i in range(1, 9)]


def msp_corpus(root, files: int = 12, seed: int = 3):
    """Audio plus MSP-style detailed (5 raters per file, some with 3-4, one rater leaving dominance open) and
    consensus CSVs, the consensus being the raters' mean as MSP states it (4 decimals)."""
    rng = np.random.default_rng(seed)
    detailed = [["FileName", "WorkerID", "EmoClass", "EmoAct", "EmoVal", "EmoDom"]]
    consensus = [["FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set"]]
    truth = {}
    for k in range(files):
        name = f"MSP-PODCAST_0001_{k:04d}.wav"
        write_audio(root / "Audios" / name, 1.0 + 0.1 * k)
        true = rng.uniform(2, 6, size=3)
        n_raters = 5 if k % 4 else 3 + k % 2  # some files have fewer raters
        raters = rng.choice(WORKERS, size=n_raters, replace=False)
        given = []
        for r in raters:
            noise = 1.5 if r == "WORKER00008" else 0.4  # one careless rater
            vals = np.clip(np.round(true + rng.normal(0, noise, 3)), 1, 7)
            cells = [f"{v:.1f}" for v in vals]
            if r == "WORKER00003" and k == 5:
                cells[2] = ""  # left dominance open
            cat = rng.choice(["N", "H", "A"])
            detailed.append([name, r, cat, *cells])
            given.append([float(c) if c else np.nan for c in cells])
        mean = np.nanmean(np.array(given), axis=0)
        truth[name] = mean
        consensus.append([name, "N", *(f"{m:.4f}" for m in mean), f"{k % 3}", "Female",
                          "Train" if k < 8 else "Development"])
    (root / "Labels").mkdir(parents=True, exist_ok=True)
    for fname, rows in (("labels_detailed.csv", detailed), ("labels_consensus.csv", consensus)):
        with open(root / "Labels" / fname, "w", newline="") as fh:
            csv.writer(fh).writerows(rows)
    return truth


def all_label_rows(store: Store) -> list[tuple]:
    with store.db.session() as s:
        return [tuple(r) for r in s.execute(text("SELECT id, segment_id, annotator, arousal, valence, dominance, "
                                                 "origin, retracts_id FROM labels ORDER BY id"))]


class CountingEncoder:
    """Wraps a real encoder and counts the audio seconds it is asked to encode."""

    def __init__(self, inner):
        self.inner, self.seconds = inner, 0.0
        self.name, self.num_layers, self.dim = inner.name, inner.num_layers, inner.dim
        self.frame_rate, self.chunk_seconds = inner.frame_rate, 10.0
        self.batches: list[int] = []  # chunks per encode_batch call

    def encode_batch(self, chunks):
        self.batches.append(len(chunks))
        self.seconds += sum(len(c) for c in chunks) / 16000
        return self.inner.encode_batch(chunks)


SR = 16000


def write_podcast_like(path: Path, minutes: float) -> Path:
    """Tone and noise with a slow loudness swell and pauses, written minute by minute (bounded memory)."""
    rng = np.random.default_rng(12)
    with sf.SoundFile(path, "w", SR, 1, subtype="PCM_16") as out:
        for k in range(int(minutes)):
            t = np.arange(60 * SR) / SR + 60 * k
            env = (0.25 + 0.2 * np.sin(2 * np.pi * t / 83)) * (np.sin(2 * np.pi * t / 7) > -0.7)
            x = env * np.sin(2 * np.pi * (140 + 40 * np.sin(t / 11)) * t) + 0.01 * rng.standard_normal(len(t))
            out.write((0.5 * x).astype(np.float32))
    return path


# -- agreement: published worked examples, and a store that holds them ---------------------------------------
# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges; Table 4 gives the ICCs.
SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float)
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers x 12 units, missing values;
# alpha = 0.743 nominal, 0.849 interval.
N = np.nan
KRIPPENDORFF = np.array([[1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
                         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
                         [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
                         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N]]).T  # units x observers


def agreement_store(store, tmp_path):
    """A corpus whose arousal holds Shrout & Fleiss's table (mapped onto 1-7) and whose valence holds
    Krippendorff's example, rater by rater, with categories for Cohen's kappa."""
    from emotrace.core.store import SegmentSpec
    from emotrace.core.workflows.importing import import_folder
    from tests.conftest import write_audio

    root = tmp_path / "agree"
    for k in range(12):
        write_audio(root / f"u{k:02d}.wav", 1.0, freq=200 + 10 * k)
    import_folder(store, root, "agree")
    corpus_id = store.corpora.corpus("agree").id
    segs = [store.segments.add_segments(f.id, [SegmentSpec(0.0, 1.0, "manual", split="Test1")])[0]
            for f in store.corpora.files(corpus_id)]
    arousal = 1 + (SHROUT_FLEISS - 1) * 6 / 9
    for j, rater in enumerate("ABCD"):
        for k, sid in enumerate(segs):
            a = arousal[k, j] if k < 6 else None
            v = KRIPPENDORFF[k, j]
            v = None if np.isnan(v) else float(v)
            if a is None and v is None:
                continue
            store.labels.record_label(sid, annotator=rater, arousal=a, valence=v, dominance=None,
                                      category="H" if (k + (j == 3)) % 2 else "N")
    return corpus_id


# -- the label domain: CSV rows, and a store at schema revision 0002 (migrated on SQLite and on PostgreSQL) -----
def csv_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def store_at_0002(url: str) -> Store:
    from alembic import command

    from emotrace.core.store.store import alembic_config

    store = Store(url, migrate=False)
    cfg = alembic_config(url)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    return store


OLD_LABELS = [  # (segment, annotator, a, v, d, origin) in time order, as revision 0002's app wrote them
    (1, "consensus", 3.0, 4.0, 5.0, "imported"),
    (1, "tester", 6.0, 2.0, 5.0, "manual"),
    (1, "tester", None, None, None, "undo"),  # undo of tester's first label: "no label"
    (1, "tester", 6.0, 2.0, 5.0, "redo"),
    (2, "tester", 4.37, 5.12, 3.98, "manual"),  # Accept prediction, saved as manual by 0002
    (2, "tester", 2.0, 2.0, 2.0, "manual"),
    (2, "tester", 4.37, 5.12, 3.98, "undo"),  # undo restoring the earlier values
    (3, "bob", 5.0, 5.0, 5.0, "manual"),
    (3, "bob", None, None, None, "undo"),
]


def fill_0002(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO corpora (id, name, root, created_at) VALUES (1, 'old', '/x', :t)"),
                     {"t": "2026-11-28 10:00:00"})
        conn.execute(text("INSERT INTO audio_files (id, corpus_id, path, fingerprint, size_bytes, duration, status, "
                          "added_at) VALUES (1, 1, '/x/a.wav', 'fp', 10, 9.0, 'ok', :t)"), {"t": "2026-11-28 10:00:00"})
        for sid in (1, 2, 3):
            conn.execute(text("INSERT INTO segments (id, file_id, start, \"end\", origin) VALUES (:i, 1, :s, :e, 'asr')"),
                         {"i": sid, "s": 3.0 * (sid - 1), "e": 3.0 * sid})
        conn.execute(text("INSERT INTO model_versions (id, name, folder, created_at, active) "
                          "VALUES (1, 'm', '/none', :t, true)"), {"t": "2026-11-28 10:00:00"})
        conn.execute(text("INSERT INTO predictions (file_id, segment_id, model_version_id, kind, start, \"end\", "
                          "arousal, valence, dominance, created_at) VALUES (1, 2, 1, 'segment', 3, 6, 4.3712, "
                          "5.1249, 3.9801, :t)"), {"t": "2026-11-28 10:00:00"})
        for k, (sid, ann, a, v, d, origin) in enumerate(OLD_LABELS, start=1):
            conn.execute(text("INSERT INTO labels (id, segment_id, annotator, arousal, valence, dominance, origin, "
                              "created_at) VALUES (:i, :s, :n, :a, :v, :d, :o, :t)"),
                         {"i": k, "s": sid, "n": ann, "a": a, "v": v, "d": d, "o": origin,
                          "t": f"2026-11-28 10:00:{k:02d}"})


def check_migrated_from_0002(store: Store) -> None:
    assert store.schema_revision() == store.head_revision()
    rows = {h.id: h for sid in (1, 2, 3) for h in store.labels.label_history(sid)}
    assert sorted(rows) == list(range(1, len(OLD_LABELS) + 1))  # every row is still there
    for k, (sid, ann, a, v, d, _origin) in enumerate(OLD_LABELS, start=1):
        assert (rows[k].segment_id, rows[k].annotator, rows[k].values) == (sid, ann, (a, v, d))  # value for value
    # row 7 restored the accepted prediction's values: it is the model's judgement again
    assert [rows[k].origin.value for k in range(1, 10)] == [
        "imported", "manual", "retraction", "manual", "accepted", "manual", "accepted", "manual", "retraction"]
    assert rows[3].retracts_id == 2 and rows[9].retracts_id == 8
    current = {(c.segment_id, c.annotator): c.values for c in store.labels.current_labels()}
    assert current == {(1, "consensus"): (3.0, 4.0, 5.0), (1, "tester"): (6.0, 2.0, 5.0),
                       (2, "tester"): (4.37, 5.12, 3.98)}
    with pytest.raises((IntegrityError, DatabaseError)):
        with store.db.session() as s:
            s.execute(text("DELETE FROM labels WHERE id = 1"))
    with pytest.raises((IntegrityError, DatabaseError)):
        with store.db.session() as s:
            s.execute(text("DELETE FROM segments WHERE id = 3"))  # was ON DELETE CASCADE before 0003


# -- the work queue: a corpus of short files, real speech for workers, claims from several threads ---------------
def queue_corpus(store: Store, root: Path, n: int) -> list[int]:
    for k in range(n):
        write_audio(root / f"f{k}.wav", 2.0, freq=200 + 10 * k)
    import_folder(store, root, "q")
    return [f.id for f in store.corpora.files(store.corpora.corpus("q").id)]


def speech_files(root: Path, n: int, repeats: int = 6) -> None:
    """n different files of real speech (the samples in several orders, with pauses; about 3.5 s per repeat)."""
    clips = [AudioSource(SAMPLES / name).decode_all() for name in ("quick_brown_fox.wav", "counting.wav",
                                                                  "hello_world.wav")]
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        parts = []
        for j in rng.permutation(repeats) % 3:
            parts += [clips[j], np.zeros(int(16000 * rng.uniform(0.6, 1.4)), np.float32)]
        sf.write(root / f"talk{k}.wav", np.concatenate(parts), 16000)


def check_concurrent_claims(url: str, tmp_path: Path) -> None:
    """Six threads, each with its own connection to `url`, claim and finish 24 queued items: each exactly once."""
    store = Store(url)
    ids = queue_corpus(store, tmp_path / "c", 24)
    batch = store.jobs.start_job("test-queue", {})
    assert store.queue.enqueue(batch, "transcribe", ids) == 24
    assert store.queue.enqueue(batch, "transcribe", ids) == 0  # already queued: not twice
    claimed: list[int] = []
    lock = threading.Lock()

    def claimer(name: str) -> None:
        own = Store(url, migrate=False)
        while (c := own.queue.claim(name, ["transcribe"], lease_seconds=30)) is not None:
            with lock:
                claimed.append(c.file_id)
            assert own.queue.finish(c.id, name)
        own.close()

    threads = [threading.Thread(target=claimer, args=(f"w{k}",)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(claimed) == sorted(ids)  # each exactly once
    assert store.queue.queue_counts(batch) == {"queued": 0, "claimed": 0, "done": 24, "failed": 0, "workers": 0}


# -- raters: the migration from revision 0003 (on SQLite and on PostgreSQL) ------------------------------------
def check_migration_from_0003(url: str) -> None:
    """A store at revision 0003 with two labels, opened by this EmoTrace: migrated to head, every row kept, the
    append-only triggers and the origin check in place."""
    from alembic import command
    from sqlalchemy import create_engine, inspect, text

    from emotrace.core.store import Store
    from emotrace.core.store.store import alembic_config

    command.upgrade(alembic_config(url), "0003")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO corpora (id, name, created_at) VALUES (1, 'c', '2026-01-01')"))
        conn.execute(text("INSERT INTO audio_files (id, corpus_id, path, fingerprint, size_bytes, status, added_at) "
                          "VALUES (1, 1, '/a.wav', 'ff', 0, 'ok', '2026-01-01')"))
        conn.execute(text("INSERT INTO segments (id, file_id, start, \"end\", origin) VALUES (1, 1, 0, 3, 'imported')"))
        conn.execute(text("INSERT INTO labels (segment_id, annotator, arousal, valence, dominance, origin, created_at) "
                          "VALUES (1, 'a', 3, 4, 5, 'imported', '2026-01-01'), (1, 'b', 6, 2, NULL, 'manual', "
                          "'2026-01-02')"))
        columns = ", ".join(c["name"] for c in inspect(conn).get_columns("labels"))
        before = conn.execute(text(f"SELECT {columns} FROM labels ORDER BY id")).all()
    engine.dispose()
    store = Store(url)
    assert store.schema_revision() == store.head_revision()
    with store.engine.connect() as conn:
        after = conn.execute(text(f"SELECT {columns}, chain_seq FROM labels ORDER BY id")).all()
        assert [row[:-1] for row in after] == before  # 0011 appends chain_seq, chain_hash
        assert [row[-1] for row in after] == [1, 2] and store.check().problems == []
        # 0009: each value of an old row has its row's origin; an open dimension has none
        assert conn.execute(text("SELECT arousal_origin, valence_origin, dominance_origin FROM labels ORDER BY id")
                            ).all() == [("imported", "imported", "imported"), ("manual", "manual", None)]
        assert "ix_labels_segment_time" in {ix["name"] for ix in inspect(conn).get_indexes("labels")}
    with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("UPDATE labels SET arousal = 1"))
    with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("DELETE FROM labels"))
    with pytest.raises(Exception, match="ck_labels_origin|CHECK"), store.engine.begin() as conn:
        conn.execute(text("INSERT INTO labels (segment_id, annotator, arousal, arousal_origin, origin, created_at) "
                          "VALUES (1, 'x', 3, 'manual', 'typed', '2026-01-03')"))
    with pytest.raises(Exception, match="ck_labels_valence_origin|CHECK"), store.engine.begin() as conn:
        conn.execute(text("INSERT INTO labels (segment_id, annotator, arousal, valence, arousal_origin, origin, "
                          "created_at) VALUES (1, 'x', 3, 4, 'manual', 'manual', '2026-01-03')"))  # valence: whose?
    store.labels.record_label(1, annotator="a", arousal=4, valence=4, dominance=4)  # the new schema takes new rows
    store.close()


# -- segment edits: a file with words and two ASR segments, and undo across later edits --------------------------
def file_with_words(store: Store, tmp_path, seconds: float = 20.0) -> int:
    """A file with two ASR segments (0-8 s, 10-18 s) and a word every 0.5 s."""
    from emotrace.core.workflows.importing import import_folder

    write_audio(tmp_path / "f" / "a.wav", seconds)
    import_folder(store, tmp_path / "f", "c")
    fid = store.corpora.files(store.corpora.corpus("c").id)[0].id
    with store.db.session() as s:
        s.add_all(Word(file_id=fid, start=0.5 * i, end=0.5 * i + 0.4, text=f" w{i}") for i in range(int(seconds * 2)))
    store.segments.add_segments(fid, [SegmentSpec(0.0, 8.0, SegmentOrigin.ASR, "", "spk1", "Train"),
                                      SegmentSpec(10.0, 18.0, SegmentOrigin.ASR, "", "spk1", "Train")])
    store.segments.set_segment_texts(fid, {})
    return fid


def live(store: Store, fid: int):
    return store.segments.segments(fid, include_superseded=False)


def ids_survive_undo(store: Store, fid: int) -> None:
    """Split an unlabelled segment, merge the halves, make another segment, then undo both edits: each undo
    names the segments the edit made, and a removed segment comes back as itself (ids are never reused)."""
    seg = live(store, fid)[-1]
    split = store.segments.split_segment(seg.id, seg.start + 3.0)
    merged = store.segments.merge_segments(list(split.added))
    other = store.segments.add_segments(fid, [SegmentSpec(18.5, 19.5, SegmentOrigin.MANUAL)])[0]  # takes a fresh id
    undo_merge = store.segments.edit_segments(**merged.inverse())
    assert undo_merge.added == split.added  # the halves, back under their own ids
    store.segments.edit_segments(**split.inverse())
    assert [(g.id, g.start, g.end) for g in live(store, fid)][-2:] == [(seg.id, seg.start, seg.end),
                                                                     (other, 18.5, 19.5)]


# -- the main window (tests/gui): let Qt settle, a model version without predictions ------------------------------
def settle(qtbot, ms: int = 30) -> None:
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    qtbot.wait(ms)


def new_model(store, tmp_path, name="new") -> int:
    with store.db.session() as s:
        mv = ModelVersion(name=name, folder=str(tmp_path / name), active=False)
        s.add(mv)
        s.flush()
        return mv.id


# -- issue 16 (bad input, broken model folders): the CLI as a user runs it, broken audio and model folders ------
def cli(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emotrace.cli", *args], capture_output=True, text=True, cwd=REPO,
                          env=env or os.environ.copy(), timeout=timeout)


def one_line_error(r: subprocess.CompletedProcess) -> str:
    """The CLI's answer to a user's error: rc 2, exactly one line on stderr, no traceback."""
    lines = [x for x in r.stderr.splitlines() if x.strip() and not x.startswith("note:")]
    assert r.returncode == 2, r.stderr
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def nan_wav(path: Path, where: str = "nan", seconds: float = 3.0) -> Path:
    x = tone(seconds).astype(np.float32)
    x[len(x) // 2 + 3] = np.nan if where == "nan" else np.inf
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x, 16000, subtype="FLOAT")
    return path


def poison(folder: Path, how: str) -> None:
    """Damage a model folder the way the issue found them."""
    from safetensors.torch import load_file, save_file

    weights = folder / "model.safetensors"
    if how == "truncate":
        data = weights.read_bytes()
        weights.write_bytes(data[: len(data) // 2])
    elif how in ("nan", "shape"):
        state = load_file(str(weights))
        key = "heads.0.0.weight"
        if how == "nan":
            state[key][0, 0] = float("nan")
        else:
            state[key] = state[key][:, :-1].contiguous()
        save_file(state, str(weights))
    elif how == "config":
        (folder / "config.json").write_text('{"audio_layers": 5,,}')
    else:
        raise ValueError(how)


def as_other_user(code: str, env: dict) -> subprocess.CompletedProcess:
    """Run Python code as an unprivileged user: root reads every folder, so permission cases need a real user.
    The interpreter and the modules are loaded first (they may live where that user cannot read)."""
    prelude = ("import os, sys, sqlite3, json, csv, glob, logging.config; import torch, sqlalchemy.dialects.sqlite, numpy, "
               "soundfile, soxr, tqdm, alembic.command, alembic.ddl.sqlite, alembic.runtime.migration, mako.template; "
               "import emotrace.core.store, emotrace.core.workflows.importing, emotrace.core.audio.envelope, "
               "emotrace.core.progress, emotrace.cli.main, emotrace.cli.processing, emotrace.cli.argtypes, "
               "emotrace.training.default_model, importlib.readers; "
               "from emotrace.core.store import Store; Store('sqlite://').close(); ")
    if os.geteuid() == 0:
        prelude += "os.setgid(65534); os.setuid(65534); "
    prelude += "os.environ['EMOTRACE_HOME'] = os.environ['HOME16']; "  # only now: nothing root-owned in it
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **env}, timeout=300)


# -- the label chain: a store with labels from every path, tampered with by hand (issue 23, item 5) --------------
def chain_labels(store: Store) -> dict[str, int]:
    """Labels written by every path that adds label rows: a save, an accept, an undo (retraction), an import, a
    consensus. Returns the ids of the rows a tamper test deletes and edits (neither is a retraction's target)."""
    from emotrace.core.store import AudioFile, LabelSpec, Segment

    corpus = store.corpora.corpus("chain", create=True)
    with store.db.session() as s:
        f = AudioFile(corpus_id=corpus.id, path="/chain.wav", fingerprint="chain", duration=9.0)
        s.add(f)
        s.flush()
        segs = [Segment(file_id=f.id, start=3.0 * k, end=3.0 * k + 3, origin="imported") for k in range(3)]
        s.add_all(segs)
        s.flush()
        fid, sids = f.id, [g.id for g in segs]
    labels = store.labels
    first = labels.record_label(sids[0], annotator="ann", arousal=3, valence=4, dominance=5, note="first")
    doomed = labels.record_label(sids[1], annotator="ann", arousal=2.25, valence=4, dominance=None)
    labels.record_label(sids[1], annotator="bob", arousal=6, valence=6, dominance=6, origin="accepted")
    labels.retract_label(first.id, annotator="ann")
    edited = labels.record_label(sids[2], annotator="bob", arousal=5.5, valence=1.0, dominance=7, category="Happy")
    labels.import_labels([LabelSpec(fid, 0.0, 3.0, "imp", (4.0, 4.0, 4.0)),
                          LabelSpec(fid, 6.0, 9.0, "imp", (2.0, None, 3.0))])
    assert store.labels.compute_consensus(corpus.id) > 0
    labels.record_label(sids[2], annotator="ann", arousal=1, valence=1, dominance=1)  # after the consensus
    return {"delete": doomed.id, "edit": edited.id}


def tamper_with_labels(url: str, *, delete: int, edit: int) -> None:
    """What issue 23 did by hand: drop the label triggers, delete one label row, edit another."""
    from sqlalchemy import create_engine

    if url.startswith("sqlite"):
        con = sqlite3.connect(make_url(url).database)
        con.execute("DROP TRIGGER labels_no_update")
        con.execute("DROP TRIGGER labels_no_delete")
        con.execute("DELETE FROM labels WHERE id = ?", (delete,))
        con.execute("UPDATE labels SET arousal = 1.0 WHERE id = ?", (edit,))
        con.commit()
        con.close()
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER labels_no_update_delete ON labels"))
        conn.execute(text("DELETE FROM labels WHERE id = :i"), {"i": delete})
        conn.execute(text("UPDATE labels SET arousal = 1.0 WHERE id = :i"), {"i": edit})
    engine.dispose()


def check_tamper_evidence(url: str, run_check) -> None:
    """`run_check(url, *args)` -> (rc, stdout lines): `emotrace check` in the tier's way. A whole store checks
    clean; after tampering, check names the dropped triggers and the first broken rows (the deleted one, then the
    edited one), and changes nothing; opening the store re-creates the triggers and warns."""
    store = Store(url)
    ids = chain_labels(store)
    rows_before = store.stats()["label_rows"]
    assert store.check().problems == []
    store.close()
    assert run_check(url) == (0, [])

    tamper_with_labels(url, **ids)
    rc, lines = run_check(url)
    assert rc == 1
    triggers = [line for line in lines if line.startswith("trigger ")]
    assert triggers and all("labels" in line and "missing" in line for line in triggers)
    chain = [line for line in lines if line.startswith("label id")]
    assert len(chain) == 2, lines
    assert chain[0].startswith(f"label id {ids['delete'] + 1} (annotator 'bob', ") and "missing before it" in chain[0]
    assert chain[1].startswith(f"label id {ids['edit']} (annotator 'bob', ") and "content changed" in chain[1]
    assert run_check(url)[1] == lines  # check changed nothing, triggers included

    store = Store(url)  # opening re-creates the triggers and says so
    assert "re-created" in store.notice and "labels_no_" in store.notice
    assert "label history is not whole" in store.notice
    with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("DELETE FROM labels"))
    assert store.stats()["label_rows"] == rows_before - 1
    store.close()
    rc, lines = run_check(url)
    assert rc == 1 and [line for line in lines if line.startswith("label id")] == chain
    assert not [line for line in lines if line.startswith("trigger ")]


_SAVER = """
import sys
from emotrace.core.store import LabelSpec, Store
url, name, n, fid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
store = Store(url, migrate=False)
segs = [s.id for s in store.segments.segments(fid)]
for k in range(n):
    sid = segs[k % len(segs)]
    if k % 5 == 4:
        store.labels.import_labels([LabelSpec(fid, 3.0 * (k % 3), 3.0 * (k % 3) + 3, name + "-imp", (1 + k % 7, 4, 4))])
    else:
        rec = store.labels.record_label(sid, annotator=name, arousal=1 + k % 7, valence=4, dominance=4)
        if k % 7 == 3:
            store.labels.retract_label(rec.id, annotator=name)
store.close()
"""


def check_concurrent_label_saves(url: str, processes: int = 3, saves: int = 30) -> None:
    """`processes` processes save, retract and import labels on one store at once: the chain does not fork (every
    row has its own seq, and `check` walks one unbroken chain) and no save is lost."""
    store = Store(url)
    chain_labels(store)
    fid = store.corpora.files(store.corpora.corpus("chain").id)[0].id
    before = store.stats()["label_rows"]
    procs = [subprocess.Popen([sys.executable, "-c", _SAVER, url, f"p{k}", str(saves), str(fid)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(processes)]
    for p in procs:
        _out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    report = store.check()
    assert report.problems == [], report.problems
    rows = store.stats()["label_rows"]
    retractions = len([k for k in range(saves) if k % 5 != 4 and k % 7 == 3])
    assert rows >= before + processes * (saves - saves // 5 + retractions)  # imports add only what changed
    with store.engine.connect() as conn:
        seqs = [r[0] for r in conn.execute(text("SELECT chain_seq FROM labels ORDER BY chain_seq"))]
    assert seqs == list(range(1, rows + 1))
# -- concurrency (issue 23, item 1): the same checks on SQLite (tests/integration) and PostgreSQL (tests/postgres) -----
CONCURRENCY = REPO / "bench" / "bench_concurrency.py"  # the suite's per-process roles; the long runs live there


def overlapping_pairs(store: Store) -> int:
    """Pairs of current (not imported) segments of one file that overlap by more than a millisecond."""
    with store.engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM segments a JOIN segments b ON a.file_id = b.file_id AND a.id < b.id "
            "WHERE a.superseded_at IS NULL AND b.superseded_at IS NULL AND a.origin <> 'imported' "
            "AND b.origin <> 'imported' AND a.start < b.\"end\" - 0.001 AND b.start < a.\"end\" - 0.001")).scalar()


def duplicate_words(store: Store) -> int:
    with store.engine.connect() as conn:
        return len(conn.execute(text('SELECT file_id, start, "end", text FROM words GROUP BY 1, 2, 3, 4 '
                                     "HAVING count(*) > 1")).all())


def check_concurrent_edits(url: str, tmp_path: Path, processes: int = 3, ops: int = 150) -> None:
    """Three processes split, merge, resize (often into a neighbour) and undo on one file at once: every process
    ends without a raw error, and no two current segments overlap."""
    store = Store(url)
    write_audio(tmp_path / "k" / "a.wav", 60.0)
    import_folder(store, tmp_path / "k", "k")
    fid = store.corpora.files(store.corpora.corpus("k").id)[0].id
    with store.db.session() as s:
        s.add_all(Word(file_id=fid, start=0.5 * i, end=0.5 * i + 0.4, text=f" w{i}") for i in range(119))
    store.segments.add_segments(fid, [SegmentSpec(2.0 * k, 2.0 * k + 2.0, SegmentOrigin.ASR) for k in range(30)])
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, str(CONCURRENCY), "role", "edits", url, str(seed), str(ops)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for seed in range(processes)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * processes, [err[-1500:] for _out, err in outs]
    assert overlapping_pairs(store) == 0
    store.close()


def check_concurrent_transcribe(url: str, tmp_path: Path) -> None:
    """Two `emotrace transcribe` of one corpus at once: each file is transcribed by one of them (the other says
    BUSY or finds it done), so every word is stored once."""
    store = Store(url)
    speech_files(tmp_path / "k", 2, repeats=3)
    import_folder(store, tmp_path / "k", "k")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "emotrace.cli", "--db", url, "transcribe", "--corpus", "k", "--model", "tiny.en",
           "--device", "cpu"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-1500:] for _out, err in outs]
    assert duplicate_words(store) == 0
    files = store.corpora.files(store.corpora.corpus("k").id)
    assert all(f.transcribed_at is not None and store.words.words(f.id) for f in files)
    assert store.queue.queue_counts()["claimed"] == 0  # every claim ended
    store.close()
