#!/usr/bin/env python3
"""Per-stage parity of a recipe run with a matrix over `engine` (Recipes/checks/engines.yaml): for every training
stage that has a node per engine, the first-step loss, the final loss/accuracy and the summary values of each.

    python3 scripts/engines_parity.py Recipes/checks/engines.yaml [--set scale=smoke] [--store DIR] [--out FILE]

Nodes are found with `preflab plan` (stage name, short hash, cells) and read from the store (metrics.jsonl,
summary.json); it writes a Markdown table (default: stdout). Standard library only.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys

SUMMARY_KEYS = ["held_out_accuracy", "gold_used", "kl"]


def preflab():
    built = os.path.join(os.path.dirname(__file__), "..", ".build", "release", "preflab")
    return shutil.which("preflab") or built


def plan(recipe, sets, store):
    """[(stage, kind, short hash)] of every node (a node shared by several stages is listed under each)."""
    cmd = [preflab(), "plan", recipe, "--store", store] + [a for s in sets for a in ("--set", s)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    nodes = []
    for line in out.splitlines()[1:]:
        m = re.match(r"\s*(\S+) ([0-9a-f]{12})  (\S+)  cells: (.*)$", line)
        if not m:
            continue
        nodes += [(stage, m.group(1), m.group(2)) for stage in m.group(3).split(",")]
    return nodes


def read_node(store, short):
    folders = glob.glob(os.path.join(store, "objects", short + "*"))
    if len(folders) != 1 or not os.path.exists(os.path.join(folders[0], "metrics.jsonl")):
        return None
    with open(os.path.join(folders[0], "metrics.jsonl")) as f:
        steps = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(folders[0], "summary.json")) as f:
        summary = json.load(f)
    # A delegated node records its engine beside it (engine.json); embedded nodes do not.
    engine = "trl" if os.path.exists(os.path.join(folders[0], "engine.json")) else "embedded"
    return {"steps": steps, "summary": summary.get("values", summary), "engine": engine}


def fmt(x, digits=9):
    return "—" if x is None else (f"{x:.{digits}g}" if isinstance(x, float) else str(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("recipe")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--store", default=".preflab/store")
    ap.add_argument("--out")
    a = ap.parse_args()
    by_stage = {}
    for stage, kind, short in plan(a.recipe, a.set, a.store):
        node = read_node(a.store, short) if kind in ("sft", "reward_model", "dpo", "opo", "d2po") else None
        if node:
            by_stage.setdefault((stage, kind), {})[node["engine"]] = node
    lines = ["| stage | kind | steps | first-step loss: embedded | trl | \\|Δ\\| | final loss: embedded | trl | \\|Δ\\| | "
             "final accuracy: embedded | trl | summary: embedded | trl | seconds: embedded | trl |", "|" + "---|" * 15]
    for (stage, kind), nodes in sorted(by_stage.items()):
        e, t = nodes.get("embedded"), nodes.get("trl")
        if not e or not t:
            continue  # a shared stage (`engine: embedded`), not a comparison
        first = [n["steps"][0]["values"].get("loss") for n in (e, t)]
        last = [n["steps"][-1]["values"] for n in (e, t)]
        summ = [", ".join(f"{k} {fmt(n['summary'][k], 4)}" for k in SUMMARY_KEYS if k in n["summary"]) for n in (e, t)]
        steps = f"{len(e['steps'])} / {len(t['steps'])}"
        final = [v.get("loss") for v in last]
        secs = [fmt(n["summary"].get("seconds"), 3) for n in (e, t)]
        lines.append(f"| {stage} | {kind} | {steps} | {fmt(first[0])} | {fmt(first[1])} | {abs(first[0] - first[1]):.2g} | "
                     f"{fmt(final[0], 7)} | {fmt(final[1], 7)} | {abs(final[0] - final[1]):.2g} | {fmt(last[0].get('accuracy'), 4)} | "
                     f"{fmt(last[1].get('accuracy'), 4)} | {summ[0]} | {summ[1]} | {secs[0]} | {secs[1]} |")
    text = "\n".join(lines) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
