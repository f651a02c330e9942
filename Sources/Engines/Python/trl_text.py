# Rows of a node whose model PrefLab does not read (job["tokenization"] == "model": an OPT model the site names, or a
# model TRL trained from one): PrefLab sends the text only (each prompt's messages, the responses), and the rows are
# put in TRL's own formats so that TRL tokenises them with the model's own tokenizer, as it would any dataset:
#   * a tokenizer with a chat template gets conversational rows (prompt = the messages, responses as assistant
#     turns), which TRL renders with that template;
#   * a tokenizer without one (a base LM such as OPT) gets plain text: the messages' contents, one per line, and a
#     newline before the response; TRL tokenises it with the tokenizer's special tokens (OPT's BOS) and appends EOS.
# The online loops (opo, d2po) sample from the prompt ids these rules give (`prompt_ids`), as TRL's own online
# trainers tokenise their prompts; so does vLLM's text mode (vllm_generate.py) for the sampling stages.


def conversational(tokenizer):
    """Whether the model's tokenizer renders chats itself."""
    return bool(getattr(tokenizer, "chat_template", None))


def plain_prompt(messages):
    """The prompt of a model without a chat template: the turns' text, one per line, ending where the response starts."""
    return "\n".join(m["content"] for m in messages) + "\n"


def assistant(text):
    return [{"role": "assistant", "content": text}]


def model_prompt(messages, tokenizer):
    """The prompt in this tokenizer's format: the messages (rendered by its chat template), else plain text."""
    return messages if conversational(tokenizer) else plain_prompt(messages)


def model_row(row, tokenizer):
    """`row` (PrefLab's messages and responses) in TRL's standard format for this tokenizer."""
    chat = conversational(tokenizer)
    out = {"prompt": model_prompt(row["messages"], tokenizer)}
    for key in ("chosen", "rejected", "completion"):
        if row.get(key) is not None:
            out[key] = assistant(row[key]) if chat else row[key]
    if "prompt_json" in row:
        out["prompt_json"] = row["prompt_json"]
    out["prompt_ids"] = prompt_ids(out["prompt"], tokenizer)
    return out


def prompt_ids(prompt, tokenizer):
    """The prompt's ids as TRL tokenises a prompt: the chat template with the generation prompt, else the text with the
    tokenizer's special tokens."""
    if isinstance(prompt, list):
        return list(tokenizer.apply_chat_template(prompt, tokenize=True, add_generation_prompt=True, return_dict=True)["input_ids"])
    return list(tokenizer(prompt)["input_ids"])


def pair_ids(row, side, tokenizer):
    """Prompt + response (`chosen`/`rejected`) as TRL's reward trainer tokenises it (EOS closing plain text)."""
    if isinstance(row["prompt"], list):
        return list(tokenizer.apply_chat_template(row["prompt"] + row[side], tokenize=True, return_dict=True)["input_ids"])
    return list(tokenizer(row["prompt"] + row[side] + tokenizer.eos_token)["input_ids"])


def check_window(rows, tokenizer, job):
    """Refuses what TRL would cut or drop silently: a pair or prompt (plus an online run's sampled tokens) longer than
    the model's window."""
    limit, new = job["max_length"], (job.get("online") or {}).get("max_new_tokens", 0)
    for i, row in enumerate(rows):
        sides = [s for s in ("chosen", "rejected") if s in row]
        longest = max([len(pair_ids(row, s, tokenizer)) for s in sides] or [len(row["prompt_ids"]) + new])
        if longest > limit:
            raise SystemExit(f"trl_text.py: row {i + 1} has {longest} tokens under the model's own tokenizer, more than its "
                             f"window of {limit}: TRL would cut or drop it — not delegated; shorten the data or max_new_tokens")


def response_logprob_ids(messages, response, tokenizer, window):
    """Contrastive Distillation's scored text, PrefLab's rule (LlamaSequenceScorer with CodecScorers, Sources/Preference/
    Tasks) stated once on this side: the prompt as this model is prompted (`prompt_ids` of `model_prompt`), the
    response's own tokens after it (no special tokens, no EOS), the last `window` ids kept (the prompt cut on the left).
    Returns (ids, k): log p of each of the last k ids given those before it is scored (position 0 never is; k = 0 for an
    empty response)."""
    prompt = prompt_ids(model_prompt(messages, tokenizer), tokenizer)
    tokens = list(tokenizer(response, add_special_tokens=False)["input_ids"]) if response else []
    ids = (prompt + tokens)[-window:]
    return ids, min(len(tokens), len(ids) - 1)


def summed_logprob(model, ids, k):
    """Σ of log p(id | the ids before it) over the last k of `ids` under a transformers causal LM: one forward, a
    log-softmax in doubles, the terms added left to right in a Python float — PrefLab's order of summation, so a scorer
    here and PrefLab's own agree to float noise. Shared by the scoring job (trl_score.py) and TRL's online labeller
    (trl_online.py); torch is imported here only, as vLLM's text mode uses this file without a model."""
    import torch
    tokens = torch.tensor(ids, device=model.device)
    logps = torch.log_softmax(model(tokens[None]).logits[0].double(), dim=-1)
    scored = torch.arange(len(ids) - k, len(ids), device=model.device)
    total = 0.0
    for lp in logps[scored - 1, tokens[scored]].tolist():
        total += lp
    return total


def mean_logprob(total, k):
    """The mean log-likelihood of k scored tokens whose log-probabilities sum to `total` (0 for none, as PrefLab)."""
    return total / k if k else 0.0
