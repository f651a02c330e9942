"""PrefLab's vLLM bridge (written into a node's resume folder by VLLMRunner.swift; run as `python vllm_generate.py job.json`).

Generates one completion per request of the job's requests file with vLLM's offline engine and writes them, in
request order, to its output file as {"token_ids": [...], "finish_reason": "stop" | "length"}. The prompts are
PrefLab's own token ids and every sampling setting comes from the request (temperature, top-p, max tokens, the
end-of-turn stop token, a seed per request); the model folder's generation_config.json is not applied
(`generation_config="vllm"`), so nothing but the request decides how a sample is drawn. PrefLab decodes and
scores the ids itself. A scoring request (`score_tokens`: k) also gets "prompt_logprob": the sum, in request order
of positions, of log p(id | ids before it) over the prompt's last k ids, from vLLM's `prompt_logprobs` (raw
log-softmax of the model's logits; the prompt's own id is always among the returned ones).
"""
import json
import os
import sys


def main(job_path):
    with open(job_path) as f:
        job = json.load(f)
    from vllm import LLM, SamplingParams

    with open(job["requests"]) as f:
        requests = [json.loads(line) for line in f if line.strip()]
    llm = LLM(model=job["model"], dtype=job["dtype"], tensor_parallel_size=job["tensor_parallel_size"],
              generation_config="vllm", skip_tokenizer_init=False)
    params = [SamplingParams(n=1, temperature=r["temperature"], top_p=r["top_p"], max_tokens=r["max_tokens"],
                             seed=r["seed"], stop_token_ids=r["stop_token_ids"], ignore_eos=False,
                             skip_special_tokens=False, prompt_logprobs=0 if r.get("score_tokens") else None)
              for r in requests]
    prompts = [{"prompt_token_ids": r["prompt_token_ids"]} for r in requests]
    outputs = llm.generate(prompts, sampling_params=params)
    partial = job["output"] + ".partial"
    with open(partial, "w") as f:
        for request, out in zip(requests, outputs):
            sample = out.outputs[0]
            line = {"token_ids": list(sample.token_ids), "finish_reason": sample.finish_reason}
            if request.get("score_tokens"):
                line["prompt_logprob"] = scored_logprob(request, out.prompt_logprobs)
            f.write(json.dumps(line) + "\n")
    os.replace(partial, job["output"])


def scored_logprob(request, prompt_logprobs):
    """Σ log p over the last `score_tokens` prompt ids, left to right from 0.0 (as PrefLab sums its own in Double)."""
    ids = request["prompt_token_ids"]
    total = 0.0
    for i in range(len(ids) - request["score_tokens"], len(ids)):
        total += prompt_logprobs[i][ids[i]].logprob
    return total


if __name__ == "__main__":
    main(sys.argv[1])
