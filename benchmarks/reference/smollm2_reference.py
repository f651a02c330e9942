#!/usr/bin/env python3
"""Independent numpy reference for SmolLM2-135M-Instruct (Q4_1 GGUF): writes the golden values of
Tests/PretrainedTests/Golden/smollm2.json that the Swift end-to-end test checks.

Independent of the Swift code on purpose:
  * its own GGUF reader and dequantisers (Q8_0, Q4_1, Q4_0, F16, F32), cross-checked against the
    `gguf` package's reader/dequantiser when that package is installed;
  * the forward pass runs in float64 on the GGUF weights AS STORED (llama.cpp row order) with
    llama.cpp's adjacent-pair RoPE, so the Swift side's Q/K un-permutation plus rotate-half RoPE is
    checked against a different but equivalent formulation;
  * token ids come from HF `tokenizers` (BPE over the GGUF's own vocab and merges, pre-tokenizer
    Digits(individual) + ByteLevel, as in SmolLM2's tokenizer.json).

Usage: pip install numpy tokenizers [gguf]; python3 benchmarks/reference/smollm2_reference.py
       [models/SmolLM2-135M-Instruct.Q4_1.gguf] [Tests/PretrainedTests/Golden/smollm2.json]
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
GOLDEN = os.path.join(ROOT, "Tests", "PretrainedTests", "Golden", "smollm2.json")
PROMPT = "The capital of France is Paris. The capital of Italy is"
GREEDY_STEPS = 6
TOKENIZER_CASES = [
    PROMPT,
    "Hello, world! 12345 + 3.14",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "naïve café — 東京タワー 😀",
    "  \n\n  indented\tcode\n",
    "I'm sure they'll've DONE it's",
    "def f(x):\n    return x**2  # square",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
    # Unicode stress: combining marks, NBSP, line separator, curly apostrophe, ZWJ emoji, flags, scripts.
    "e\u0301clair \u00a0nbsp\u2028line Ⅳ x² ’s ''S नमस्ते สวัสดี مرحبا ١٢٣ 👩\u200d👩\u200d👧 🇫🇷\r\n\t\t end",
]
GSM8K = [os.path.join(ROOT, "..", "shared", "data", "gsm8k", "test.jsonl"), "/work/shared/data/gsm8k/test.jsonl"]
GSM8K_ROWS = 40  # question + "\n" + answer of the first rows: a longer, realistic tokenizer case
# (HF name, GGUF name, row in HF order): the first 8 values of these rows go into the golden file.
TENSOR_SAMPLES = [
    ("model.embed_tokens.weight", "token_embd.weight", 504),
    ("model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight", 1),
    ("model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight", 100),
    ("model.layers.3.self_attn.k_proj.weight", "blk.3.attn_k.weight", 33),
    ("model.layers.29.mlp.down_proj.weight", "blk.29.ffn_down.weight", 5),
    ("model.layers.12.input_layernorm.weight", "blk.12.attn_norm.weight", None),
]

SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class Gguf:
    """Minimal GGUF v2/v3 reader: metadata, tensor directory, dequantised tensors in GGUF dims."""

    def __init__(self, path):
        self.buf = open(path, "rb").read()
        self.pos = 0
        assert self.buf[:4] == b"GGUF", "not a GGUF file"
        self.pos = 4
        version, n_tensors, n_kv = self.u("<I"), self.u("<Q"), self.u("<Q")
        assert version in (2, 3)
        self.meta = {}
        for _ in range(n_kv):
            key = self.s()
            self.meta[key] = self.value(self.u("<I"))
        self.tensors = {}
        for _ in range(n_tensors):
            name = self.s()
            dims = [self.u("<Q") for _ in range(self.u("<I"))]
            ttype, offset = self.u("<I"), self.u("<Q")
            self.tensors[name] = (dims, ttype, offset)
        align = self.meta.get("general.alignment", 32)
        self.data = (self.pos + align - 1) // align * align

    def u(self, fmt):
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def s(self):
        n = self.u("<Q")
        v = self.buf[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return v

    def value(self, t):
        if t == 8:
            return self.s()
        if t == 9:
            et, n = self.u("<I"), self.u("<Q")
            return [self.value(et) for _ in range(n)]
        return self.u(SCALAR[t])

    def tensor(self, name):
        """Float64 array shaped [dims[-1], ..., dims[0]] (row-major, rows of dims[0] values)."""
        dims, ttype, offset = self.tensors[name]
        n = int(np.prod(dims))
        start = self.data + offset
        if ttype == 0:
            x = np.frombuffer(self.buf, np.float32, n, start).astype(np.float64)
        elif ttype == 1:
            x = np.frombuffer(self.buf, np.float16, n, start).astype(np.float64)
        elif ttype in (2, 3, 8):
            bsize = {2: 18, 3: 20, 8: 34}[ttype]
            blocks = np.frombuffer(self.buf, np.uint8, n // 32 * bsize, start).reshape(-1, bsize)
            d = blocks[:, 0:2].copy().view(np.float16).astype(np.float32)
            if ttype == 8:
                q = blocks[:, 2:].copy().view(np.int8).astype(np.float32)
                x = q * d
            else:
                qs = blocks[:, 4:20] if ttype == 3 else blocks[:, 2:18]
                q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)
                if ttype == 3:
                    m = blocks[:, 2:4].copy().view(np.float16).astype(np.float32)
                    x = q * d + m
                else:
                    x = (q - 8) * d
            x = x.reshape(-1).astype(np.float64)  # float32 arithmetic as in ggml, then widened
        else:
            raise ValueError(f"{name}: ggml type {ttype} not handled")
        return x.reshape(list(reversed(dims)))


def cross_check_with_gguf_package(path, model):
    try:
        import gguf
    except ImportError:
        print("gguf package not installed: dequantisation cross-check skipped")
        return
    reader = gguf.GGUFReader(path)
    for t in reader.tensors:
        if t.name not in ("token_embd.weight", "blk.0.attn_q.weight", "blk.7.ffn_down.weight", "output_norm.weight"):
            continue
        theirs = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64).reshape(model.tensor(t.name).shape)
        assert np.array_equal(theirs, model.tensor(t.name)), t.name
    print("dequantisation matches the gguf package on 4 tensors")


def hf_row_order(w, heads):
    """Undoes convert_hf_to_gguf's Q/K permutation reshape(heads, 2, hd/2, in).swapaxes(1, 2)."""
    rows, cols = w.shape
    return w.reshape(heads, rows // heads // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


def tensor_samples(g):
    heads = {"attn_q": g.meta["llama.attention.head_count"], "attn_k": g.meta["llama.attention.head_count_kv"]}
    out = []
    for hf, name, row in TENSOR_SAMPLES:
        w = g.tensor(name)
        kind = name.split(".")[-2]
        if kind in heads:
            w = hf_row_order(w, heads[kind])
        values = w[:8] if row is None else w[row, :8]
        out.append({"name": hf, "row": row, "first8": [float(v) for v in values]})
    return out


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope_adjacent_pairs(x, base):
    """llama.cpp RoPE (mode 0): rotates (x[2i], x[2i+1]) by pos * base^(-2i/hd). x: (T, H, hd)."""
    T, _, hd = x.shape
    inv = base ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)  # (hd/2)
    ang = np.arange(T, dtype=np.float64)[:, None] * inv[None, :]  # (T, hd/2)
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * cos - b * sin
    out[..., 1::2] = a * sin + b * cos
    return out


class Model:
    def __init__(self, g):
        m = g.meta
        self.L = m["llama.block_count"]
        self.H = m["llama.attention.head_count"]
        self.KV = m["llama.attention.head_count_kv"]
        self.C = m["llama.embedding_length"]
        self.hd = self.C // self.H
        self.base = float(m["llama.rope.freq_base"])
        self.eps = float(m["llama.attention.layer_norm_rms_epsilon"])
        self.emb = g.tensor("token_embd.weight")  # (V, C)
        self.out = g.tensor("output.weight") if "output.weight" in g.tensors else self.emb
        self.norm = g.tensor("output_norm.weight")
        self.blocks = [{k: g.tensor(f"blk.{l}.{k}.weight") for k in
                        ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")}
                       for l in range(self.L)]

    def logits(self, ids):
        T = len(ids)
        x = self.emb[ids]  # (T, C)
        mask = np.triu(np.full((T, T), -np.inf), 1)
        rep = self.H // self.KV
        for p in self.blocks:
            h = rms_norm(x, p["attn_norm"], self.eps)
            q = rope_adjacent_pairs((h @ p["attn_q"].T).reshape(T, self.H, self.hd), self.base)
            k = rope_adjacent_pairs((h @ p["attn_k"].T).reshape(T, self.KV, self.hd), self.base)
            v = (h @ p["attn_v"].T).reshape(T, self.KV, self.hd)
            y = np.empty((T, self.H, self.hd))
            for head in range(self.H):
                kv = head // rep  # grouped-query attention: consecutive query heads share a KV head
                s = q[:, head] @ k[:, kv].T / np.sqrt(self.hd) + mask
                s = np.exp(s - s.max(axis=1, keepdims=True))
                y[:, head] = (s / s.sum(axis=1, keepdims=True)) @ v[:, kv]
            x = x + y.reshape(T, self.C) @ p["attn_output"].T
            h = rms_norm(x, p["ffn_norm"], self.eps)
            g, u = h @ p["ffn_gate"].T, h @ p["ffn_up"].T
            x = x + (g / (1 + np.exp(-g)) * u) @ p["ffn_down"].T
        return rms_norm(x, self.norm, self.eps) @ self.out.T  # (T, V)


def hf_tokenizer(meta):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, AddedToken
    tokens, types = meta["tokenizer.ggml.tokens"], meta["tokenizer.ggml.token_type"]
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = [tuple(m.split(" ", 1)) for m in meta["tokenizer.ggml.merges"]]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t, ty in zip(tokens, types) if ty in (3, 4)])
    return tok


def compact_json(golden):
    """One top-level key per line, one tokenizer case or tensor sample per line: diffable, not bloated."""
    lines = []
    for key, value in golden.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            items = ",\n  ".join(json.dumps(v, ensure_ascii=False) for v in value)
            lines.append(f' {json.dumps(key)}: [\n  {items}\n ]')
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main():
    model_path = sys.argv[1] if len(sys.argv) > 1 else MODEL
    golden_path = sys.argv[2] if len(sys.argv) > 2 else GOLDEN
    sha = hashlib.sha256(open(model_path, "rb").read()).hexdigest()
    g = Gguf(model_path)
    cross_check_with_gguf_package(model_path, g)
    tok = hf_tokenizer(g.meta)
    texts = list(TOKENIZER_CASES)
    gsm = next((p for p in GSM8K if os.path.exists(p)), None)
    if gsm is None:
        raise SystemExit("shared/data/gsm8k/test.jsonl not found (looked in " + ", ".join(GSM8K) + ")")
    rows = [json.loads(line) for line in open(gsm, encoding="utf-8").readlines()[:GSM8K_ROWS]]
    texts += [r["question"] + "\n" + r["answer"] for r in rows]
    cases = [{"text": t, "ids": tok.encode(t).ids} for t in texts]
    for c in cases:
        assert tok.decode(c["ids"], skip_special_tokens=False) == c["text"], c
    model = Model(g)
    ids = cases[0]["ids"]
    logits = model.logits(ids)
    logp = logits - logits.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    token_logprobs = [float(logp[t - 1, ids[t]]) for t in range(1, len(ids))]
    ppl = float(np.exp(-np.mean(token_logprobs)))
    seq = list(ids)
    for _ in range(GREEDY_STEPS):
        seq.append(int(np.argmax(model.logits(seq)[-1])))
    greedy = seq[len(ids):]
    golden = {
        "model_file": os.path.basename(model_path),
        "model_sha256": sha,
        "script": "benchmarks/reference/smollm2_reference.py",
        "prompt": PROMPT,
        "prompt_ids": ids,
        "token_logprobs": token_logprobs,
        "perplexity": ppl,
        "greedy_ids": greedy,
        "greedy_text": tok.decode(greedy, skip_special_tokens=False),
        "tokenizer_cases": cases,
        "tensor_samples": tensor_samples(g),
    }
    os.makedirs(os.path.dirname(golden_path), exist_ok=True)
    with open(golden_path, "w", encoding="utf-8") as f:
        f.write(compact_json(golden))
    print(f"prompt ids {ids}\nperplexity {ppl:.6f}\ngreedy {greedy} -> {golden['greedy_text']!r}\nwrote {golden_path}")


if __name__ == "__main__":
    main()
