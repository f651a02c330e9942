#!/usr/bin/env python3
"""Reference checks of PrefLab's Hugging Face model folders with `transformers` itself.

The Swift tests (Tests/StagesTests/HFRoundTripTests.swift) call this with the engines' Python
(PREFLAB_ENGINES_PYTHON, default .venv-engines/bin/python, made by scripts/setup-engines.sh):

  hf_reference.py check REQUEST.json OUT.json
      REQUEST is {"folders": [{"dir", "dialogues", "sequences"}]}. Each folder is loaded with a plain
      AutoModelForCausalLM / AutoModelForSequenceClassification.from_pretrained (whichever config.json's
      `architectures` names; a folder without config.json is a tokenizer only) and
      AutoTokenizer.from_pretrained (a folder with "make": {dtype, max_shard_size, tied} is first made as
      make-fixture makes it; without "sequences", the rendered dialogues closed by EOS are scored); OUT gets, per folder, the loading report, each dialogue rendered by
      tokenizer.apply_chat_template, each sequence's per-token log-probs (causal LM) or score (reward
      model; also batched with right padding).

  hf_reference.py make-fixture OUT [--dtype bfloat16|float16|float32] [--max-shard-size 100KB] [--tied]
      Makes a tiny random LlamaForCausalLM (hidden 64, 2 layers) and a ~300-token byte-level BPE
      trained with `tokenizers`, with a ChatML template, saved by save_pretrained; beside it
      reference.json: the dialogues below rendered by transformers and their response log-probs.
      Tests/PreferenceTests/Fixtures/hf-tiny was made by
      `hf_reference.py make-fixture Tests/PreferenceTests/Fixtures/hf-tiny --dtype bfloat16 --max-shard-size 100KB`.
"""
import argparse
import json
import sys

CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")

# One plain turn, a system turn, and a multi-turn dialogue with an earlier answer.
DIALOGUES = [
    {"messages": [{"role": "user", "content": "Hello there, how are you today?"}], "response": "I am fine, thank you."},
    {"messages": [{"role": "system", "content": "You answer in few words."},
                  {"role": "user", "content": "Name three colours."}], "response": "Red, green and blue."},
    {"messages": [{"role": "user", "content": "What is 12 + 30?"}, {"role": "assistant", "content": "It is 42."},
                  {"role": "user", "content": "And twice that?"}], "response": "Twice 42 is 84."},
]


def ids_of(encoded):
    """apply_chat_template returns a list in transformers 4.x and may return a BatchEncoding in 5."""
    if hasattr(encoded, "keys") and "input_ids" in encoded:
        encoded = encoded["input_ids"]
    return [int(i) for i in encoded]


def load(directory):
    import os
    import torch
    import transformers
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(directory)
    if not os.path.exists(os.path.join(directory, "config.json")):
        return None, None, None, tokenizer
    config = AutoConfig.from_pretrained(directory)
    architecture = (config.architectures or ["LlamaForCausalLM"])[0]
    cls = AutoModelForSequenceClassification if architecture.endswith("ForSequenceClassification") else AutoModelForCausalLM
    dtype_key = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
    model, info = cls.from_pretrained(directory, output_loading_info=True, **{dtype_key: torch.float32})
    model.eval()
    return architecture, model, {k: sorted(map(str, v)) for k, v in info.items()}, tokenizer


def render(tokenizer, dialogue):
    prompt = ids_of(tokenizer.apply_chat_template(dialogue["messages"], add_generation_prompt=True, tokenize=True))
    response = tokenizer(dialogue["response"], add_special_tokens=False)["input_ids"]
    return {"prompt": prompt, "response": [int(i) for i in response]}


def token_logprobs(model, sequences):
    import torch
    out = []
    with torch.no_grad():
        for s in sequences:
            ids = torch.tensor([s["prompt"] + s["response"]])
            logp = torch.log_softmax(model(ids).logits[0].float(), dim=-1)
            start = len(s["prompt"])
            out.append([float(logp[t - 1, ids[0, t]]) for t in range(start, ids.shape[1])])
    return out


def scores(model, sequences, pad_id):
    import torch
    single = []
    with torch.no_grad():
        for s in sequences:
            single.append(float(model(torch.tensor([s["prompt"] + s["response"]])).logits[0, 0]))
        batched = None
        if pad_id is not None:
            rows = [s["prompt"] + s["response"] for s in sequences]
            width = max(map(len, rows))
            ids = torch.tensor([r + [pad_id] * (width - len(r)) for r in rows])
            mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
            batched = [float(v) for v in model(ids, attention_mask=mask).logits[:, 0]]
    return single, batched


def check_folder(request):
    if "make" in request:
        make_fixture(request["dir"], **request["make"])
    architecture, model, info, tokenizer = load(request["dir"])
    out = {"architecture": architecture, "loading": info, "eos_token": tokenizer.eos_token,
           "chat": [render(tokenizer, d) for d in request.get("dialogues", [])]}
    if model is None:
        return out
    generation = getattr(model, "generation_config", None)  # sequence classifiers have none
    out["generation_eos"] = generation.eos_token_id if generation is not None else None
    # Without given sequences, the rendered dialogues closed by EOS are scored.
    sequences = request.get("sequences") or [{"prompt": c["prompt"], "response": c["response"] + [tokenizer.eos_token_id]}
                                              for c in out["chat"]]
    if architecture.endswith("ForSequenceClassification"):
        out["scores"], out["scores_batched"] = scores(model, sequences, model.config.pad_token_id)
    else:
        out["token_logprobs"] = token_logprobs(model, sequences)
    return out


def cmd_check(args):
    with open(args.request) as f:
        request = json.load(f)
    out = {"folders": [check_folder(r) for r in request["folders"]]}
    with open(args.out, "w") as f:
        json.dump(out, f)


def corpus():
    """Deterministic English-like text for the tokenizer: the dialogues plus combinations of phrases."""
    words = ["the", "a", "colour", "red", "green", "blue", "answer", "question", "number", "twice", "is", "and",
             "hello", "there", "how", "are", "you", "today", "fine", "thank", "name", "three", "what", "it"]
    lines = [m["content"] for d in DIALOGUES for m in d["messages"]] + [d["response"] for d in DIALOGUES]
    for i in range(400):
        lines.append(" ".join(words[(i * k + k * k) % len(words)] for k in range(1, 9)) + f" {i}.")
    return lines


def cmd_make_fixture(args):
    make_fixture(args.out, args.dtype, args.max_shard_size, args.tied)


def make_fixture(out, dtype="bfloat16", max_shard_size="100GB", tied=False):
    import os
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(corpus(), vocab_size=300, min_frequency=2, show_progress=False,
                            special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>"])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, eos_token="<|im_end|>", pad_token="<|pad|>")
    tokenizer.chat_template = CHATML
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128, rope_theta=10000.0,
                         rms_norm_eps=1e-5, tie_word_embeddings=tied, initializer_range=0.1,
                         bos_token_id=None, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(getattr(torch, dtype))
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, max_shard_size=max_shard_size)
    tokenizer.save_pretrained(out)
    # The reference comes from the saved folder, read back as any user would.
    _, reloaded, info, tok = load(out)
    chat = [render(tok, d) for d in DIALOGUES]
    sequences = [{"prompt": c["prompt"], "response": c["response"] + [tok.eos_token_id]} for c in chat]
    made_by = f"hf_reference.py make-fixture OUT --dtype {dtype} --max-shard-size {max_shard_size}" + (" --tied" if tied else "")
    reference = {"made_by": made_by, "loading": info, "dialogues": DIALOGUES,
                 "chat": chat, "token_logprobs": token_logprobs(reloaded, sequences)}
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(reference, f, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check")
    check.add_argument("request")
    check.add_argument("out")
    check.set_defaults(run=cmd_check)
    fixture = sub.add_parser("make-fixture")
    fixture.add_argument("out")
    fixture.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    fixture.add_argument("--max-shard-size", default="100GB")
    fixture.add_argument("--tied", action="store_true")
    fixture.set_defaults(run=cmd_make_fixture)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
