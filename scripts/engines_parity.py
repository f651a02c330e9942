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

SUMMARY_KEYS = ["held_out_accuracy", "heldout_accuracy", "gold_used", "kl", "margin", "accuracy", "seconds"]


def preflab():
    built = os.path.join(os.path.dirname(__file__), "..", ".build", "release", "preflab")
    return shutil.which("preflab") or built


def plan(recipe, sets, store):
    """[(stage, short hash, engine)] of the nodes whose cells name one engine."""
    cmd = [preflab(), "plan", recipe, "--store", store] + [a for s in sets for a in ("--set", s)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    nodes = []
    for line in out.splitlines()[1:]:
        m = re.match(r"\s*(\S+) ([0-9a-f]{12})  (\S+)  cells: (.*)$", line)
        if not m:
            continue
        engines = set(re.findall(r"engine=(\w+)", m.group(4)))
        nodes.append((m.group(3), m.group(1), m.group(2), engines.pop() if len(engines) == 1 else None))
    return nodes


def read_node(store, short):
    folders = glob.glob(os.path.join(store, "objects", short + "*"))
    if len(folders) != 1:
        return None
    with open(os.path.join(folders[0], "metrics.jsonl")) as f:
        steps = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(folders[0], "summary.json")) as f:
        summary = json.load(f)
    return {"steps": steps, "summary": summary.get("values", summary)}


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
    for stage, kind, short, engine in plan(a.recipe, a.set, a.store):
        if engine and kind in ("sft", "reward_model", "dpo", "opo"):
            by_stage.setdefault((stage, kind), {})[engine] = read_node(a.store, short)
    lines = ["| stage | kind | steps | first-step loss: embedded | trl | \\|Δ\\| | final loss: embedded | trl | "
             "final accuracy: embedded | trl | summary: embedded | trl |", "|" + "---|" * 12]
    for (stage, kind), nodes in sorted(by_stage.items()):
        e, t = nodes.get("embedded"), nodes.get("trl")
        if not e or not t:
            lines.append(f"| {stage} | {kind} | not run on both engines |" + " |" * 9)
            continue
        first = [n["steps"][0]["values"].get("loss") for n in (e, t)]
        last = [n["steps"][-1]["values"] for n in (e, t)]
        summ = [", ".join(f"{k} {fmt(n['summary'][k], 4)}" for k in SUMMARY_KEYS if k in n["summary"] and k != "seconds")
                for n in (e, t)]
        steps = f"{len(e['steps'])} / {len(t['steps'])}"
        lines.append(f"| {stage} | {kind} | {steps} | {fmt(first[0])} | {fmt(first[1])} | {abs(first[0] - first[1]):.2g} | "
                     f"{fmt(last[0].get('loss'), 5)} | {fmt(last[1].get('loss'), 5)} | {fmt(last[0].get('accuracy'), 4)} | "
                     f"{fmt(last[1].get('accuracy'), 4)} | {summ[0]} | {summ[1]} |")
    text = "\n".join(lines) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
