#!/usr/bin/env bash
# One cell of D2PO Table 2 (DPO on Word Collector) on one GPU through TRL, in under 8 minutes: prints the DPO
# node's training tokens/s and the gold reward before and after, and writes them to benchmarks/gpu/results/.
#
#   bash benchmarks/gpu/check.sh                # on a machine with an NVIDIA GPU
#   bash benchmarks/gpu/check.sh --cpu-smoke    # the same path, tiny, on a CPU (.venv-engines); checks the script
#
# What it needs (nothing else is fetched):
#   - a built PrefLab (.build/release/preflab), or Swift 6 + OpenBLAS to build it (scripts/quickstart.sh's packages);
#   - models/SmolLM2-135M-Instruct.Q4_1.gguf (scripts/fetch-smollm2.sh), the 125M-class Llama standing in for
#     OPT-125m (PrefLab's bridges read Llama models only);
#   - GPU mode: Python 3 and, in .venv-gpu (made here when absent), torch with CUDA, trl 1.16.0, transformers 5.25.0,
#     accelerate 1.16.0, datasets 5.2.0: from PyPI, or with no network from a folder of wheels
#     (PREFLAB_WHEELS=/path/to/wheels: pip --no-index --find-links). An existing .venv-gpu is used as it is.
# The store starts empty ($PREFLAB_CHECK_STORE, default a new temporary folder), so the time is the whole cell's.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=gpu
[[ "${1:-}" == "--cpu-smoke" ]] && mode=cpu
[[ $# -gt 0 && "$mode" != cpu ]] && { echo "usage: $0 [--cpu-smoke]" >&2; exit 2; }
LIMIT=480   # seconds: the issue's 8 minutes for the run itself

preflab=.build/release/preflab
if [[ ! -x "$preflab" ]]; then
    echo "building preflab (swift build -c release)..."
    swift build -c release --product preflab >/dev/null
fi
[[ -f models/SmolLM2-135M-Instruct.Q4_1.gguf ]] || { echo "models/SmolLM2-135M-Instruct.Q4_1.gguf is missing: bash scripts/fetch-smollm2.sh" >&2; exit 1; }

work="${PREFLAB_CHECK_STORE:-$(mktemp -d /tmp/preflab-gpu-check.XXXXXX)}"
mkdir -p "$work"
if [[ "$mode" == gpu ]]; then
    command -v nvidia-smi >/dev/null && nvidia-smi -L || { echo "no NVIDIA GPU found (nvidia-smi); use --cpu-smoke on a CPU" >&2; exit 1; }
    if [[ ! -x .venv-gpu/bin/python ]]; then
        python3 -m venv .venv-gpu
        src=()
        [[ -n "${PREFLAB_WHEELS:-}" ]] && src=(--no-index --find-links "$PREFLAB_WHEELS")
        .venv-gpu/bin/pip install -q "${src[@]}" torch trl==1.16.0 transformers==5.25.0 accelerate==1.16.0 datasets==5.2.0
    fi
    .venv-gpu/bin/python -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else "torch in .venv-gpu sees no CUDA GPU")'
    site=benchmarks/gpu/site-gpu1.yaml
    python=.venv-gpu/bin/python
    scale=()
else
    [[ -x .venv-engines/bin/python ]] || bash scripts/setup-engines.sh
    site="$work/site-cpu.yaml"
    python=.venv-engines/bin/python
    printf 'launcher: local\npython:\n  trl: .venv-engines/bin/python\n' > "$site"
    scale=(--set scale=cpu_smoke)
fi

recipe=benchmarks/gpu/table2-cell.yaml
start=$(date +%s.%N)
timeout "$LIMIT" "$preflab" run "$recipe" "${scale[@]}" --store "$work/store" --site "$site" --results "$work/results" \
    > "$work/run.log" 2>&1 || { tail -20 "$work/run.log"; echo "check failed (log: $work/run.log)" >&2; exit 1; }
wall=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")

mkdir -p benchmarks/gpu/results
out="benchmarks/gpu/results/check-$mode-$(date -u +%Y%m%dT%H%M%SZ).txt"
"$preflab" plan "$recipe" "${scale[@]}" --store "$work/store" --commands --site "$site" > "$work/plan.txt"
"$python" benchmarks/gpu/report.py "$work/store" "$work/plan.txt" "$wall" "$mode" "$(git rev-parse --short HEAD)" | tee "$out"
echo "written to $out (store: $work/store)"
