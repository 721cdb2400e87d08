#!/usr/bin/env bash
# Run a Python script of the binding (default: its tests) with the first Python 3 that has
# NumPy (Debian: python3-numpy; a pyenv or venv python3 first on PATH may lack it). Exit 77
# (ctest: skipped) without one; a script's own exit status otherwise (77 = skipped too).
#   tests/python/run.sh LIBBTSP_PYTHON_SO BTSP_CLI [SCRIPT [ARGS...]]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export BTSP_LIBRARY=$1 BTSP_CLI=$2 BTSP_SOURCE_DIR=${BTSP_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
shift 2
[[ $# -gt 0 ]] || set -- "$here/test_btsp.py"
for py in python3 /usr/bin/python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import numpy' >/dev/null 2>&1; then
    exec "$py" "$@"
  fi
done
echo "SKIP: no python3 with numpy (apt-get install python3-numpy)"
exit 77
