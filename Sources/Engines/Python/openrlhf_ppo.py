"""PrefLab's OpenRLHF launch (written into a ppo node's resume folder by OpenRLHFRunner.swift; run as
`python openrlhf_ppo.py ARGS`, ARGS being train_ppo_ray's): runs openrlhf.cli.train_ppo_ray with ARGS in this process,
after rendering the prompts when the policy is a model PrefLab does not read (a `prompt-render.json` beside this
script; PrefLab renders its own models' prompts and writes none).

Rendering: OpenRLHF tokenises each prompt text without special tokens (`add_special_tokens=False`) and, with neither
--data.apply_chat_template nor --data.input_template, applies no format of its own, so each prompt is written as the
text whose tokens are exactly the ids TRL trains and samples from (trl_text.prompt_ids): the chat template's rendering
with the generation prompt, or, without a template, the plain text after the special tokens the tokenizer puts before
it (OPT's BOS), written as their own text. Every prompt is tokenised as OpenRLHF will and compared with those ids; a
prompt longer than max_prompt_tokens under the model's own tokenizer is refused (OpenRLHF would cut it), not cut.
"""
import json
import os
import runpy
import sys

import trl_text

RENDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "prompt-render.json")


def fail(message):
    print(f"openrlhf_ppo.py: {message}", file=sys.stderr)
    sys.exit(2)


def prompt_text(prompt, tokenizer):
    """The text of TRL's prompt (`trl_text.model_prompt`) that OpenRLHF tokenises into the same ids."""
    if isinstance(prompt, list):
        return tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    full, bare = tokenizer(prompt)["input_ids"], tokenizer(prompt, add_special_tokens=False)["input_ids"]
    lead = len(full) - len(bare)
    if lead < 0 or full[lead:] != bare:
        fail("the tokenizer's special tokens are not only a prefix of the text's own tokens: no prompt text gives TRL's ids")
    return tokenizer.decode(full[:lead]) + prompt


def render(job):
    """prompt-messages.jsonl (PrefLab's prompts as messages) → the prompt file OpenRLHF reads ({"prompt": text})."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(job["model"])
    with open(job["messages"]) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    lines = []
    for i, row in enumerate(rows):
        prompt = trl_text.model_prompt(row["messages"], tokenizer)
        ids = trl_text.prompt_ids(prompt, tokenizer)
        text = prompt_text(prompt, tokenizer)
        if tokenizer(text, add_special_tokens=False)["input_ids"] != ids:
            fail(f"prompt {i + 1}: its text does not tokenise back to TRL's prompt ids under the model's own tokenizer")
        if len(ids) > job["max_prompt_tokens"]:
            fail(f"prompt {i + 1} has {len(ids)} tokens under the model's own tokenizer, more than max_prompt_tokens "
                 f"{job['max_prompt_tokens']}: OpenRLHF cuts it its own way — not delegated; raise max_prompt_tokens")
        lines.append({"prompt": text})
    partial = job["output"] + ".partial"
    with open(partial, "w") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")
    os.replace(partial, job["output"])


def main(argv):
    if os.path.exists(RENDER):
        with open(RENDER) as f:
            render(json.load(f))
    sys.argv = ["openrlhf.cli.train_ppo_ray"] + argv
    runpy.run_module("openrlhf.cli.train_ppo_ray", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
