"""Independent check of the AlpacaEval GPT-4 binarization counts (docs/datasets.md; DataTestsRealData).

Scores each generator's output 1 / 0.5 / 0 for won / draw (1.5 or 0) / lost against text_davinci_003,
drops null verdicts and empty outputs, ranks generators by mean, cuts thirds, and counts per instruction
pairs (some output strictly better than another) and ties. Run: python3 alpaca_eval_reference.py
"""
import glob, gzip, json, os, sys

root = sys.argv[1] if len(sys.argv) > 1 else '/work/shared/data/alpaca-eval-gpt4'
score_map = {2: 1.0, 1.5: 0.5, 0: 0.5, 1: 0.0}
space = ' \t\n\r\x0b\x0c\u200b\u00a0\u3000\x85'
by_gen = {}
for f in sorted(glob.glob(os.path.join(root, '*.json.gz'))):
    gen = os.path.basename(f)[:-len('.json.gz')]
    rows = json.load(gzip.open(f))
    by_gen[gen] = {r['instruction']: (score_map[r['preference']], r['output_2'].strip(space)) for r in rows
                   if r['preference'] is not None and (r['output_2'] or '').strip(space)}
means = sorted(((sum(s for s, _ in v.values()) / len(v), g) for g, v in by_gen.items()), key=lambda x: (-x[0], x[1]))
order = [g for _, g in means]
groups = {'all': order, 'top': order[:18], 'middle': order[18:36], 'bottom': order[36:]}
instructions = sorted({i for v in by_gen.values() for i in v})
for name, gens in groups.items():
    pairs = ties = few = unsure = 0
    for ins in instructions:
        resp = [by_gen[g][ins] for g in gens if ins in by_gen[g]]
        if len(resp) < 2:
            few += 1
            continue
        top = max(s for s, _ in resp)
        # A best response pairs with a strictly lower one of different text (the same text is no pair).
        ok = [any(s < top and t != bt for s, t in resp) for bs, bt in resp if bs == top]
        if all(ok): pairs += 1
        elif not any(ok): ties += 1
        else: unsure += 1  # depends on which best response the seed picks
    print(f'{name}: generators {len(gens)}, pairs {pairs}, ties {ties}, too_few {few}, seed-dependent {unsure}')
