#!/usr/bin/env bash
# A/B of generation between two builds of EngineBench, interleaved so the machine's drift hits both.
# Usage: benchmarks/ab_generate.sh OLD_ENGINEBENCH NEW_ENGINEBENCH ROUNDS [dModel layers heads kvHeads hidden]
#   e.g. git worktree add /tmp/base <rev> && (cd /tmp/base && swift build -c release --product EngineBench)
#        benchmarks/ab_generate.sh /tmp/base/.build/release/EngineBench .build/release/EngineBench 3 512 8 8 8 1408
# Prints, per run, generation tok/s and the profile's phase sums over the run's generate calls (a warm-up and
# three timed): decode products (q/k/v, o, gate/up, down, head), decode attention, prefill and packing.
set -euo pipefail
old=$1 new=$2 rounds=$3
shift 3
shape=("${@:-512 8 8 8 1408}")
for _ in $(seq "$rounds"); do
    for side in old new; do
        bin=$old
        [ "$side" = new ] && bin=$new
        # shellcheck disable=SC2068
        BENCH_PROFILE=1 BENCH_GENERATE_ONLY=1 "$bin" 2 32 128 8192 ${shape[@]} | awk -v side="$side" '
            /generateTokensPerSec/ { gsub(/.*:|}/, ""); gen = $0 }
            /^decode (qkv|o|gate\/up|down|head) / { products += $NF }
            /^decode attention / { attention = $NF }
            /^prefill / { prefill = $NF }
            /^pack / { pack = $NF }
            END { printf "%s generation %.0f tok/s  products %.3f s  attention %.3f s  prefill %.3f s  pack %.3f s\n",
                  side, gen, products, attention, prefill, pack }'
    done
done
