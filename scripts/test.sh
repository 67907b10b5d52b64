#!/usr/bin/env bash
# Sets up the environment if needed, then runs the test suite (slow tests excluded; `pytest -m slow` runs them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/env.sh dev
# The real-browser tests need Debian's Chromium and `ip` (they run in their own network namespace);
# the `postgres` tests start a throwaway PostgreSQL server from Debian's package, the `deploy` tests Debian's HAProxy.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  need=""
  [ -x /usr/bin/chromium ] || need="$need chromium"
  command -v ip >/dev/null || need="$need iproute2"
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need="$need postgresql"
  command -v haproxy >/dev/null || need="$need haproxy"
  if [ -n "$need" ]; then
    echo "installing$need for the browser, database and proxy tests..." >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >&2
  fi
fi
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
exec .venv/bin/python -m pytest -m "not slow" "$@"
