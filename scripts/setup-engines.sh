#!/usr/bin/env bash
# Makes .venv-engines: the project-local Python environment of the delegated engines (TRL), pinned.
#
# Installed with uv (pinned; bootstrapped once per machine from PyPI with pip into the cache when it is not on PATH at
# that version): from nothing it took 82 s here against 6m25s with pip (both at load ~12-15, no cache; uv resolves
# and installs in parallel, pip spent 4.5 min on TRL's dependencies alone). CPU torch only (a plain `pip install
# torch` brings the ~5 GB CUDA build): the local wheel /opt/wheels/torch-*+cpu*.whl installed together with TRL in
# one uv resolution when the machine carries one, else torch from PyTorch's CPU index first and TRL after it with
# torch held by a constraint; otherwise the script stops and says so. Every other package is held to
# scripts/engines-constraints.txt (the set TRL was checked with), and the script checks that torch is the CPU build.
# A second run with the same pins only checks the stamp and the installed versions (about a second).
#
# By default the environment is made once per machine and pin set, in the user's cache
# ($PREFLAB_ENGINES_CACHE, else ~/.cache/preflab/venv-engines-<pins hash>), and .venv-engines links to it:
# a fresh clone (CI) reuses it in about a second instead of reinstalling (minutes: downloads).
#
#   bash scripts/setup-engines.sh            # makes or checks .venv-engines
#   PREFLAB_ENGINES_VENV=/path bash ...      # that location only, no shared cache
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
TORCH_VERSION="2.13.0"
CPU_INDEX="https://download.pytorch.org/whl/cpu"
# TRL and the versions of its dependencies it was checked with (docs/engines.md lists what each maps).
PINS=(trl==1.16.0 transformers==5.25.0 accelerate==1.16.0 peft==0.21.2 datasets==5.2.0)
UV_VERSION="0.13.9"
CONSTRAINTS="scripts/engines-constraints.txt"
# The stamp (and the shared environment's name) names the pins only, so environments made before the constraints
# file existed (the same versions) stay valid.
WANT="torch==$TORCH_VERSION ${PINS[*]}"
shared=0
if [[ -n "${PREFLAB_ENGINES_VENV:-}" ]]; then
    VENV="$PREFLAB_ENGINES_VENV"
elif [[ -f .venv-engines/.preflab-engines && "$(cat .venv-engines/.preflab-engines)" == "$WANT" ]]; then
    VENV=.venv-engines
else
    cache="${PREFLAB_ENGINES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/preflab}"
    VENV="$cache/venv-engines-$(echo "$WANT" | sha256sum | cut -c1-12)"
    shared=1
    mkdir -p "$cache"
    # One maker at a time per machine; the others wait and then find it made.
    exec 9>"$cache/.setup-engines.lock"
    flock 9
fi
STAMP="$VENV/.preflab-engines"

# .venv-engines links to the shared environment once it is complete (the tests look for .venv-engines/bin/python).
link() {
    [[ "$shared" == 1 ]] || return 0
    if [[ ! -e .venv-engines || -L .venv-engines ]]; then
        ln -sfn "$VENV" .venv-engines
    else
        echo "setup-engines.sh: .venv-engines is a folder with other pins; it is left alone (the tests use it)" \
             "and $VENV was made beside it — remove .venv-engines and rerun to link it" >&2
    fi
}

check() {
    # Versions from the installed metadata (importing trl takes tens of seconds on a loaded machine).
    "$VENV/bin/python" - "$TORCH_VERSION" "${PINS[@]}" <<'EOF'
import sys
from importlib.metadata import version, PackageNotFoundError
want_torch, pins = sys.argv[1], [p.split("==") for p in sys.argv[2:]]
try:
    torch = version("torch")
    found = {name: version(name) for name, _ in pins}
except PackageNotFoundError as e:
    sys.exit(f"engines venv: {e.name} is not installed")
if torch != want_torch + "+cpu":
    sys.exit(f"engines venv: torch is {torch}; expected the CPU build {want_torch}+cpu")
bad = [f"{n} {found[n]} (want {v})" for n, v in pins if found[n] != v]
if bad:
    sys.exit("engines venv: " + ", ".join(bad))
print("engines venv: torch " + torch + ", " + ", ".join(f"{n} {found[n]}" for n, _ in pins))
EOF
}

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]] && check; then
    link
    exit 0
fi

"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "setup-engines.sh: Python >= 3.10 is needed")'
# A half-made shared environment (interrupted before its stamp) starts again from nothing.
if [[ "$shared" == 1 && ! -f "$STAMP" ]]; then rm -rf "$VENV"; fi
# uv at UV_VERSION: on PATH, else made once per machine in the cache (one small wheel through pip).
uv_dir="${PREFLAB_ENGINES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/preflab}/uv-$UV_VERSION"
UV="$(command -v uv || true)"
if [[ -z "$UV" || "$("$UV" --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]]; then
    UV="$uv_dir/bin/uv"
    if [[ ! -x "$UV" ]]; then
        echo "setup-engines.sh: installing uv $UV_VERSION into $uv_dir" >&2
        rm -rf "$uv_dir.tmp"
        "$PYTHON" -m pip --disable-pip-version-check --quiet install --no-deps --target "$uv_dir.tmp" "uv==$UV_VERSION"
        rm -rf "$uv_dir" && mv "$uv_dir.tmp" "$uv_dir"
    fi
fi
# Byte-compiled at install, as pip does (else the first import of torch and transformers compiles them).
INSTALL=("$UV" pip install --quiet --python "$VENV/bin/python" --compile-bytecode -c "$CONSTRAINTS")

# --seed: pip inside too, for scripts that add to the environment with it.
[[ -x "$VENV/bin/python" ]] || "$UV" venv --quiet --seed --python "$PYTHON" "$VENV"
pyver="$("$VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
wheel="$(ls /opt/wheels/torch-"$TORCH_VERSION"+cpu*-"$pyver"-*.whl 2>/dev/null | head -1 || true)"
if [[ -n "$wheel" ]]; then
    echo "setup-engines.sh: torch from the local wheel $wheel, with ${PINS[*]}" >&2
    "${INSTALL[@]}" "$wheel" "${PINS[@]}"
elif curl -fsS --max-time 10 -o /dev/null "$CPU_INDEX/torch/"; then
    echo "setup-engines.sh: torch $TORCH_VERSION from $CPU_INDEX" >&2
    "$UV" pip install --quiet --python "$VENV/bin/python" --compile-bytecode --index-url "$CPU_INDEX" "torch==$TORCH_VERSION"
    # Hold the installed torch: TRL's resolution may not upgrade or swap it.
    installed="$("$VENV/bin/python" -c 'import torch; print(torch.__version__)')"
    held="$(mktemp)"
    trap 'rm -f "$held"' EXIT
    echo "torch==$installed" > "$held"
    "${INSTALL[@]}" -c "$held" "${PINS[@]}"
else
    echo "setup-engines.sh: no local CPU torch wheel (/opt/wheels/torch-$TORCH_VERSION+cpu*-$pyver-*.whl) and" \
         "$CPU_INDEX is unreachable; a plain 'pip install torch' would bring the CUDA build, so nothing was" \
         "installed. Put the CPU wheel in /opt/wheels or allow that index." >&2
    exit 1
fi

check
echo "$WANT" > "$STAMP"
link
