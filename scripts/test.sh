#!/usr/bin/env bash
# The test suite, headless: ruff, import-linter, then pytest. pytest's exit code 5 (no tests collected) is a
# failure here. Other arguments pass through to pytest.
#
#   bash scripts/test.sh          every tier: tests/unit, tests/integration, tests/gui, tests/postgres. A throwaway
#                                 PostgreSQL (Unix socket only) is started for tests/postgres when this machine has
#                                 a server installed; without one, that tier is skipped.
#   bash scripts/test.sh --fast   tests/unit only (no subprocess, no real ASR/SER model, no PostgreSQL): under two
#                                 minutes on a 2-core machine.
set -uo pipefail
cd "$(dirname "$0")/.."
fast=0
args=()
for a in "$@"; do
  if [ "$a" = "--fast" ]; then fast=1; else args+=("$a"); fi
done
bash scripts/setup.sh || exit 1
. .venv/bin/activate
export QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
ruff check api core training gui cli tests bench scripts || exit 1
lint-imports || exit 1
if [ "$fast" -eq 1 ]; then
  python -m pytest -q tests/unit ${args[@]+"${args[@]}"}
else
  if [ -z "${EMOTRACE_TEST_PG_URL:-}" ]; then
    read -r pg_url pg_dir <<<"$(bash scripts/pg_test_server.sh)"
    if [ -n "${pg_url:-}" ]; then
      export EMOTRACE_TEST_PG_URL="$pg_url"
      trap 'bash scripts/pg_test_server.sh stop "$pg_dir"' EXIT
    else
      echo "scripts/pg_test_server.sh started no PostgreSQL server: tests/postgres tries again, and is skipped" \
        "where no server is installed" >&2
    fi
  fi
  python -m pytest -q ${args[@]+"${args[@]}"}
fi
rc=$?
if [ "$rc" -eq 5 ]; then echo "pytest collected no tests: failing the suite" >&2; exit 1; fi
exit "$rc"
