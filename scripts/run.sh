#!/usr/bin/env bash
# Sets up the environment if needed, then starts the app on its embedded defaults
# (SQLite under data/, the shipped default model). Extra arguments go to `streamlit run`.
# ENGAGE_INSTANCES=2 runs two app processes behind the same port (dashboard/serve.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/env.sh
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
exec .venv/bin/python -m dashboard.serve "$@"
