import csv
import json
import subprocess
import sys


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "emotrace.cli", *args], capture_output=True, text=True, env=env)


def test_cli_import_stats_export(tmp_path, audio_dir):
    db = str(tmp_path / "cli.sqlite")
    r = run_cli("--db", db, "-q", "import", str(audio_dir), "--corpus", "c")
    assert r.returncode == 0, r.stderr
    assert "6 added" in r.stdout
    r = run_cli("--db", db, "stats", "--corpus", "c", "--json")
    stats = json.loads(r.stdout)
    assert stats["files_ok"] == 6 and stats["labelled_segments"] == 6
    out = tmp_path / "msp.csv"
    r = run_cli("--db", db, "export", "--corpus", "c", "--out", str(out), "--msp")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 6 and rows[0]["FileName"] == "spk1/a.wav" and float(rows[0]["EmoAct"]) == 2.0
    flat = tmp_path / "flat.csv"
    assert run_cli("--db", db, "export", "--corpus", "c", "--out", str(flat)).returncode == 0
    assert len(list(csv.DictReader(flat.open()))) == 6


def test_cli_failures_set_exit_code_without_traceback(tmp_path, audio_dir):
    (audio_dir / "broken.wav").write_text("not audio")
    db = str(tmp_path / "cli.sqlite")
    r = run_cli("--db", db, "-q", "import", str(audio_dir), "--corpus", "c")
    assert r.returncode == 1 and "FAILED" in r.stdout and "broken.wav" in r.stdout
    r = run_cli("--db", db, "stats", "--corpus", "nope")
    assert r.returncode == 2 and "No corpus named" in r.stderr and "Traceback" not in r.stderr
