#!/usr/bin/env python3
"""Reference Llama (Hugging Face LlamaForCausalLM semantics) in float64 PyTorch: writes golden_tiny.json.

Builds a tiny model from numpy-seeded weights, runs the batch of right-padded sequences that the Swift
tests use, and records logits, per-token log-probs, scalar-head outputs and the gradient of every weight
for fixed linear objectives. The Swift test loads the same weights and must match to 1e-4.

Usage: python3 Tests/LlamaTests/Golden/make_golden.py   (needs numpy and torch; CPU is enough)
"""
import json
import os

import numpy as np
import torch

CONFIG = dict(vocabSize=17, dModel=16, nLayers=2, nHeads=4, nKVHeads=2, hidden=24, maxSeqLen=12,
              ropeBase=10000.0, normEps=1e-5)
SEQUENCES = [[1, 5, 9, 2, 16, 3, 7], [4, 4, 0, 11], [8, 13, 2, 6, 10]]


def make_weights(rng):
    c = CONFIG
    C, KVD, Hd, V = c["dModel"], c["nKVHeads"] * c["dModel"] // c["nHeads"], c["hidden"], c["vocabSize"]
    shapes = {"model.embed_tokens.weight": (V, C)}
    for l in range(c["nLayers"]):
        p = f"model.layers.{l}."
        shapes.update({p + "input_layernorm.weight": (C,), p + "self_attn.q_proj.weight": (C, C),
                       p + "self_attn.k_proj.weight": (KVD, C), p + "self_attn.v_proj.weight": (KVD, C),
                       p + "self_attn.o_proj.weight": (C, C), p + "post_attention_layernorm.weight": (C,),
                       p + "mlp.gate_proj.weight": (Hd, C), p + "mlp.up_proj.weight": (Hd, C),
                       p + "mlp.down_proj.weight": (C, Hd)})
    shapes.update({"model.norm.weight": (C,), "lm_head.weight": (V, C), "score.weight": (1, C), "score.bias": (1,)})
    w = {}
    for name, shape in shapes.items():
        if name.endswith("norm.weight"):
            a = 1 + 0.2 * rng.standard_normal(shape)
        else:
            a = 0.3 * rng.standard_normal(shape)
        w[name] = a.astype(np.float32)  # the values both sides use exactly
    return w


def rms_norm(x, weight, eps):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def body(w, tokens):
    c = CONFIG
    B, T = tokens.shape
    H, G, C = c["nHeads"], c["nKVHeads"], c["dModel"]
    hd = C // H
    inv_freq = 1.0 / (c["ropeBase"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    x = w["model.embed_tokens.weight"][tokens]
    for l in range(c["nLayers"]):
        p = f"model.layers.{l}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], c["normEps"])
        q = (h @ w[p + "self_attn.q_proj.weight"].T).view(B, T, H, hd).transpose(1, 2)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).view(B, T, G, hd).transpose(1, 2)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).view(B, T, G, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // G, dim=1)  # HF repeat_kv
        v = v.repeat_interleave(H // G, dim=1)
        att = torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5 + mask, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + y @ w[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], c["normEps"])
        gate = h @ w[p + "mlp.gate_proj.weight"].T
        up = h @ w[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(gate) * up) @ w[p + "mlp.down_proj.weight"].T
    return rms_norm(x, w["model.norm.weight"], c["normEps"])


def case(weights, names, head, tied, tokens, lengths, objective):
    w = {n: torch.tensor(weights[n], dtype=torch.float64, requires_grad=True) for n in names}
    xf = body(w, tokens)
    B, T = tokens.shape
    out = {}
    if head == "lm":
        logits = xf @ (w["model.embed_tokens.weight"] if tied else w["lm_head.weight"]).T
        logp = torch.log_softmax(logits, dim=-1)
        lp = torch.zeros(B, T, dtype=torch.float64)
        for b in range(B):
            for t in range(1, lengths[b]):
                lp[b, t] = logp[b, t - 1, tokens[b, t]]
        valid = torch.tensor([[t < lengths[b] for t in range(T)] for b in range(B)])
        out["logits"] = (logits * valid[..., None]).flatten().tolist()  # padding rows compared as 0
        out["logProbs"] = lp.flatten().tolist()
        loss = (lp * objective).sum()
    else:
        values = xf @ w["score.weight"][0] + w["score.bias"][0]
        valid = torch.tensor([[t < lengths[b] for t in range(T)] for b in range(B)], dtype=torch.float64)
        values = values * valid
        out["scalarOutputs"] = values.flatten().tolist()
        loss = (values * objective).sum()
    loss.backward()
    out["grads"] = {n: w[n].grad.flatten().tolist() for n in names}
    out["parameterNames"] = names
    return out


def main():
    rng = np.random.default_rng(20261123)
    weights = make_weights(rng)
    B, T = len(SEQUENCES), max(map(len, SEQUENCES))
    lengths = [len(s) for s in SEQUENCES]
    tokens = torch.tensor([s + [0] * (T - len(s)) for s in SEQUENCES])
    valid = np.array([[t < lengths[b] for t in range(T)] for b in range(B)], dtype=np.float64)
    lm_obj = rng.standard_normal((B, T)) * valid
    lm_obj[:, 0] = 0
    scalar_obj = rng.standard_normal((B, T)) * valid
    body_names = [n for n in weights if n.startswith("model.")]
    golden = {
        "config": CONFIG, "sequences": SEQUENCES,
        "weights": {n: {"shape": list(a.shape), "data": a.flatten().tolist()} for n, a in weights.items()},
        "lmObjective": lm_obj.flatten().tolist(), "scalarObjective": scalar_obj.flatten().tolist(),
        "untied": case(weights, body_names + ["lm_head.weight"], "lm", False, tokens, lengths,
                       torch.tensor(lm_obj)),
        "tied": case(weights, body_names, "lm", True, tokens, lengths, torch.tensor(lm_obj)),
        "scalar": case(weights, body_names + ["score.weight", "score.bias"], "scalar", False, tokens, lengths,
                       torch.tensor(scalar_obj)),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden_tiny.json")
    with open(path, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    print("wrote", path)


if __name__ == "__main__":
    main()
