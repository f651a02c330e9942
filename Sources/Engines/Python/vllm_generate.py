"""PrefLab's vLLM bridge (written into a node's resume folder by VLLMRunner.swift; run as `python vllm_generate.py job.json`).

Generates one completion per request of the job's requests file with vLLM's offline engine and writes them, in
request order, to its output file as {"token_ids": [...], "finish_reason": "stop" | "length"}. Every sampling setting
comes from the request (temperature, top-p, max tokens, the stop tokens, a seed per request); the model folder's
generation_config.json is not applied (`generation_config="vllm"`), so nothing but the request decides how a sample
is drawn. A scoring request (`score_tokens`: k) also gets "prompt_logprob": the sum, in request order of positions,
of log p(id | ids before it) over the prompt's last k ids, from vLLM's `prompt_logprobs` (raw log-softmax of the
model's logits; the prompt's own id is always among the returned ones).

Two kinds of prompt:
  * `prompt_token_ids`: PrefLab's own ids, fitted to the window by PrefLab, with PrefLab's end-of-turn as the stop;
    PrefLab decodes and scores the ids itself.
  * `messages` (text mode, a model PrefLab does not read: the job's `max_model_len` is its window): the prompt is
    formatted and tokenised with the model's own tokenizer as TRL trains it (trl_text.py), the batch fitted to the
    window as PrefLab fits its own (`fitted`), the model's EOS the stop; the line adds the response's "text" (EOS
    dropped, special tokens skipped) and the fitted "prompt_token_ids", and "token_ids" keeps the EOS a finished
    sample ended with, as PrefLab keeps its own. With a "response" too, a text scoring request (Contrastive
    Distillation's scorers): the messages and response tokenised by trl_text.py's `response_logprob_ids` in this
    model's tokenizer, fitted to its window by that rule, and the line's "mean_logprob" is the response tokens' mean
    log-probability from vLLM's `prompt_logprobs` (`trl_text.mean_logprob`); nothing sampled is read.
"""
import json
import os
import sys

import trl_text


def main(job_path):
    with open(job_path) as f:
        job = json.load(f)
    from vllm import LLM, SamplingParams

    requests = read_requests(job)
    llm = LLM(model=job["model"], dtype=job["dtype"], tensor_parallel_size=job["tensor_parallel_size"],
              generation_config="vllm", skip_tokenizer_init=False)
    tokenizer = llm.get_tokenizer()
    prompts, max_tokens, stops = prepare(requests, tokenizer, job)
    params = [SamplingParams(n=1, temperature=r["temperature"], top_p=r["top_p"], max_tokens=m,
                             seed=r["seed"], stop_token_ids=s, ignore_eos=False,
                             skip_special_tokens=False, prompt_logprobs=0 if scoring(r) else None)
              for r, m, s in zip(requests, max_tokens, stops)]
    outputs = llm.generate([{"prompt_token_ids": ids} for ids in prompts], sampling_params=params)
    lines = []
    for request, ids, out in zip(requests, prompts, outputs):
        sample, logprobs = out.outputs[0], out.prompt_logprobs
        lines.append(completion(request, ids, list(sample.token_ids), sample.finish_reason, tokenizer,
                                lambda i, t: logprobs[i][t].logprob))
    write_completions(job, lines)


def read_requests(job):
    with open(job["requests"]) as f:
        return [json.loads(line) for line in f if line.strip()]


def write_completions(job, lines):
    """All lines, then renamed into place: a completions file exists only whole (a rerun relaunches what has none)."""
    partial = job["output"] + ".partial"
    with open(partial, "w") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")
    os.replace(partial, job["output"])


def response_budget(window, longest_prompt, max_new_tokens):
    """Response tokens beside prompts of at most `longest_prompt` tokens: `max_new_tokens` when that fits, never less
    than half the window. Policy.responseBudget (Sources/Preference/Policy/Policy.swift), stated once on this side;
    VLLMTextModeTests checks the two agree."""
    return max(1, min(max_new_tokens, max(window - longest_prompt, window // 2), window - 1))


def fitted(prompts, window, max_new_tokens):
    """Policy.fitted: the batch's budget, and each prompt cut on the left to the window minus it."""
    budget = response_budget(window, max((len(p) for p in prompts), default=0), max_new_tokens)
    keep = window - budget
    return [p[len(p) - min(len(p), keep):] for p in prompts], budget


def scoring(request):
    """Whether the request asks for log-probabilities (of PrefLab's ids, or of a text response) rather than a sample."""
    return request.get("score_tokens") is not None or "response" in request


def prepare(requests, tokenizer, job):
    """Each request's prompt ids, max tokens and stop ids: as given for PrefLab's ids; for text, the model's own
    tokens of its formatted messages, fitted together to the job's window (one batch is one draw of PrefLab's); a text
    scoring request becomes the ids of its messages and response and the count of scored ids at their end."""
    for r in requests:
        if "response" in r:
            ids, r["score_tokens"] = trl_text.response_logprob_ids(r["messages"], r["response"], tokenizer, job["max_model_len"])
            r["prompt_token_ids"] = ids
    text = [i for i, r in enumerate(requests) if "messages" in r and "response" not in r]
    prompts = [r.get("prompt_token_ids") for r in requests]
    max_tokens = [r["max_tokens"] for r in requests]
    stops = [r["stop_token_ids"] for r in requests]
    if text:
        if len({requests[i]["max_tokens"] for i in text}) != 1:
            raise SystemExit("vllm_generate.py: the text requests of one batch must share max_tokens (one draw)")
        ids = [trl_text.prompt_ids(trl_text.model_prompt(requests[i]["messages"], tokenizer), tokenizer) for i in text]
        ids, budget = fitted(ids, job["max_model_len"], requests[text[0]]["max_tokens"])
        for i, p in zip(text, ids):
            prompts[i], max_tokens[i], stops[i] = p, budget, [tokenizer.eos_token_id]
    return prompts, max_tokens, stops


def completion(request, prompt_ids, token_ids, finish_reason, tokenizer, logprob):
    """One output line; `logprob(i, id)` is log p(id at position i | the ids before it) for a scoring request."""
    line = {"token_ids": token_ids, "finish_reason": finish_reason}
    if scoring(request):
        line["prompt_logprob"] = scored_logprob(request, logprob)
    if "response" in request:
        line["mean_logprob"] = trl_text.mean_logprob(line["prompt_logprob"], request["score_tokens"])
    elif "messages" in request:
        eos = tokenizer.eos_token_id
        ended = finish_reason == "stop"
        if ended and token_ids[-1:] != [eos]:
            token_ids = token_ids + [eos]
        line["token_ids"] = token_ids
        line["text"] = tokenizer.decode(token_ids[:-1] if ended else token_ids, skip_special_tokens=True)
        line["prompt_token_ids"] = list(prompt_ids)
    return line


def scored_logprob(request, logprob):
    """Σ log p over the last `score_tokens` prompt ids, left to right from 0.0 (as PrefLab sums its own in Double)."""
    ids = request["prompt_token_ids"]
    total = 0.0
    for i in range(len(ids) - request["score_tokens"], len(ids)):
        total += logprob(i, ids[i])
    return total


if __name__ == "__main__":
    main(sys.argv[1])
