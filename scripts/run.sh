#!/usr/bin/env bash
# Run xRM on an embedded SQLite database: install, initialise, load the plugins, serve.
#   XRM_HOST / XRM_PORT       where to listen (default 127.0.0.1:5000)
#   XRM_ADMIN_PASSWORD        password of the first administrator (default: generated, printed once)
#   XRM_DEMO=0                do not load the plugins' demo data into a fresh database
#   XRM_JOBS                  inline (default here), worker (run `xrm worker`) or celery
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
export XRM_INSTANCE_PATH="${XRM_INSTANCE_PATH:-$ROOT/instance}"
# Jobs (webhooks, e-mail, notifications, timers) run in a thread of the server (docs/jobs.md).
export XRM_JOBS="${XRM_JOBS:-inline}"
HOST="${XRM_HOST:-127.0.0.1}"
PORT="${XRM_PORT:-5000}"
INIT_ARGS=()
[ -n "${XRM_ADMIN_PASSWORD:-}" ] && INIT_ARGS+=(--admin-password "$XRM_ADMIN_PASSWORD")
[ "${XRM_DEMO:-1}" != "0" ] && INIT_ARGS+=(--demo)
.venv/bin/xrm init "${INIT_ARGS[@]}"
echo
echo "==> xRM is serving at http://$HOST:$PORT/"
echo "    log in as 'admin' with the password printed above (first run), or the one you set"
echo "    API: POST http://$HOST:$PORT/api/v1/security/login {\"username\",\"password\",\"provider\":\"db\"}"
exec .venv/bin/xrm run --host "$HOST" --port "$PORT"
