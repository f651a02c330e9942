"""Writes the small data fixtures for DataTests*.swift (run: python3 make_fixtures.py). Deterministic."""
import gzip, json, os

here = os.path.dirname(os.path.abspath(__file__))
def path(*p):
    full = os.path.join(here, *p)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    return full
def gz(name, text):  # mtime 0 so that the bytes are reproducible
    with open(path(name), 'wb') as f:
        with gzip.GzipFile(fileobj=f, mode='wb', mtime=0, filename='') as g:
            g.write(text.encode())
def jl(rows): return ''.join(json.dumps(r) + '\n' for r in rows)

# HH-style dialogue pairs, gzip'd: 5 rows, row 4 has an empty chosen turn, row 5 runs on past its turn.
hh = [
    {"chosen": "\n\nHuman: hi\n\nAssistant: hello there", "rejected": "\n\nHuman: hi\n\nAssistant: go away"},
    {"chosen": "\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: good", "rejected": "\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: bad"},
    {"chosen": "\n\nHuman: how are you\n\nAssistant: fine thanks", "rejected": "\n\nHuman: how are you\n\nAssistant: fine thanks"},
    {"chosen": "\n\nHuman: q\n\nAssistant:", "rejected": "\n\nHuman: q\n\nAssistant: answer"},
    {"chosen": "\n\nHuman: x\n\nAssistant: y  Human: more\n\nAssistant: z", "rejected": "\n\nHuman: x\n\nAssistant: w"},
]
gz('hh_small.jsonl.gz', jl(hh))
# The same rows, truncated in the middle of the last row's compressed bytes.
import hashlib
noise = ''.join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(40))  # compresses poorly
full = gzip.compress(jl(hh[:2] + [hh[0] | {"chosen": hh[0]["chosen"] + " " + noise}]).encode(), mtime=0)
open(path('truncated.jsonl.gz'), 'wb').write(full[:len(full) - 300])
# A corrupt stream: a valid header followed by garbage.
open(path('corrupt.jsonl.gz'), 'wb').write(full[:10] + bytes(range(7, 200)))

# Prompt / chosen / rejected pairs: 10 prompts x 2 pairs, with pair 2 of prompt 0 repeated twice.
pairs = []
for i in range(10):
    for j in range(2):
        pairs.append({"prompt": f"question {i}", "chosen": f"good answer {i}.{j}", "rejected": f"bad answer {i}.{j}"})
pairs += [pairs[1], pairs[1]]
open(path('pairs.jsonl'), 'w').write(jl(pairs))
# The same kind of pairs as a JSON array (pretty-printed), a CSV, and chat messages.
json.dump(pairs[:6], open(path('pairs.json'), 'w'), indent=2)
with open(path('pairs.csv'), 'w') as f:
    f.write('prompt,chosen,rejected\n')
    f.write('"What, exactly?","A ""quoted"" answer",plain\n')
    f.write('"multi\nline prompt",yes,no\n')
    f.write('simple,right,wrong\n')
open(path('messages.jsonl'), 'w').write(jl([
    {"chosen": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
     "rejected": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "bye"}]},
    {"chosen": [{"role": "user", "content": "one"}, {"role": "assistant", "content": "two"}, {"role": "user", "content": "three"}, {"role": "assistant", "content": "four"}],
     "rejected": [{"role": "user", "content": "one"}, {"role": "assistant", "content": "two"}, {"role": "user", "content": "three"}, {"role": "assistant", "content": "five"}]},
]))

# Rated multi-response data with per-aspect scores (UltraFeedback-like; ratings as strings).
def comp(model, text, overall, h, t):
    return {"model": model, "response": text, "fine_grained_score": overall,
            "annotations": {"helpfulness": {"Rating": h}, "truthfulness": {"Rating": t}}}
rated = [
    {"instruction": "p1", "source": "flan", "completions": [comp("m1", "A1", 9, "2", "5"), comp("m2", "B1", 7, "5", "5"), comp("m3", "C1", 3, "1", "1")]},
    {"instruction": "p2", "source": "sharegpt", "completions": [comp("m1", "A2", 5, "4", "4"), comp("m2", "B2", 5, "2", "2"), comp("m3", "C2", 5, "3", "N/A")]},
    {"instruction": "p3", "source": "flan", "completions": [comp("m1", "A3", 8, "3", "3")]},
    {"instruction": "p4", "source": "flan", "completions": [comp("m1", "A4", None, "1", "1"), comp("m2", "B4", 6, "2", "4"), comp("m3", "C4", 2, "5", "5")]},
]
open(path('rated.jsonl'), 'w').write(jl(rated))

# AlpacaEval-like folder: one gzip'd JSON array per generator, each judged against a reference.
prefs = {"gen_a": [2, 2, 2, 1], "gen_b": [2, 1, 1.5, 1], "gen_c": [1, 1, 1, None], "gen_d": [1, 2, 0, 1]}
for g, ps in prefs.items():
    rows = [{"instruction": f"instr {k}", "output_1": f"ref {k}", "output_2": f"{g} says {k}", "preference": p,
             "generator_2": "misnamed"} for k, p in enumerate(ps)]
    gz(f'judged/{g}.json.gz', json.dumps(rows, indent=1))

# GSM8K-like and prompt files.
open(path('gsm8k_small.jsonl'), 'w').write(jl([
    {"question": "What is 2+3?", "answer": "2+3=<<2+3=5>>5\n#### 5"},
    {"question": "How much is 1,000 + 234?", "answer": "#### 1,234"},
    {"question": "No marker here", "answer": "the answer is 7"},
]))
open(path('prompts.txt'), 'w').write("first prompt\n\n  second prompt  \nthird prompt\n")
