"""import-linter's contracts hold (run as a subprocess, so a plain `pytest` catches a broken layer), and
`emotrace --help` loads nothing heavy."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    r = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "4 kept, 0 broken" in r.stdout



def test_help_loads_nothing_heavy():
    """What most `# lazy:` comments in cli/ promise: `emotrace --help` builds every parser and loads none of
    SQLAlchemy, torch, transformers, Qt, pandas, soundfile or PyAV."""
    code = ("import sys, runpy\nsys.argv = ['emotrace', '--help']\ntry:\n    runpy.run_module('emotrace.cli', "
            "run_name='__main__')\nexcept SystemExit:\n    pass\nheavy = ('torch', 'transformers', 'sqlalchemy', "
            "'alembic', 'PySide6', 'pyqtgraph', 'pandas', 'soundfile', 'av', 'tqdm')\n"
            "print('LOADED', [m for m in heavy if m in sys.modules])\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "usage: emotrace" in r.stdout and r.stdout.strip().endswith("LOADED []"), r.stdout[-500:]

