#!/usr/bin/env bash
# Creates (or refreshes) the project's virtual environment in .venv when requirements.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setting up .venv with $($PY --version) (first run: a few minutes)..." >&2
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install --disable-pip-version-check -q --upgrade pip >&2
  .venv/bin/python -m pip install --disable-pip-version-check -q -r requirements.txt >&2
  echo "$want" > "$stamp"
fi
