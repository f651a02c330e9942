"""PrefLab's scoring job on the TRL engine's stack (written into an `rm_accuracy` node's resume folder by
TRLScoreRunner.swift; run as `python trl_score.py job.json`). It loads the judge's folders with transformers and writes,
in item order, one JSON line per scored response to the job's output; PrefLab computes the accuracy from them with its
own evaluation code. Nothing is trained and nothing is judged here.

The judge (job["judge"]):
  * "reward": a reward model (AutoModelForSequenceClassification, one label): {"score": its head on the last token of
    prompt + response, as TRL's reward trainer and trl_train.py's held-out accuracy read it};
  * "implicit": a DPO model and its reference (AutoModelForCausalLM): {"logp": ..., "ref_logp": ...}, each the sum
    over the response's ids of log p(id | the ids before it), added left to right in Python floats (doubles), as
    PrefLab sums its own; PrefLab takes β·(logp − ref_logp).

The items (job["items"], JSON lines) are PrefLab's:
  * with job["tokenization"] == "ids": `prompt_ids` and `response_ids` (EOS included) in the model's vocabulary,
    scored as they are (PrefLab's ids for the models it reads, exported as HF folders; a vLLM text-mode sample's own);
  * with "model" (a model PrefLab does not read): `messages` and `response` as text, formatted and tokenised with the
    model's own tokenizer exactly as TRL trains on it (trl_text.py: `pair_ids`, EOS closing plain text).
With job["sampling"] (the on-policy accuracy of D2PO Figs 5-6), an item carries a prompt only: the policy's folder
samples `samples` responses to it (one `generate` per prompt, seeded once by `seed`, at the given temperature and
top-p, stopping at the model's EOS (PrefLab's end of turn for its ids) or after `max_new_tokens`), each line adds the sampled `response_ids` (and, with the model's own
tokenizer, the decoded `text`, EOS and special tokens dropped), and the judge scores the prompt's ids plus exactly
those ids.
"""
import json
import os
import sys

import torch
import trl_text
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
# The site's GPUs hold each model, spread over them by accelerate (a 70B judge fits no single device); else the CPU.
PLACEMENT = {"device_map": "auto"} if torch.cuda.is_available() else {}


def load(cls, folder, dtype, **kwargs):
    return cls.from_pretrained(folder, dtype=dtype, **PLACEMENT, **kwargs).eval()


def fail(message):
    print(f"trl_score.py: {message}", file=sys.stderr)
    sys.exit(2)


def read_items(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def prompt_and_response_ids(item, tokenizer, model_tokenizes):
    """The ids scored: PrefLab's as given, or the model's own tokens of the formatted row (prompt ids, then the rest of
    `pair_ids`, whose prompt part is the prompt's own ids under TRL's rules)."""
    if not model_tokenizes:
        return item["prompt_ids"], item["response_ids"]
    row = trl_text.model_row({"messages": item["messages"], "chosen": item["response"]}, tokenizer)
    full, prompt = trl_text.pair_ids(row, "chosen", tokenizer), row["prompt_ids"]
    if full[:len(prompt)] != prompt:
        fail(f"the model's tokens of prompt + response do not start with the prompt's own ({len(prompt)} ids): "
             "the response cannot be told apart to score it")
    return prompt, full[len(prompt):]


def check_window(ids, window, index):
    if len(ids) > window:
        fail(f"item {index + 1} has {len(ids)} tokens, more than the model's window of {window}: not cut — not scored")


def reward_score(model, ids):
    """The reward head on the last token (the base model's last hidden state; no padding, so no pad-id guessing)."""
    hidden = model.base_model(input_ids=torch.tensor([ids], device=model.device)).last_hidden_state
    return float(model.score(hidden[:, -1]).reshape(-1)[0].item())


def sample(policy, tokenizer, prompt, sampling, model_tokenizes):
    """`samples` responses to the prompt ids: ids as generated (EOS kept when the model stopped), and the text. The
    stop is the model's EOS, or PrefLab's end of turn (`eos_token_id`) for its own ids; top-k is off (full
    distribution, as PrefLab samples)."""
    eos = tokenizer.eos_token_id if model_tokenizes else sampling["eos_token_id"]
    out = policy.generate(input_ids=torch.tensor([prompt], device=policy.device), do_sample=True,
                          temperature=sampling["temperature"], top_p=sampling["top_p"], top_k=0,
                          max_new_tokens=sampling["max_new_tokens"], num_return_sequences=sampling["samples"],
                          eos_token_id=eos, pad_token_id=eos)
    responses = []
    for row in out[:, len(prompt):].tolist():
        ids = row[:row.index(eos) + 1] if eos in row else row
        line = {"response_ids": ids}
        if model_tokenizes:
            line["text"] = tokenizer.decode(ids[:-1] if ids[-1:] == [eos] else ids, skip_special_tokens=True)
        responses.append(line)
    return responses


def scored(job, items, tokenizer):
    """(prompt ids, response ids, extra fields) of every response to score, sampling first where the job says so."""
    model_tokenizes = job["tokenization"] == "model"
    sampling = job.get("sampling")
    if not sampling:
        return [(*prompt_and_response_ids(item, tokenizer, model_tokenizes), {}) for item in items]
    policy = load(AutoModelForCausalLM, job["policy"], DTYPES[job["dtype"]])
    torch.manual_seed(sampling["seed"])
    out = []
    for item in items:
        prompt = trl_text.prompt_ids(trl_text.model_prompt(item["messages"], tokenizer), tokenizer) \
            if model_tokenizes else item["prompt_ids"]
        for line in sample(policy, tokenizer, prompt, sampling, model_tokenizes):
            out.append((prompt, line["response_ids"], line))
    del policy
    return out


def main(job_path):
    with open(job_path) as f:
        job = json.load(f)
    dtype = DTYPES[job["dtype"]]
    model_tokenizes = job["tokenization"] == "model"
    tokenizer = AutoTokenizer.from_pretrained(job["model"]) if model_tokenizes else None
    items = read_items(job["items"])
    with torch.no_grad():
        rows = scored(job, items, tokenizer)
        for i, (prompt, response, _) in enumerate(rows):
            check_window(prompt + response, job["max_length"], i)
        if job["judge"] == "reward":
            model = load(AutoModelForSequenceClassification, job["model"], dtype, num_labels=1)
            lines = [dict(extra, score=reward_score(model, p + r)) for p, r, extra in rows]
        else:
            model = load(AutoModelForCausalLM, job["model"], dtype)
            lines = [dict(extra, logp=trl_text.summed_logprob(model, p + r, len(r))) for p, r, extra in rows]
            reference = load(AutoModelForCausalLM, job["reference"], dtype)
            for line, (p, r, _) in zip(lines, rows):
                line["ref_logp"] = trl_text.summed_logprob(reference, p + r, len(r))
    partial = job["output"] + ".partial"
    with open(partial, "w") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")
    os.replace(partial, job["output"])  # whole or absent: a rerun scores again


if __name__ == "__main__":
    if len(sys.argv) != 2:
        fail("usage: trl_score.py job.json")
    main(sys.argv[1])
