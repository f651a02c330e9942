#!/usr/bin/env bash
# Sets up a fresh Debian machine and runs the quickstart recipe end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product preflab
.build/release/preflab run Recipes/quickstart.yaml "$@"
