#!/usr/bin/env bash
# Adds the reference readers that tests check PrefLab's files against to the engines Python
# (.venv-engines, or $PREFLAB_ENGINES_VENV): TensorBoard, whose own event reader loads the event files
# every node writes (Tests/PipelineTests/TensorBoardTests.swift). Makes a bare venv when there is none
# (scripts/setup-engines.sh makes the full one with torch and TRL). A second run only checks the import.
#
#   bash scripts/setup-reference.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${PREFLAB_ENGINES_VENV:-.venv-engines}"
PYTHON="${PYTHON:-python3}"
PINS=(tensorboard==2.21.0)

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import tensorboard.backend.event_processing.event_accumulator" 2>/dev/null; then
    # uv when setup-engines.sh left one in the cache (seconds), else pip.
    uv="$(ls "${PREFLAB_ENGINES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/preflab}"/uv-*/bin/uv 2>/dev/null | tail -1 || true)"
    if [[ -n "$uv" ]]; then
        "$uv" pip install --quiet --python "$VENV/bin/python" --compile-bytecode "${PINS[@]}"
    else
        "$VENV/bin/python" -m pip install --quiet "${PINS[@]}"
    fi
fi
"$VENV/bin/python" -c "import tensorboard; print('reference venv: tensorboard', tensorboard.__version__)"
