#!/usr/bin/env python3
"""Golden file for PrefLab's HumanEval code extraction (HumanEvalCode), made with evalplus's own `sanitize`.

Writes Tests/PreferenceTests/Fixtures/benchmarks/humaneval_golden.jsonl: chat-model answers to HumanEval
problems, each with the code evalplus 0.3.1's `evalplus.sanitize.sanitize(answer, entry_point)` reads
from it and whether that code passes the problem's tests (run as `prompt imports + code + test +
check(entry_point)`, 10 s limit). The Swift test (BenchmarkGoldenTests) runs PrefLab's extraction on
the same answers and must reach the same pass/fail on every line.

Answers: (1) SmolLM2-135M-Instruct's real greedy answers, read from the `items.jsonl` of HumanEval
nodes in a PrefLab store (given on the command line; they were made with the old "Here is the
completed function:" prompt, so most restate the function in a fence after some text); (2) made-up
answers in the evalplus format (starting inside the ```python fence the prompt opens), built from the
canonical solutions with the clutter chat models add: example prints, failing top-level asserts, a
`__main__` block, prose after the fence, a helper the function needs, an unused constant, a wrong body, an
answer cut mid-function, one cut inside a later helper (the token limit), a bare body without `def`.

Run (evalplus needs tree_sitter, tree_sitter_python; its package imports datasets):
  python -m venv /tmp/evp && /tmp/evp/bin/pip install evalplus==0.3.1 --no-deps tree_sitter tree_sitter_python \\
      tqdm tempdir wget appdirs termcolor multipro
  PYTHONPATH=/tmp/evp/lib/python3.11/site-packages /work/venv-engines/bin/python \\
      scripts/benchmarks/make_humaneval_golden.py ../shared/data/humaneval/HumanEval.jsonl.gz STORE/objects/*/items.jsonl
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile

from evalplus.sanitize import sanitize

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "PreferenceTests", "Fixtures", "benchmarks",
                   "humaneval_golden.jsonl")


def imports(prompt):
    return "\n".join(l for l in prompt.split("\n") if l.startswith("import ") or l.startswith("from "))


def passes(problem, code):
    program = imports(problem["prompt"]) + "\n" + code + "\n" + problem["test"] + "\n" + f"check({problem['entry_point']})\n"
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "p.py")
        with open(path, "w") as f:
            f.write(program)
        try:
            return subprocess.run([sys.executable, path], cwd=d, capture_output=True, timeout=10).returncode == 0
        except subprocess.TimeoutExpired:
            return False


def made_up(problem):
    """Answers in the evalplus format: the text after the prompt's open ```python fence."""
    p, body, ep = problem["prompt"].strip() + "\n", problem["canonical_solution"], problem["entry_point"]
    full = p + body
    return {
        "clean": full + "```\n",
        "prose_after": full + "```\n\nThis function works by looping over the input.\n",
        "example_prints": full + f"\n# Example usage:\nprint({ep}(*[]) if False else 'ok')\n```\n",
        "failing_assert": full + f"\nassert {ep} is None, 'example'\n```\n",
        "main_block": full + f"\nif __name__ == '__main__':\n    assert {ep} is None\n```\n",
        "helper_after": p.replace(f"def {ep}(", f"def _impl_{ep}(") + body
                        + f"\n\ndef {ep}(*args):\n    return _impl_{ep}(*args)\n```\n",
        "constant_unused": f"OFFSET = 0\n\n" + full.rstrip("\n") + "\n```\n",
        "wrong_body": p + "    return None\n```\n",
        "cut_mid_function": full[: len(p) + max(1, len(body) // 2)],
        "cut_in_a_later_helper": full + "\n\ndef _extra(values):\n    return sorted(values",
        "bare_body": body + "```\n",
        "second_block": "Here is a first try:\n```python\nx = 1\n```\nand the function:\n```python\n" + full + "```\n",
    }


def main():
    problems = {}
    with gzip.open(sys.argv[1], "rt") as f:
        for line in f:
            r = json.loads(line)
            problems[r["task_id"]] = r
    answers = []
    for path in sorted(sys.argv[2:]):
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                answers.append((r["id"], "smollm2_135m_instruct", r["response"]))
    for tid in ["HumanEval/0", "HumanEval/2", "HumanEval/12", "HumanEval/23", "HumanEval/35", "HumanEval/53", "HumanEval/100"]:
        answers += [(tid, "made_up/" + k, v) for k, v in made_up(problems[tid]).items()]
    seen, rows = set(), []
    for tid, source, response in answers:
        if (tid, response) in seen:
            continue
        seen.add((tid, response))
        pr = problems[tid]
        code = sanitize(response, pr["entry_point"])
        rows.append({"task_id": tid, "source": source, "prompt": pr["prompt"], "entry_point": pr["entry_point"],
                     "test": pr["test"], "response": response, "evalplus_code": code, "evalplus_passed": passes(pr, code)})
    with open(OUT, "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} answers, {sum(r['evalplus_passed'] for r in rows)} pass under evalplus's sanitize -> {OUT}")


if __name__ == "__main__":
    main()
