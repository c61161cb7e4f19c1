#!/usr/bin/env bash
# The test command: set up (fast when everything is installed), then run the suite
# on both cores. Extra arguments go to pytest (e.g. `bash tools/test.sh -m "not slow"`).
#
# Two workers, one OpenMP thread each (the machine's two cores, no oversubscription), work
# stealing so that the few longer tests do not queue behind one worker; the slowest tests
# are listed at the end. Passing tests leave no temporary files (pyproject.toml:
# tmp_path_retention_policy), a failing run keeps its folders under pytest's basetemp.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$here/tools/setup_env.sh"
venv=${MMUNIFORMER_VENV:-$HOME/.venvs/mmuniformer}
cd "$here"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
exec "$venv/bin/python" -m pytest tests -n "${PYTEST_WORKERS:-2}" --dist worksteal \
  --durations=15 -p no:cacheprovider "$@"
