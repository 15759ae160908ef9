#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the test suite (Unix socket only, no TCP) and print the
# SQLAlchemy URL of it; `scripts/pg_test_server.sh stop DIR` stops it. Prints nothing when no server is installed.
set -uo pipefail
if [ "${1:-}" = "stop" ]; then
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  runuser -u postgres -- "$bin/pg_ctl" -D "$2/data" -m fast stop >/dev/null 2>&1  # DIR/data: what start made
  rm -rf "$2"
  exit 0
fi
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] && id postgres >/dev/null 2>&1 || exit 0
dir=$(mktemp -d /tmp/emotrace-pg.XXXXXX)
chown postgres "$dir"
runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null 2>&1 || exit 0
runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -w -l "$dir/log" \
  -o "-p 54329 -k $dir -c listen_addresses=''" start >/dev/null 2>&1 || exit 0
echo "postgresql+psycopg://postgres@/postgres?host=$dir&port=54329 $dir"
