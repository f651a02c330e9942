#!/usr/bin/env bash
# The test command: sets up what the tests need, then runs every test in an optimised build
# (numeric tests are slow in a debug build).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift test -c release -Xswiftc -enable-testing "$@"
