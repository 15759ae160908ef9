"""import-linter's contracts (pyproject.toml), checked by running `lint-imports` as a subprocess, so a plain
`pytest` catches a broken layer too (scripts/test.sh also runs it before the tests)."""

import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO as ROOT


def test_import_linter_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    r = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "4 kept, 0 broken" in r.stdout
