#!/usr/bin/env python3
"""PyTorch peer of `preflab bench --shape smollm2`: the same SmolLM2-135M weights in transformers'
LlamaForCausalLM, the same steps and shapes, the same thread count.

Usage: .venv-engines/bin/python benchmarks/torch_smollm2_peer.py THREADS HF_DIR
HF_DIR is the folder `preflab bench --export-smollm2 HF_DIR` writes: PrefLab's own load of the GGUF (Q4_1
dequantised to Float32), so both sides multiply identical weights. BENCH_AUTOCAST=bf16 runs every measured
step under torch.autocast("cpu", dtype=torch.bfloat16) (the peer of the engine's precision bf16).

Measured like the engine (one warm-up, fastest of 2): training step = forward + backward of the mean token
log-prob on 4 x 128 random tokens; DPO step = frozen reference forward without gradient + policy forward
and backward on 2 pairs x 128 (tokens/s counts the 4 x 128 policy tokens, as the engine does); forward =
gradient-free log-probs of 4 x 128; generation = greedy `model.generate` with the KV cache, 32-token
random prompts, 32 new tokens each, at batch 8 and batch 1 (new tokens/s). Peak RSS is VmHWM, reset
(/proc/self/clear_refs) before loading and again before forward + generation, as the engine resets it.
Prints one JSON line with the engine's keys.
"""
import copy
import json
import os
import sys
import time

import torch
from transformers import LlamaForCausalLM

THREADS, FOLDER = int(sys.argv[1]), sys.argv[2]
AUTOCAST = os.environ.get("BENCH_AUTOCAST") == "bf16"
torch.set_num_threads(THREADS)


def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def fastest(repeats, fn):
    def run():
        if AUTOCAST:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                fn()
        else:
            fn()
    run()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t)
    return best


def token_logprobs(model, tokens):
    logits = model(input_ids=tokens).logits[:, :-1].float()
    return torch.log_softmax(logits, -1).gather(-1, tokens[:, 1:, None])[..., 0]


def training_rates(policy, reference, vocab):
    batch = torch.randint(0, vocab, (4, 128), generator=torch.Generator().manual_seed(6))

    def train_step():
        policy.zero_grad(set_to_none=False)
        (-token_logprobs(policy, batch).mean()).backward()

    def dpo_step():
        policy.zero_grad(set_to_none=False)
        with torch.no_grad():
            token_logprobs(reference, batch)
        (token_logprobs(policy, batch).sum() * 0.01).backward()

    return batch.numel() / fastest(2, train_step), batch.numel() / fastest(2, dpo_step)


def generation_rate(model, vocab, batch, prompt=32, new=32):
    prompts = torch.randint(0, vocab, (batch, prompt), generator=torch.Generator().manual_seed(4))
    mask = torch.ones_like(prompts)

    @torch.no_grad()
    def generate():
        out = model.generate(input_ids=prompts, attention_mask=mask, max_new_tokens=new, min_new_tokens=new,
                             do_sample=False, use_cache=True, pad_token_id=0)
        assert out.shape == (batch, prompt + new)
    return batch * new / fastest(2, generate)


def main():
    torch.manual_seed(0)
    reset_peak()
    reference = LlamaForCausalLM.from_pretrained(FOLDER, dtype=torch.float32, attn_implementation="sdpa")
    reference.eval().requires_grad_(False)  # frozen, as the engine's reference holds no gradients
    vocab = reference.config.vocab_size
    policy = copy.deepcopy(reference).requires_grad_(True)
    train, dpo = training_rates(policy, reference, vocab)
    training_peak = peak_bytes()
    del policy
    reset_peak()
    tokens = torch.randint(0, vocab, (4, 128), generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        forward = tokens.numel() / fastest(2, lambda: token_logprobs(reference, tokens))
    gen8 = generation_rate(reference, vocab, 8)
    gen1 = generation_rate(reference, vocab, 1)
    print(json.dumps({"threads": THREADS, "torch": torch.__version__, "precision": "bf16 autocast" if AUTOCAST else "fp32",
                      "trainTokensPerSec": train, "dpoTokensPerSec": dpo, "forwardTokensPerSec": forward,
                      "generateTokensPerSec": gen8, "generate1TokensPerSec": gen1,
                      "trainingPeakRSSBytes": training_peak, "peakRSSBytes": peak_bytes()}, sort_keys=True))


if __name__ == "__main__":
    main()
