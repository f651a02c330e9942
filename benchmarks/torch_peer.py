#!/usr/bin/env python3
"""PyTorch peer of EngineBench: the same Llama shape, training step, DPO step and KV-cache generation.

Usage: python3 benchmarks/torch_peer.py [threads] [batch] [seq] [vocab] [dModel] [layers] [heads] [kvHeads] [hidden]
Env BENCH_CPU_CLOCK=1 times with process CPU time / threads, like EngineBench; BENCH_AUTOCAST=bf16 runs every
measured step under torch.autocast("cpu", dtype=torch.bfloat16) (the peer of the engine's precision bf16).
Prints one JSON line with the same keys as EngineBenchmarkResult.
"""
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

args = [int(a) for a in sys.argv[1:]]
def arg(i, d): return args[i] if i < len(args) else d
THREADS, B, T = arg(0, 2), arg(1, 8), arg(2, 256)
V, C, L, H, G, HD = arg(3, 8192), arg(4, 512), arg(5, 8), arg(6, 8), arg(7, 8), arg(8, 1408)
torch.set_num_threads(THREADS)
CPU_CLOCK = os.environ.get("BENCH_CPU_CLOCK") == "1"
AUTOCAST = os.environ.get("BENCH_AUTOCAST") == "bf16"
hd = C // H


def now():
    return time.process_time() / THREADS if CPU_CLOCK else time.perf_counter()


def fastest(repeats, fn):
    if AUTOCAST:
        plain = fn
        def fn():
            with torch.autocast("cpu", dtype=torch.bfloat16):
                plain()
    fn()
    best = float("inf")
    for _ in range(repeats):
        t = now(); fn(); best = min(best, now() - t)
    return best


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = torch.nn.RMSNorm(C, eps=1e-5), torch.nn.RMSNorm(C, eps=1e-5)
        self.q, self.k = torch.nn.Linear(C, C, bias=False), torch.nn.Linear(C, G * hd, bias=False)
        self.v, self.o = torch.nn.Linear(C, G * hd, bias=False), torch.nn.Linear(C, C, bias=False)
        self.gate, self.up = torch.nn.Linear(C, HD, bias=False), torch.nn.Linear(C, HD, bias=False)
        self.down = torch.nn.Linear(HD, C, bias=False)

    def forward(self, x, cos, sin, cache=None, pos=0):
        Bx, Tx, _ = x.shape
        h = self.ln1(x)
        q = self.q(h).view(Bx, Tx, H, hd).transpose(1, 2)
        k = self.k(h).view(Bx, Tx, G, hd).transpose(1, 2)
        v = self.v(h).view(Bx, Tx, G, hd).transpose(1, 2)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        if cache is not None:
            cache[0][:, :, pos:pos + Tx], cache[1][:, :, pos:pos + Tx] = k, v
            k, v = cache[0][:, :, :pos + Tx], cache[1][:, :, :pos + Tx]
        y = F.scaled_dot_product_attention(q, k, v, is_causal=Tx > 1, enable_gqa=True)
        x = x + self.o(y.transpose(1, 2).reshape(Bx, Tx, C))
        h = self.ln2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


def rot(x):
    return torch.cat((-x[..., hd // 2:], x[..., :hd // 2]), dim=-1)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(V, C)
        self.blocks = torch.nn.ModuleList(Block() for _ in range(L))
        self.norm = torch.nn.RMSNorm(C, eps=1e-5)
        self.head = torch.nn.Linear(C, V, bias=False)
        inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
        f = torch.outer(torch.arange(4096).float(), inv)
        emb = torch.cat((f, f), -1)
        self.cos, self.sin = emb.cos(), emb.sin()

    def forward(self, tokens, caches=None, pos=0):
        x = self.embed(tokens)
        Tx = tokens.shape[1]
        cos, sin = self.cos[pos:pos + Tx], self.sin[pos:pos + Tx]
        for i, b in enumerate(self.blocks):
            x = b(x, cos, sin, None if caches is None else caches[i], pos)
        return self.head(self.norm(x))


def token_logprobs(model, tokens):
    logits = model(tokens)[:, :-1]
    return torch.log_softmax(logits, -1).gather(-1, tokens[:, 1:, None])[..., 0]


def main():
    torch.manual_seed(0)
    policy, ref = Model(), Model()
    ref.load_state_dict(policy.state_dict())
    train = torch.randint(0, V, (B, T))
    pairs = torch.randint(0, V, (2 * B, T))

    def train_step():
        policy.zero_grad(set_to_none=False)
        (-token_logprobs(policy, train).mean()).backward()

    def dpo_step():
        policy.zero_grad(set_to_none=False)
        with torch.no_grad():
            token_logprobs(ref, pairs)
        (token_logprobs(policy, pairs).sum() * 0.01).backward()

    P, N = min(32, T - 64), 64
    prompts = torch.randint(0, V, (B, P))

    @torch.no_grad()
    def generate():
        caches = [(torch.zeros(B, G, P + N, hd), torch.zeros(B, G, P + N, hd)) for _ in range(L)]
        logits = policy(prompts, caches, 0)[:, -1]
        pos = P
        for _ in range(N):
            tok = logits.argmax(-1, keepdim=True)
            if pos == P + N - 1:
                break
            logits = policy(tok, caches, pos)[:, -1]
            pos += 1

    t_train = fastest(3, train_step)
    t_dpo = fastest(3, dpo_step)
    t_gen = fastest(3, generate)
    print(json.dumps({"threads": THREADS, "batch": B, "seq": T, "torch": torch.__version__,
                      "precision": "bf16 autocast" if AUTOCAST else "fp32",
                      "trainTokensPerSec": B * T / t_train, "dpoTokensPerSec": 2 * B * T / t_dpo,
                      "generateTokensPerSec": B * N / t_gen,
                      # ru_maxrss is KiB on Linux; the whole process, torch's own libraries included
                      "peakRSSBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}, sort_keys=True))


if __name__ == "__main__":
    main()
