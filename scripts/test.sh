#!/usr/bin/env bash
# The whole test suite, headless: ruff, then pytest. A throwaway PostgreSQL (Unix socket only) is started for
# the PostgreSQL store tests when this machine has a server installed. pytest's exit code 5 (no tests
# collected) is a failure here.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
. .venv/bin/activate
export QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
ruff check api core training gui cli tests bench scripts || exit 1
lint-imports || exit 1
if [ -z "${EMOTRACE_TEST_PG_URL:-}" ]; then
  read -r pg_url pg_dir <<<"$(bash scripts/pg_test_server.sh)"
  if [ -n "${pg_url:-}" ]; then
    export EMOTRACE_TEST_PG_URL="$pg_url"
    trap 'bash scripts/pg_test_server.sh stop "$pg_dir"' EXIT
  else
    echo "no PostgreSQL server on this machine: the PostgreSQL store tests will be skipped" >&2
  fi
fi
python -m pytest -q "$@"
rc=$?
if [ "$rc" -eq 5 ]; then echo "pytest collected no tests: failing the suite" >&2; exit 1; fi
exit "$rc"
