#!/usr/bin/env python3
"""Checks that the SmolLM2 peer computes what the engine computes: per-token log-probs of a few fixed texts
from `preflab score HF_DIR --json` against transformers' LlamaForCausalLM on the same folder (the one
`preflab bench --export-smollm2 HF_DIR` writes, which torch_smollm2_peer.py times), token ids taken from the
engine's own output so both sides score identical sequences.

Usage: .venv-engines/bin/python benchmarks/peer_logprob_check.py PREFLAB HF_DIR
Prints one line per text and the largest absolute difference per token; exits 1 above 1e-3 (fp32 both sides,
sums in other orders: expect ~1e-5).
"""
import json
import subprocess
import sys

import torch
from transformers import AutoTokenizer, LlamaForCausalLM

TEXTS = [
    ("The capital of France is", " Paris, a city on the Seine."),
    ("def fibonacci(n):", "\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)"),
    ("Question: what is 12 times 7?\nAnswer:", " 12 times 7 is 84."),
    ("Write a haiku about rain.", " Soft rain on the roof,\nthe garden drinks in silence,\nclouds drift to the east."),
]
TOLERANCE = 1e-3


def engine_scores(preflab, folder, prompt, response):
    out = subprocess.run([preflab, "score", folder, "--prompt", prompt, "--response", response, "--json"],
                         check=True, capture_output=True, text=True).stdout
    scored = json.loads(out)
    return scored["prompt_tokens"], [t["id"] for t in scored["tokens"]], [t["logprob"] for t in scored["tokens"]]


def main():
    preflab, folder = sys.argv[1], sys.argv[2]
    torch.set_num_threads(2)
    model = LlamaForCausalLM.from_pretrained(folder, torch_dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    worst = 0.0
    for prompt, response in TEXTS:
        n_prompt, response_ids, ours = engine_scores(preflab, folder, prompt, response)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        if len(prompt_ids) != n_prompt:
            sys.exit(f"prompt {prompt!r}: transformers tokenises {len(prompt_ids)} tokens, the engine {n_prompt}")
        ids = torch.tensor([prompt_ids + response_ids])
        with torch.no_grad():
            logp = torch.log_softmax(model(ids).logits.float(), dim=-1)[0]
        theirs = [logp[n_prompt + i - 1, t].item() for i, t in enumerate(response_ids)]
        gap = max(abs(a - b) for a, b in zip(ours, theirs))
        worst = max(worst, gap)
        print(f"{len(response_ids):3d} tokens  engine {sum(ours):10.5f}  transformers {sum(theirs):10.5f}  max |Δ| per token {gap:.2e}")
    print(f"largest |Δ| per token: {worst:.2e} (tolerance {TOLERANCE:g})")
    sys.exit(0 if worst <= TOLERANCE else 1)


if __name__ == "__main__":
    main()
