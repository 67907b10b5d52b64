#!/usr/bin/env bash
# Creates (or refreshes) the project's virtual environment in .venv when its requirements changed.
# `bash scripts/env.sh` installs what the app needs (requirements.txt); `bash scripts/env.sh dev` also what the
# tests, benchmarks and screenshots need (requirements-dev.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
file=requirements.txt
[ "${1:-}" = dev ] && file=requirements-dev.txt
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt "$file" | sha256sum | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
dev_want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
# an environment set up for the tests also serves the app
if [ ! -x .venv/bin/python ] || { [ "$have" != "$want" ] && [ "$have" != "$dev_want" ]; } || { [ "$file" = requirements-dev.txt ] && [ "$have" != "$dev_want" ]; }; then
  echo "setting up .venv with $($PY --version) from $file (first run: a few minutes)..." >&2
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install --disable-pip-version-check -q --upgrade pip >&2
  .venv/bin/python -m pip install --disable-pip-version-check -q -r "$file" >&2
  echo "$want" > "$stamp"
fi
