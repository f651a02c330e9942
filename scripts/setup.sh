#!/usr/bin/env bash
# Installs what PrefLab needs on a Debian machine (run as root; idempotent):
# OpenBLAS for the engine, zlib, snappy and zstd for the data readers (gzip, Parquet, Arrow), and the Debian data packages the tasks use.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for p in libopenblas-dev zlib1g-dev libsnappy-dev libzstd-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
for p in $(cat scripts/debian-packages.txt 2>/dev/null | grep -v '^#'); do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
