#!/usr/bin/env bash
# Create .venv (if missing) and install the platform, its plugins and, with "test", the test
# tools. Re-installs only when a pyproject.toml changed. Sourced by run.sh and test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
EXTRAS="${1:-}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating virtualenv .venv"
  "$PYTHON" -m venv .venv
fi
STAMP=".venv/.xrm-installed${EXTRAS:+-$EXTRAS}"
HASH="$(cat pyproject.toml plugins/*/pyproject.toml 2>/dev/null | sha256sum | cut -c1-16)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$HASH" ]; then
  echo "==> installing xrm${EXTRAS:+[$EXTRAS]} and plugins"
  .venv/bin/python -m pip install -q --upgrade pip
  ARGS=(-e ".${EXTRAS:+[$EXTRAS]}")
  for p in plugins/*/; do
    [ -f "$p/pyproject.toml" ] && ARGS+=(-e "$p")
  done
  .venv/bin/python -m pip install -q "${ARGS[@]}"
  echo "$HASH" > "$STAMP"
fi
