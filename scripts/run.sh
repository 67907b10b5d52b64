#!/usr/bin/env bash
# Sets up the environment if needed, then starts the app on its embedded defaults
# (SQLite under data/, the shipped default model). Extra arguments go to `streamlit run`.
# One app instance per CPU core behind HAProxy, restarted by supervisord when it dies (dashboard/serve.py;
# ENGAGE_INSTANCES=1, or no HAProxy installed: one process).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/env.sh
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
exec .venv/bin/python -m dashboard.serve "$@"
