#!/bin/sh
# Installs the Debian data packages PrefLab's tasks read at run time. Idempotent: packages
# already installed are skipped, and nothing is downloaded when all are present.
#   fortunes-min, fortunes  pretraining text (Corpus.pretrainingText, Contrastive Distillation prefixes)
#   festlex-poslex          only to regenerate the tagger model (scripts/build_pos_model.py);
#                           the model itself is committed in Sources/Preference/Tasks/POSModelData.swift
set -eu
missing=""
for pkg in fortunes-min fortunes festlex-poslex; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
if [ -z "$missing" ]; then
    echo "setup-data: all packages present"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
# shellcheck disable=SC2086
$SUDO apt-get install -y --no-install-recommends $missing
echo "setup-data: installed$missing"
