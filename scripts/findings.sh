#!/usr/bin/env bash
# Regenerates every Results/<recipe>/findings.md from its committed results.json (runs nothing) and
# README's verdict column from the same reports: `preflab verdicts RECIPE --readme README.md` for each
# recipe with `claims:` or `findings_note:` (docs/verdicts.md). Usage: scripts/findings.sh [PREFLAB]
set -euo pipefail
cd "$(dirname "$0")/.."
preflab=${1:-.build/release/preflab}
for recipe in $(grep -rlE '^(claims|findings_note):' Recipes --include='*.yaml' | sort); do
    # A recipe declared but not yet run has no results.json (its findings_note says so).
    name=$(sed -n 's/^name: *//p' "$recipe")
    if [[ ! -f "Results/$name/results.json" ]]; then echo "$recipe: not yet run (no Results/$name/results.json)"; continue; fi
    if grep -q "\`preflab run $recipe\`" README.md; then
        "$preflab" verdicts "$recipe" --readme README.md
    else
        "$preflab" verdicts "$recipe"
    fi
done
