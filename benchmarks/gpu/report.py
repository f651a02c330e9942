"""The numbers of benchmarks/gpu/check.sh from the run's store: the DPO node's training tokens per second and the
gold reward before and after DPO. Run with the engines' Python (it has transformers): the training tokens are
counted with the DPO node's own tokenizer and chat template over the training pairs (prompt once for the chosen and
once for the rejected response, each response with its end-of-turn token), times the epochs, over the node's time.

usage: report.py STORE PLAN WALL_SECONDS MODE COMMIT
"""
import json
import os
import re
import sys

from transformers import AutoTokenizer

store, plan, wall, mode, commit = sys.argv[1:6]
hashes = dict(re.findall(r"^# (\w+): \w+ on \w+, ([0-9a-f]{64})", open(plan).read(), re.M))


def folder(stage):
    return os.path.join(store, "objects", hashes[stage])


def read(stage, name):
    with open(os.path.join(folder(stage), name)) as f:
        return json.load(f)


def trained_tokens():
    """Tokens of one pass over the DPO node's training pairs, as its own tokenizer and chat template split them."""
    tok = AutoTokenizer.from_pretrained(folder("dpo"))
    total = 0
    with open(os.path.join(folder("preferences"), "pairs.jsonl")) as f:
        pairs = [json.loads(line) for line in f]
    for p in pairs:
        text = tok.apply_chat_template(p["prompt"]["messages"], add_generation_prompt=True, tokenize=False)
        prompt = tok(text, add_special_tokens=False)["input_ids"]
        responses = sum(len(tok(p[k], add_special_tokens=False)["input_ids"]) + 1 for k in ("chosen", "rejected"))
        total += 2 * len(prompt) + responses
    return total, len(pairs)


dpo, before, after = read("dpo", "summary.json"), read("eval_base", "summary.json"), read("eval", "summary.json")
epochs = read("dpo", "node.json")["config"].get("epochs", 1)
tokens, pairs = trained_tokens()
print("\n".join([
    f"D2PO Table 2 cell (DPO on Word Collector, SmolLM2-135M through TRL), mode {mode}, commit {commit}",
    f"whole cell (sampling pairs, DPO, two gold-reward evaluations, from an empty store): {float(wall):.1f} s",
    f"DPO node: {dpo['seconds']:.1f} s for {int(dpo['steps'])} steps over {pairs} pairs x {epochs} epoch(s)",
    f"DPO training tokens/s: {tokens * epochs / dpo['seconds']:.0f} ({tokens * epochs} tokens; the node's time includes "
    "the engine's start, the export of the start model and the import of the result)",
    f"gold reward over {int(after['count'])} held-out samples: before {before['mean']:.3f}, after DPO {after['mean']:.3f} "
    f"(KL to the start {after.get('kl', float('nan')):.3f})",
]))
