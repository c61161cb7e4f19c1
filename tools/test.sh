#!/usr/bin/env bash
# The test command: set up (fast when everything is installed), then run the suite
# on both cores. Extra arguments go to pytest (e.g. `bash tools/test.sh -m "not slow"`).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$here/tools/setup_env.sh"
venv=${MMUNIFORMER_VENV:-$HOME/.venvs/mmuniformer}
cd "$here"
exec "$venv/bin/python" -m pytest tests -n "${PYTEST_WORKERS:-2}" -p no:cacheprovider "$@"
