#!/usr/bin/env bash
# Reliability campaign (issue 16, docs/guarantees.md): feeds the release binary bad inputs and injects
# faults into real runs, then prints the counts.
#
#   bad inputs:  each must end with a clear error (exit 1 and the expected words); a crash is a signal
#                exit or a runtime trap message, "silent" is exit 0.
#   faults:      kill -9 / SIGINT / SIGTERM mid-run, damaged stored files, a file-size limit and (as root)
#                a real full disk (a small tmpfs, ENOSPC);
#                each is survived when the process did not crash and a rerun gives the reference table.
#
# Usage: bash scripts/faults.sh            (builds nothing; uses .build/release/preflab or $PREFLAB_BIN)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${PREFLAB_BIN:-$ROOT/.build/release/preflab}
[ -x "$BIN" ] || { echo "faults.sh: no binary at $BIN (swift build -c release)" >&2; exit 2; }
W=$(mktemp -d /tmp/preflab-faults.XXXXXX)
trap 'for m in "$W"/enospc-*; do umount "$m" 2>/dev/null; done; rm -rf "$W"' EXIT
RECIPE=Recipes/quickstart.yaml
SMOKE=(--set scale=smoke --threads 2)
# Longer trainers for the fault runs, so that kills and signals land inside them (about 15-30 s in all).
LONG=(--set stages.sft.epochs=10 --set stages.sft.examples=256 --set stages.dpo.epochs=20)
tried=0 crashed=0 silent=0 clear=0 unclear=0 faults=0 survived=0

crash_text='Fatal error|Stack dump|Illegal instruction|Segmentation fault|Aborted|Trace/breakpoint|core dumped'

# bad NAME EXPECTED-WORDS COMMAND...: a bad input must fail with a clear message.
bad() {
    local name=$1 want=$2; shift 2
    tried=$((tried + 1))
    local out rc
    out=$("$@" 2>&1); rc=$?
    if [ $rc -ge 128 ] || grep -qE "$crash_text" <<<"$out"; then
        crashed=$((crashed + 1)); echo "CRASH   $name (exit $rc)"; tail -3 <<<"$out" | sed 's/^/        /'
    elif [ $rc -eq 0 ]; then
        silent=$((silent + 1)); echo "SILENT  $name (exit 0)"
    elif grep -qiF -- "$want" <<<"$out"; then
        clear=$((clear + 1)); echo "ok      $name: $(grep -m1 -iF -- "$want" <<<"$out" | cut -c1-150)"
    else
        unclear=$((unclear + 1)); echo "UNCLEAR $name (exit $rc): $(tail -1 <<<"$out" | cut -c1-150)"
    fi
}

# fault NAME OK(0/1) DETAIL: records one injected fault.
fault() {
    faults=$((faults + 1))
    if [ "$2" = 1 ]; then survived=$((survived + 1)); echo "ok      fault $1: $3"; else echo "FAILED  fault $1: $3"; fi
}

# resumed STORE: "N resumed, curves complete" when every node whose log says it resumed has the metrics
# steps 1..total without a gap (the rows before its checkpoint are replayed from the checkpoint).
resumed() {
    python3 - "$1" <<'EOF'
import glob, json, os, sys
n, ok = 0, True
for log in glob.glob(os.path.join(sys.argv[1], "objects", "*", "log.txt")):
    if "resumed from step" not in open(log).read():
        continue
    n += 1
    rows = [json.loads(l) for l in open(os.path.join(os.path.dirname(log), "metrics.jsonl"))]
    ok &= [r["step"] for r in rows] == list(range(1, rows[-1]["total"] + 1))
print(f"{n} resumed, curves {'complete' if ok else 'INCOMPLETE'}")
EOF
}

run() { "$BIN" run "$RECIPE" "${SMOKE[@]}" "${LONG[@]}" --store "$1" --results "$2" "${@:3}"; }
# start STORE RESULTS LOG: the same run in the background, the binary itself being the job (a shell
# function run with & would be a subshell, and a signal would reach the subshell instead); sets $pid.
start() { "$BIN" run "$RECIPE" "${SMOKE[@]}" "${LONG[@]}" --store "$1" --results "$2" >"$3" 2>&1 & pid=$!; }
table() { cat "$1"/quickstart/*.csv 2>/dev/null | grep -v '^#' ; }

echo "== bad inputs"
R=$W/recipes; mkdir -p "$R"
{
    echo "name: bomb"; echo "vars:"; echo "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]"
    for i in $(seq 1 9); do
        printf '  a%d: &a%d [' "$i" "$i"; for j in $(seq 1 10); do printf '*a%d' $((i - 1)); [ "$j" -lt 10 ] && printf ', '; done; echo "]"
    done
    echo "stages: {}"
} >"$R/bomb.yaml"
bad "billion laughs (1 KB recipe)"   "expands to more than"  "$BIN" validate "$R/bomb.yaml"
printf 'name: a\nstages:\n  t: { kind: tokenizer, task: *nope }\n' >"$R/alias.yaml"
bad "undefined alias"               "undefined YAML alias '*nope'" "$BIN" validate "$R/alias.yaml"
printf 'name: a\nstages:\n  t: { kind: tokenizer, task: w\xe9rd }\n' >"$R/utf8.yaml"
bad "invalid UTF-8"                 "utf8.yaml:3:"          "$BIN" validate "$R/utf8.yaml"
printf 'name: a\nstages:\n\tt: { kind: tokenizer }\n' >"$R/tab.yaml"
bad "tab indentation"               "tab character"         "$BIN" validate "$R/tab.yaml"
printf 'name: a\nname: b\nstages: {}\n' >"$R/dup.yaml"
bad "duplicate key"                 "duplicate key"         "$BIN" validate "$R/dup.yaml"
printf 'name: "../../outside"\nstages:\n  t: { kind: tokenizer, task: word_collector }\n' >"$R/escape.yaml"
bad "name escaping --results"       "cannot be used as a folder" "$BIN" validate "$R/escape.yaml"
head -c 5000000 /dev/zero | tr '\0' '#' >"$R/huge.yaml"
bad "5 MB recipe"                   "bytes long"            "$BIN" validate "$R/huge.yaml"
printf 'name: a\nstages: [\n' >"$R/syntax.yaml"
bad "YAML syntax error"             "invalid YAML"          "$BIN" validate "$R/syntax.yaml"
bad "run: no 'Error: error:'"       "syntax.yaml:"          bash -c "\"$BIN\" run '$R/syntax.yaml' 2>&1 | grep -v 'Error: error:' ; exit \${PIPESTATUS[0]}"
printf 'name: a\nstages:\n  p: { kind: pretrained, file: models/absent.gguf }\n' >"$R/model.yaml"
bad "missing model file"            "does not exist"        "$BIN" validate "$R/model.yaml"
printf 'name: a\nstages:\n  d: { kind: dataset, name: gsm8k_trian }\n' >"$R/ds.yaml"
bad "unknown dataset name"          "did you mean"          "$BIN" validate "$R/ds.yaml"
printf 'name: a\nstages:\n  p: { kind: prompt_set, file: absent/prompts.txt }\n' >"$R/pf.yaml"
bad "missing prompt file"           "does not exist"        "$BIN" validate "$R/pf.yaml"

S=$W/bad-store
for spec in "epochs=9223372036854775807|epochs" "epochs=999999999|total steps" "learning_rate=.nan|finite" \
            "learning_rate=.inf|finite" "learning_rate=1e30|diverged" "batch_size=0|batch_size: 0 is out of range" \
            "warmup_fraction=.nan|finite"; do
    bad "sft ${spec%%|*}" "${spec##*|}" "$BIN" run "$RECIPE" "${SMOKE[@]}" --store "$S" --results "$W/res" --set "stages.sft.${spec%%|*}"
done
for spec in "loss={beta: -1}|beta" "loss={beta: .nan}|finite" "learning_rate=1e30|diverged" "micro_batch=0|micro_batch: 0 is out of range"; do
    bad "dpo ${spec%%|*}" "${spec##*|}" "$BIN" run "$RECIPE" "${SMOKE[@]}" --store "$S" --results "$W/res" --set "stages.dpo.${spec%%|*}"
done
for spec in "temperature=.nan|finite" "temperature=.inf|finite" "prompt_batch=9223372036854775807|promptBatch"; do
    bad "ppo ${spec%%|*}" "${spec##*|}" "$BIN" run "$RECIPE" "${SMOKE[@]}" --store "$S" --results "$W/res" --set "stages.ppo.${spec%%|*}"
done

C=$W/catalog; mkdir -p "$C"
entry() { printf 'source: {path: "%s"%s}\nlayout: pair\nfields: {prompt: prompt, chosen: chosen, rejected: rejected}\n' "$2" "${3:-}" >"$C/$1.yaml"; }
one_catalog() { rm -f "$C"/*.yaml; entry "$@"; }
printf 'PAR1\x15\x04\x15\x00PAR1' >"$C/pairs.parquet"
one_catalog parquet "$C/pairs.parquet"
bad "broken Parquet file"           "Parquet: the footer length" "$BIN" data validate --catalog "$C"
gzip -c "$ROOT/Tests/PreferenceTests/Fixtures/data/pairs.jsonl" | head -c 150 >"$C/cut.jsonl.gz"
one_catalog cut "$C/cut.jsonl.gz"
bad "damaged gzip"                  "truncated_gzip"        "$BIN" data validate --catalog "$C"
printf 'question,answer\nq,a\n' >"$C/wrong.csv"
one_catalog wrong "$C/wrong.csv"
bad "entry that keeps no rows"      "keeps no rows"         "$BIN" data validate --catalog "$C"
one_catalog shadow /etc/passwd
bad "source outside the roots"      "allow_outside"         "$BIN" data validate --catalog "$C"
one_catalog missing "$C/absent.jsonl"
bad "missing data file"             "does not exist"        "$BIN" data validate --catalog "$C"

echo "== faults"
REF=$W/ref
t0=$(date +%s.%N)
run "$REF/store" "$REF/res" >"$W/ref.log" 2>&1 || { echo "reference run failed:"; tail -20 "$W/ref.log"; exit 1; }
t1=$(date +%s.%N)
REFTABLE=$(table "$REF/res")
SECS=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
echo "reference run: ${SECS}s"

# kill -9 at fractions of the reference time, then rerun: same table, no crash.
# A kill that lands after the run finished (exit 0) injected nothing and is not counted.
for frac in 0.05 0.15 0.25 0.35 0.45 0.55 0.65 0.75 0.85 0.95; do
    D=$W/kill-$frac
    start "$D/store" "$D/res" "$D.log"
    sleep "$(python3 -c "print($SECS * $frac)")"
    kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; krc=$?
    [ $krc = 137 ] || { echo "missed  kill -9 at $frac: the run had finished (exit $krc)"; continue; }
    out=$(run "$D/store" "$D/res" 2>&1); rc=$?
    r=$(resumed "$D/store")
    [ $rc -eq 0 ] && [ "$(table "$D/res")" = "$REFTABLE" ] && [[ $r != *INCOMPLETE* ]] && ok=1 || ok=0
    fault "kill -9 at ${frac} of the run" $ok "killed run exit $krc, rerun exit $rc, $r"
done

# SIGINT / SIGTERM: exit 130 / 143 with the message, then the rerun finishes with the same table.
for sig in INT TERM; do
    D=$W/sig-$sig
    start "$D/store" "$D/res" "$D.log"
    # Signalled once a trainer has saved a checkpoint (a fixed fraction of the reference time missed
    # when the machine's load changed between runs); a run that finished first injected nothing.
    while kill -0 $pid 2>/dev/null && ! compgen -G "$D/store/resume/*/*" >/dev/null; do sleep 0.1; done
    kill -$sig $pid 2>/dev/null; wait $pid; rc=$?
    [ $rc = 0 ] && { echo "missed  SIG$sig: the run had finished (exit 0)"; continue; }
    want=$([ $sig = INT ] && echo 130 || echo 143)
    msg=$(grep -c "rerun to resume" "$D.log")
    out=$(run "$D/store" "$D/res" 2>&1); rc2=$?
    r=$(resumed "$D/store")
    [ $rc = "$want" ] && [ "$msg" -ge 1 ] && [ $rc2 -eq 0 ] && [ "$(table "$D/res")" = "$REFTABLE" ] \
        && [[ $r != *INCOMPLETE* ]] && ok=1 || ok=0
    fault "SIG$sig mid-run" $ok "exit $rc (want $want), message lines $msg, rerun exit $rc2, $r"
done

# Damaged stored files: caught by verify, moved to quarantine, recomputed; same table.
damage() {  # NAME FILE-GLOB HOW
    local D=$W/damage-$1
    cp -r "$REF/store" "$D-store"
    local f; f=$(ls "$D-store"/objects/*/$2 2>/dev/null | head -1)
    [ -n "$f" ] || { fault "$1" 0 "no file $2"; return; }
    python3 - "$f" "$3" <<'EOF'
import sys
path, how = sys.argv[1], sys.argv[2]
b = bytearray(open(path, 'rb').read())
if how == 'flip':            # one exponent bit of a float in the middle of the tensor data
    b[len(b) // 2 + 3] ^= 0x40
elif how == 'truncate':
    b = b[: len(b) // 2]
elif how == 'cutlines':      # cut at a line boundary: drop the last 40% of the lines
    lines = b.split(b'\n')
    b = b'\n'.join(lines[: int(len(lines) * 0.6)]) + b'\n'
open(path, 'wb').write(bytes(b))
EOF
    "$BIN" store verify --store "$D-store" >"$D.verify" 2>&1; local vrc=$?
    local out rc; out=$(run "$D-store" "$D-res" 2>&1); rc=$?
    local warned; warned=$(grep -c "is damaged: $2" <<<"$out")
    [ $vrc -eq 1 ] && [ $rc -eq 0 ] && [ "$warned" -ge 1 ] && [ "$(table "$D-res")" = "$REFTABLE" ] && ok=1 || ok=0
    fault "$1" $ok "store verify exit $vrc, rerun exit $rc, warnings naming the file: $warned"
}
damage "flipped bit in a weight file" "model.safetensors" flip
damage "truncated summary.json" "summary.json" truncate
damage "pairs.jsonl cut at a line boundary" "pairs.jsonl" cutlines

# Disk full: a file-size limit makes writes fail (EFBIG) as a full disk would (ENOSPC): the run must
# fail cleanly, and a rerun without the limit must give the reference table.
# A limit the run never reaches injected nothing and is not counted.
for kb in 2 8 16 32 64 128; do
    D=$W/full-$kb
    out=$(bash -c "trap '' XFSZ; ulimit -f $kb; exec \"$BIN\" run $RECIPE ${SMOKE[*]} --store '$D/store' --results '$D/res'" 2>&1); rc=$?
    [ $rc = 0 ] && { echo "missed  files limited to ${kb} KB: no write reached the limit"; continue; }
    crash=$(grep -cE "$crash_text" <<<"$out")
    out2=$(run "$D/store" "$D/res" 2>&1); rc2=$?
    [ $rc -lt 128 ] && [ "$crash" = 0 ] && [ $rc2 -eq 0 ] && [ "$(table "$D/res")" = "$REFTABLE" ] && ok=1 || ok=0
    fault "files limited to ${kb} KB (disk full)" $ok "exit $rc$(grep -m1 -oE '(cannot|File too large)[^(]{0,60}' <<<"$out" | head -1 | sed 's/^/: /'), rerun exit $rc2"
done

# A real full disk (ENOSPC, root only): the store on a small tmpfs; the run must fail cleanly, then the
# disk is grown (remount) and a rerun on the same store must give the reference table.
probe=$W/tmpfs-probe
if [ "$(id -u)" = 0 ] && mkdir -p "$probe" && mount -t tmpfs -o size=1m tmpfs "$probe" 2>/dev/null; then
    umount "$probe"
    for size in 64k 256k 512k 1m; do
        D=$W/enospc-$size
        mkdir -p "$D" && mount -t tmpfs -o size=$size tmpfs "$D"
        out=$(run "$D/store" "$D/res" 2>&1); rc=$?
        if [ $rc = 0 ]; then
            echo "missed  store on a ${size} disk: the run fitted"; umount "$D"; continue
        fi
        crash=$(grep -cE "$crash_text" <<<"$out")
        mount -o remount,size=512m "$D"
        out2=$(run "$D/store" "$D/res" 2>&1); rc2=$?
        [ $rc -lt 128 ] && [ "$crash" = 0 ] && [ $rc2 -eq 0 ] && [ "$(table "$D/res")" = "$REFTABLE" ] && ok=1 || ok=0
        fault "store on a full ${size} disk (ENOSPC)" $ok "exit $rc$(grep -m1 -oE '(cannot|No space left)[^(]{0,60}' <<<"$out" | head -1 | sed 's/^/: /'), rerun after growing the disk exit $rc2"
        umount "$D"
    done
else
    echo "skipped store on a full disk: needs root and tmpfs mounts (the file-size limits above stand in)"
fi

# Two runs on one store at once: both succeed, same table.
D=$W/concurrent
run "$D/store" "$D/res1" >"$D.1" 2>&1 & p1=$!
run "$D/store" "$D/res2" >"$D.2" 2>&1 & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
[ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ "$(table "$D/res1")" = "$REFTABLE" ] && [ "$(table "$D/res2")" = "$REFTABLE" ] && ok=1 || ok=0
fault "two concurrent runs on one store" $ok "exits $r1 and $r2"

echo
echo "bad inputs tried: $tried; clear errors: $clear; crashes: $crashed; silently accepted: $silent; unclear: $unclear"
echo "faults injected: $faults; survived: $survived"
[ $crashed -eq 0 ] && [ $silent -eq 0 ] && [ $survived -eq $faults ]
