#!/usr/bin/env bash
# The whole test suite: on SQLite, then again on PostgreSQL (with Redis for the tests that
# want it) when a server is reachable through DATABASE_URL or at 127.0.0.1:5432.
# Called by `make test` (which installs everything first) and so by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
WORKERS="${PYTEST_WORKERS:-2}"
PG_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/minsheng}"
REDIS_TEST_URL="${TEST_REDIS_URL:-${REDIS_URL:-redis://127.0.0.1:6379/15}}"

VAR_DIR="$(mktemp -d -t minsheng-test-XXXXXX)"
trap 'rm -rf "$VAR_DIR"' EXIT

run_pytest() {  # label, then extra arguments for pytest
  local label=$1 rc=0
  shift
  echo "==== $label ===="
  .venv/bin/pytest -n "$WORKERS" "$@" || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "!!!! $label: pytest collected no tests; the suite is missing or mis-configured" >&2
    exit 5
  elif [ "$rc" -ne 0 ]; then
    echo "!!!! $label: FAILED (pytest exit status $rc)" >&2
    exit "$rc"
  fi
}

(
  unset DATABASE_URL REDIS_URL
  export MINSHENG_VAR_DIR="$VAR_DIR/sqlite"
  run_pytest "SQLite" "$@"
)

if [[ "$PG_URL" != postgres* ]]; then
  echo "==== PostgreSQL: SKIPPED (DATABASE_URL is not a PostgreSQL URL) ===="
  exit 0
fi
# pytest-django creates test_<name> through the server's "postgres" database.
if ! "$PY" - "$PG_URL" <<'PYEOF'
import sys
import psycopg
try:
    psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://", 1), dbname="postgres", connect_timeout=3).close()
except psycopg.Error as exc:
    print("   ", (str(exc).strip().splitlines() or [type(exc).__name__])[0])
    sys.exit(1)
PYEOF
then
  echo "==== PostgreSQL: SKIPPED (no server reachable at $(sed -E 's#(//[^:/@]*):[^@]*@#\1:***@#' <<<"$PG_URL")) ===="
  exit 0
fi

if "$PY" -c 'import sys, redis; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=2).ping()' "$REDIS_TEST_URL" 2>/dev/null; then
  export TEST_REDIS_URL="$REDIS_TEST_URL"
  redis_note="with Redis at $REDIS_TEST_URL"
else
  unset TEST_REDIS_URL
  redis_note="Redis not reachable at $REDIS_TEST_URL: the Redis tests skip"
fi
(
  export DATABASE_URL="$PG_URL"
  export MINSHENG_VAR_DIR="$VAR_DIR/postgres"
  unset REDIS_URL
  run_pytest "PostgreSQL ($redis_note)" "$@"
)
