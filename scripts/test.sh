#!/usr/bin/env bash
# Run the whole test suite: lint, then the tests on SQLite, then on PostgreSQL.
#   PostgreSQL: XRM_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
#   With CI=true a missing PostgreSQL fails the run; otherwise that part is skipped with a warning.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/bootstrap.sh" test
cd "$ROOT"
PY=.venv/bin/python
export XRM_TEST_POSTGRES_URL="${XRM_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"

# Browser tests (tests/browser) drive Debian's Chromium; install it when missing.
if [ ! -x "${XRM_CHROMIUM:-/usr/bin/chromium}" ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = "0" ]; then
    echo "==> installing chromium (browser tests)"
    (apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }) >/dev/null
  elif [ "${CI:-}" = "true" ]; then
    echo "chromium is missing and cannot be installed (needs root and apt-get): the browser tests would fail" >&2
    exit 1
  else
    echo "warning: chromium missing; the browser tests will be skipped (apt-get install -y chromium)" >&2
  fi
fi

echo "==> ruff"
LINT=(xrm plugins tests)
[ -d bench ] && LINT+=(bench)
.venv/bin/ruff check "${LINT[@]}"

# One test process per core on both databases (measured: twice as many on PostgreSQL was
# slower, the server's work shares the same cores). XRM_TEST_WORKERS overrides.
CORES="$(nproc 2>/dev/null || echo 2)"
WORKERS="${XRM_TEST_WORKERS:-$CORES}"

echo "==> tests on SQLite"
XRM_TEST_DATABASE=sqlite $PY -m pytest -n "$WORKERS" -q "$@"

if [ "${CI:-}" = "true" ] || $PY - <<'PYEOF'
import os, sys, sqlalchemy as sa
try:
    sa.create_engine(os.environ["XRM_TEST_POSTGRES_URL"]).connect().close()
except Exception as exc:
    print(f"PostgreSQL unreachable ({exc.__class__.__name__}); skipping the PostgreSQL run", file=sys.stderr)
    sys.exit(1)
PYEOF
then
  echo "==> tests on PostgreSQL"
  XRM_TEST_DATABASE=postgresql $PY -m pytest -n "$WORKERS" -q "$@"
fi
