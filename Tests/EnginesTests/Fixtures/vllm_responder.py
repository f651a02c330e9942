"""Test-only stand-in for vLLM (never shipped as an engine): answers a vLLM bridge job on the CPU with transformers'
`generate`, through vllm_generate.py's own request preparation and output lines (read from the job's folder, where
VLLMRunner wrote it), so that the text mode's tokenisation, window fitting and files are the bridge's. Only the
engine differs: transformers draws from torch's stream seeded by the request's seed, not vLLM's.

    .venv-engines/bin/python vllm_responder.py RESUME_DIR/job.json
"""
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig


def main(job_path):
    sys.path.insert(0, os.path.dirname(os.path.abspath(job_path)))
    import vllm_generate

    with open(job_path) as f:
        job = json.load(f)
    requests = vllm_generate.read_requests(job)
    tokenizer = AutoTokenizer.from_pretrained(job["model"])
    model = AutoModelForCausalLM.from_pretrained(job["model"], dtype=torch.float32).eval()
    prompts, max_tokens, stops = vllm_generate.prepare(requests, tokenizer, job)
    lines = []
    for request, ids, m, stop in zip(requests, prompts, max_tokens, stops):
        if vllm_generate.scoring(request):
            logprobs = prompt_logprobs(model, ids)
            lines.append(vllm_generate.completion(request, ids, [], "length", tokenizer, lambda i, t: logprobs[i - 1, t].item()))
            continue
        new = generate(model, tokenizer, ids, request, m, stop)
        finish = "stop" if new[-1:] and new[-1] in stop else "length"
        lines.append(vllm_generate.completion(request, ids, new, finish, tokenizer, None))
    vllm_generate.write_completions(job, lines)


def generate(model, tokenizer, ids, request, max_tokens, stop):
    """One sample with vLLM's settings: no top-k, no repetition penalty, the model's generation_config.json ignored."""
    greedy = request["temperature"] == 0
    config = GenerationConfig(do_sample=not greedy, max_new_tokens=max_tokens, eos_token_id=stop,
                              pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stop[0],
                              **({} if greedy else {"temperature": request["temperature"], "top_p": request["top_p"], "top_k": 0}))
    torch.manual_seed(request["seed"])
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                             generation_config=config)
    return out[0, len(ids):].tolist()


def prompt_logprobs(model, ids):
    """Row i: log-softmax of the logits after ids[:i + 1] (vLLM's prompt_logprobs of position i + 1)."""
    with torch.no_grad():
        return torch.log_softmax(model(torch.tensor([ids])).logits[0].double(), dim=-1)


if __name__ == "__main__":
    main(sys.argv[1])
