#!/usr/bin/env python3
"""Writes Results/paper/unpacking-real-table{1,2,3}.csv and d2po-table3-real.csv: the papers' transcribed numbers
(Results/paper/unpacking-table{1,2,3}.csv, unchanged) relabelled onto the real-model track's table
cells (Recipes/unpacking/real, Recipes/d2po/real), so that `table.paper` prints each paper number beside the cell that
stands for it. The paper reports category averages, not benchmarks: a benchmark column gets the
paper's number for its category (docs/recipes.md, "The real-model track"). Copying, never editing:
every value is read from the transcription. Run from the repository root."""
import csv
import pathlib

PAPER = pathlib.Path("Results/paper")

# Our benchmark metric -> the paper's evaluation category (App. D).
CATEGORY = {
    "gsm8k.score": "reasoning",
    "truthfulqa.mc2": "truthfulness",
    "humaneval.score": "coding",
    "xstest.refusal_f1": "safety",
    "ifeval.prompt_loose": "instruction_following",
    "alpaca_eval.win_rate": "instruction_following",
}

# Our row -> the paper's row standing for it.
TABLE1_ROWS = {
    "base": "tulu2_sft",
    "uf_like": "ultrafeedback_overall",
    "hh_helpful": "hh_rlhf",
    "hh_harmless": "hh_rlhf",
    "gpt4_pairs": "alpacafarm_gpt4_pref",
}
TABLE2_ROWS = {  # the paper's Table 2 uses UltraFeedback fine-grained; the base cell sits on the dpo value of its axis
    "base / dpo": "tulu2_sft",
    "uf_like / dpo": "ultrafeedback_fg_dpo",
    "uf_like / ppo": "ultrafeedback_fg_ppo",
    "hh_helpful / dpo": "hh_rlhf_dpo",
    "hh_helpful / ppo": "hh_rlhf_ppo",
}
TABLE3_ROWS = {"uf_like": "13b_ultrafeedback_rm", "mix": "13b_mix_rm"}
TABLE3_COLUMNS = {  # Table 3 prints only these per-benchmark PPO columns
    "rm_eval.accuracy": "rewardbench_score",
    "gsm8k.score": "ppo_gsm_acc",
    "alpaca_eval.win_rate": "ppo_alpacaeval2_winrate",
}

# D2PO Table 3 -> Recipes/d2po/real/table3.yaml: the GPT-4-gold rows, since that recipe's R* is a reward
# model trained on GPT-4's pairwise AlpacaEval judgements (the Eurus rows are the other R* of the paper).
D2PO_TABLE3_ROWS = {"initial": "initial", "opo_static_rm": "opo_static_rm", "opo_gold": "opo_gold_gpt4", "d2po": "d2po_gpt4"}


def read(name):
    with open(PAPER / name, newline="") as f:
        return {(r["row"], r["column"]): r["value"] for r in csv.DictReader(f)}


def write(name, rows):
    with open(PAPER / name, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["row", "column", "value"])
        w.writerows(rows)


def by_category(source, row_map):
    return [(ours, metric, source[(theirs, category)])
            for ours, theirs in row_map.items()
            for metric, category in CATEGORY.items()
            if source.get((theirs, category), "-") not in ("-", "")]


def main():
    write("unpacking-real-table1.csv", by_category(read("unpacking-table1.csv"), TABLE1_ROWS))
    write("unpacking-real-table2.csv", by_category(read("unpacking-table2.csv"), TABLE2_ROWS))
    t3 = read("unpacking-table3.csv")
    write("unpacking-real-table3.csv", [(ours, metric, t3[(theirs, column)])
                                        for ours, theirs in TABLE3_ROWS.items()
                                        for metric, column in TABLE3_COLUMNS.items()])
    d3 = read("d2po-table3.csv")
    write("d2po-table3-real.csv", [(ours, "alpaca_eval.win_rate", d3[(theirs, "lc_alpacaeval2")])
                                   for ours, theirs in D2PO_TABLE3_ROWS.items()])


if __name__ == "__main__":
    main()
