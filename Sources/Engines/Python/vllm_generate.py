"""PrefLab's vLLM bridge (written into a node's resume folder by VLLMRunner.swift; run as `python vllm_generate.py job.json`).

Generates one completion per request of `requests.jsonl` with vLLM's offline engine and writes them, in request
order, to `completions.jsonl` as {"token_ids": [...], "finish_reason": "stop" | "length"}. The prompts are
PrefLab's own token ids and every sampling setting comes from the request (temperature, top-p, max tokens, the
end-of-turn stop token, a seed per request); the model folder's generation_config.json is not applied
(`generation_config="vllm"`), so nothing but the request decides how a sample is drawn. PrefLab decodes and
scores the ids itself.
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
                             skip_special_tokens=False) for r in requests]
    prompts = [{"prompt_token_ids": r["prompt_token_ids"]} for r in requests]
    outputs = llm.generate(prompts, sampling_params=params)
    partial = job["output"] + ".partial"
    with open(partial, "w") as f:
        for out in outputs:
            sample = out.outputs[0]
            f.write(json.dumps({"token_ids": list(sample.token_ids), "finish_reason": sample.finish_reason}) + "\n")
    os.replace(partial, job["output"])


if __name__ == "__main__":
    main(sys.argv[1])
