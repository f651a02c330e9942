#!/usr/bin/env bash
# Makes .venv-ray: the Python environment of `preflab run --executor ray` (the Ray driver and its workers'
# task wrapper), pinned. Optional: the local executor (the default) needs no Python at all.
#
# Ray lives in its own small environment, not in .venv-engines: the driver imports no torch, and keeping
# it apart leaves the engines' pins untouched. 2.55.1 is the Ray that OpenRLHF 0.11.2 pins, so one cluster
# can run both. The environment is made once per machine and pin in ~/.cache/preflab and linked as .venv-ray
# (a fresh clone, as in CI, then costs a link); a second run only checks the stamp and the version.
#
#   bash scripts/setup-ray.sh              # makes or checks .venv-ray
#   PREFLAB_RAY_VENV=/path bash ...        # another location, used in place (the executor then needs site.python.ray)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
PIN="ray==2.55.1"
if [[ -n "${PREFLAB_RAY_VENV:-}" ]]; then
    VENV="$PREFLAB_RAY_VENV"
else
    VENV="${XDG_CACHE_HOME:-$HOME/.cache}/preflab/ray-${PIN#ray==}"
    mkdir -p "$(dirname "$VENV")"
    [[ -e .venv-ray && ! -L .venv-ray ]] || ln -sfn "$VENV" .venv-ray
fi
STAMP="$VENV/.preflab-ray"

check() {
    "$VENV/bin/python" - "${PIN#ray==}" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
try:
    found = version("ray")
except PackageNotFoundError:
    sys.exit("ray venv: ray is not installed")
if found != sys.argv[1]:
    sys.exit(f"ray venv: ray is {found}; expected {sys.argv[1]}")
print("ray venv: ray " + found)
PY
}

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$PIN" ]] && check; then
    exit 0
fi
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "setup-ray.sh: Python >= 3.10 is needed")'
[[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip --disable-pip-version-check --quiet install "$PIN"
check
echo "$PIN" > "$STAMP"
