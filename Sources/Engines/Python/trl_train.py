# PrefLab → TRL 1.16 bridge: trains one PrefLab node (sft, reward_model, dpo, opo through trl_online.py, or d2po
# through trl_d2po.py) with TRL's own trainer.
#
# Written by PrefLab's Engines target into the node's resume folder and run as
#   python trl_train.py job.json            (or under torchrun for several processes, gloo on CPU)
# job.json (TRLJob in Sources/Engines/TRLJob.swift) holds every mapped parameter. What this file adds to TRL,
# and why, so that the run is PrefLab's method and not an approximation of it:
#   * AdamW with PrefLab's β₂/ε and PrefLab's learning-rate schedule (a LambdaLR; HF's "linear" starts warmup
#     at 0 and ends at 0 one step late);
#   * PrefLab's data order (one permutation per epoch, computed by PrefLab and read from order.json);
#   * PrefLab's token ids as TRL's prepared dataset (the standard-format text is re-tokenised as TRL would and
#     compared: it matches except where a response holds a special token's text, which PrefLab keeps as text and
#     HF tokenizers split out; the count is reported), SFT rows already fitted to the window as PrefLab fits them;
#   * step metrics as JSON lines {step,total,values} in PrefLab's names, read by the runner;
#   * resume from the newest engine checkpoint-N when the node was interrupted.
# A model PrefLab does not read (job["tokenization"] == "model", e.g. OPT) has no PrefLab ids: its rows are text in
# TRL's own formats, tokenised by TRL with the model's tokenizer (trl_text.py); the data order, optimiser, schedule
# and metrics stay PrefLab's.
import json
import math
import os
import shutil
import sys

import torch
import trl_text
from torch.utils.data import Sampler
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer, TrainerCallback, set_seed
from datasets import Dataset

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
# TRL log names → PrefLab metric names (the embedded trainers' `values`).
NAMES = {"loss": "loss", "grad_norm": "grad_norm", "rewards/accuracies": "accuracy", "rewards/margins": "margin",
         "rewards/chosen": "reward_chosen", "rewards/rejected": "reward_rejected", "accuracy": "accuracy",
         "margin": "margin", "mean_token_accuracy": "token_accuracy", "entropy": "entropy"}


def fail(message):
    print(f"trl_train.py: {message}", file=sys.stderr)
    sys.exit(2)


def last_complete_checkpoint(folder, remove):
    """The newest checkpoint-N whose trainer_state.json (HF writes it last) reads; a checkpoint cut short by a kill
    is removed (by rank 0), so that neither the resume nor HF's rotation trips on it."""
    if not os.path.isdir(folder):
        return None
    complete = []
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if not (name.startswith("checkpoint-") and name[len("checkpoint-"):].isdigit()):
            continue
        try:
            with open(os.path.join(path, "trainer_state.json")) as f:
                json.load(f)
            complete.append((int(name[len("checkpoint-"):]), path))
        except (OSError, ValueError):
            if remove:
                shutil.rmtree(path, ignore_errors=True)
    return max(complete)[1] if complete else None


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_rows(path, job, tokenizer, model_tokenizes):
    """The job's rows, each with its `prompt_ids` (what the online loops sample from): PrefLab's, or with the model's
    own tokenizer the row in TRL's format (trl_text.py), checked against the window."""
    rows = read_jsonl(path)
    if not model_tokenizes:
        online = job["method"] in ("opo", "d2po")
        return [{**r, "prompt_ids": r["prompt_ids_preflab"]} if online else r for r in rows]
    rows = [trl_text.model_row(r, tokenizer) for r in rows]
    trl_text.check_window(rows, tokenizer, job)
    return rows


def lr_factor(job):
    """PrefLab's LRSchedule.linearWarmupDecay as a LambdaLR factor of the optimiser step index."""
    s = job["schedule"]
    total, warm, floor = s["total_steps"], s["warmup_steps"], s["floor_fraction"]

    def factor(step):
        if step < warm:
            return (step + 1) / warm
        span = max(1, total - 1 - warm)
        return 1 - (1 - floor) * min(1.0, (step - warm) / span)
    return factor


class PrefLabOrder(Sampler):
    """Yields PrefLab's permutation of the current epoch (read from the trainer's state, so resume agrees)."""

    def __init__(self, orders, trainer_state):
        self.orders, self.state = orders, trainer_state

    def __len__(self):
        return len(self.orders[0])

    def __iter__(self):
        epoch = int(math.floor((self.state().epoch or 0) + 1e-6))
        return iter(self.orders[epoch % len(self.orders)])


def line_ends(job):
    """The optimiser step count at the end of each metrics line: every step, or for an online run each generation
    step's last update (job["online"]["line_ends"], computed by PrefLab)."""
    if job.get("online"):
        return job["online"]["line_ends"]
    return list(range(1, job["schedule"]["total_steps"] + 1))


class Metrics(TrainerCallback):
    """Appends {step,total,values} lines (PrefLab's names) to the job's metrics file; rank 0 only. An online run
    writes one line per generation step (its last update's values; D2PO: the trainer's own values of the step), as
    PrefLab's online trainers report."""

    def __init__(self, job, factor, holder):
        self.line_of = {end: i + 1 for i, end in enumerate(line_ends(job))}
        self.path, self.factor = job["paths"]["metrics"], factor
        self.total = len(self.line_of)
        self.peak = job["optimizer"]["learning_rate"]
        self.holder = holder
        self.last = {}

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or "loss" not in logs:
            return
        trainer = self.holder["trainer"]
        line = self.line_of.get(state.global_step)
        if line is None:
            trainer.preflab_step_loss = 0.0
            return
        values = {NAMES[k]: float(v) for k, v in logs.items() if k in NAMES}
        # The online trainer's own values (full precision; HF rounds its `loss` to 4 decimals).
        values.update({k[len("preflab/"):]: float(v) for k, v in logs.items() if k.startswith("preflab/")})
        # HF rounds the logged loss to 4 decimals; in one process the unrounded sum of the step's micro-batch losses
        # (what HF rounds) is kept instead. Several ranks keep HF's all-reduced, rounded value.
        if args.world_size == 1:
            values["loss"] = trainer.preflab_step_loss
        trainer.preflab_step_loss = 0.0
        values.update(getattr(trainer, "preflab_values", {}))
        # HF logs the rate of the next step; PrefLab reports the one this step used.
        values["lr"] = self.peak * self.factor(state.global_step - 1)
        self.last = values
        with open(self.path, "a") as f:
            f.write(json.dumps({"step": line, "total": self.total, "values": values},
                               sort_keys=True) + "\n")


def rows_dataset(rows, method, model_tokenizes):
    """TRL's standard format (text) plus the ids TRL trains on: PrefLab's own token stream. SFT rows are the
    window-fitted stream (`input_ids`, `completion_mask`); reward pairs `chosen_ids`/`rejected_ids` (prompt +
    response + EOS); DPO pairs `prompt_ids`/`chosen_ids`/`rejected_ids` (set in `Ordered._prepare_dataset`).
    With the model's own tokenizer, the standard format alone: TRL tokenises it."""
    if model_tokenizes:
        return Dataset.from_list([{k: r[k] for k in ("prompt", "chosen", "rejected", "completion") if k in r} for r in rows])
    out = []
    for r in rows:
        row = {k: v for k, v in r.items() if not k.startswith("fitted_")}
        if method == "sft":
            fp, fc = r["fitted_prompt_ids_preflab"], r["fitted_completion_ids_preflab"]
            row.update(input_ids=fp + fc, completion_mask=[0] * len(fp) + [1] * len(fc))
        elif method == "reward_model":
            row.update(chosen_ids=r["prompt_ids_preflab"] + r["chosen_ids_preflab"],
                       rejected_ids=r["prompt_ids_preflab"] + r["rejected_ids_preflab"])
        out.append(row)
    return Dataset.from_list(out)


def text_check(rows, method, tokenizer):
    """Whether the standard-format text, tokenised as TRL tokenises it (prompt + response + EOS as one string),
    gives PrefLab's ids. It does except where a response contains a special token's text: PrefLab keeps such
    text as text, HF tokenizers split it out as the special token. Returns (mismatching rows, first example)."""
    bad, example = 0, None
    for i, r in enumerate(rows):
        responses = [("completion", "completion_ids_preflab")] if method == "sft" else \
            [("chosen", "chosen_ids_preflab"), ("rejected", "rejected_ids_preflab")]
        for text_key, ids_key in responses:
            ours = tokenizer(r["prompt"] + r[text_key] + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
            if ours != r["prompt_ids_preflab"] + r[ids_key]:
                bad += 1
                example = example or f"row {i + 1} {text_key}: {r[text_key]!r}"
                break
    return bad, example


def check_tokens(trainer, method, model_tokenizes):
    """TRL's prepared dataset holds exactly PrefLab's ids (PrefLab's tokenizer), in PrefLab's row count."""
    data = trainer.train_dataset
    for i in range(0 if model_tokenizes else len(data)):
        row = data[i]
        if method == "dpo":
            pairs = [("prompt", row["prompt_ids"], row["prompt_ids_preflab"]),
                     ("chosen", row["chosen_ids"], row["chosen_ids_preflab"]),
                     ("rejected", row["rejected_ids"], row["rejected_ids_preflab"])]
        elif method == "reward_model":
            pairs = [("chosen", row["chosen_ids"], row["prompt_ids_preflab"] + row["chosen_ids_preflab"]),
                     ("rejected", row["rejected_ids"], row["prompt_ids_preflab"] + row["rejected_ids_preflab"])]
        else:
            pairs = [("input", row["input_ids"], None)]
        for name, ours, theirs in pairs:
            if theirs is not None and list(ours) != list(theirs):
                fail(f"row {i}: TRL's {name} tokens differ from PrefLab's\n  TRL:     {list(ours)}\n  PrefLab: {list(theirs)}")
    if len(data) != len(trainer.preflab_orders[0]):
        fail(f"TRL kept {len(data)} of {len(trainer.preflab_orders[0])} rows")


def preflab_adapter(model, job):
    """The model wrapped with PrefLab's initial LoRA adapters (paths.adapter, written by PrefLab: A from the stage's
    seed, B = 0), trainable; peft's own initialisation is never used. Refuses an adapter that did not load as written
    (peft leaves unknown keys at its own random values with only a warning) or whose settings differ from the job's."""
    from peft import PeftModel
    from safetensors.torch import load_file
    lo, folder = job["lora"], job["paths"]["adapter"]
    model = PeftModel.from_pretrained(model, folder, is_trainable=True)
    c = model.peft_config["default"]
    got = (c.r, float(c.lora_alpha), sorted(c.target_modules), c.lora_dropout, c.use_rslora)
    if got != (lo["rank"], float(lo["alpha"]), sorted(lo["targets"]), 0.0, False):
        fail(f"peft read the adapter config as {got}; the job says rank {lo['rank']}, alpha {lo['alpha']}, targets {lo['targets']}")
    saved = load_file(os.path.join(folder, "adapter_model.safetensors"))
    loaded = {k.replace(".default.", "."): v for k, v in model.state_dict().items() if ".lora_" in k}
    if set(saved) != set(loaded) or any(not torch.equal(saved[k], loaded[k].float()) for k in saved):
        fail(f"peft did not load PrefLab's adapters as written ({len(saved)} factors in the file, {len(loaded)} in the model)")
    return model


def build(job, tokenizer):
    """The TRL trainer class, its config, model, extra trainer arguments and (opo, d2po) labeller for this method."""
    import trl
    m, b, o, p = job["method"], job["batch"], job["optimizer"], job["paths"]
    dtype = DTYPES[job["precision"]]
    common = dict(
        output_dir=p["checkpoints"], per_device_train_batch_size=b["micro_batch"],
        gradient_accumulation_steps=b["gradient_accumulation"], num_train_epochs=b["epochs"],
        learning_rate=o["learning_rate"], adam_beta1=o["beta1"], adam_beta2=o["beta2"], adam_epsilon=o["eps"],
        weight_decay=o["weight_decay"], max_grad_norm=job["max_grad_norm"], seed=job["seed"], data_seed=job["seed"],
        logging_steps=1, save_strategy="steps", save_steps=job["checkpoint_every"], save_total_limit=2, report_to=[],
        disable_tqdm=True,
        dataloader_drop_last=False, bf16=job["precision"] == "bfloat16", fp16=job["precision"] == "float16",
        use_cpu=not torch.cuda.is_available(), max_length=job["max_length"])
    if m == "opo":
        import trl_online
        return trl_online.build(job, tokenizer, dtype, common)
    if m == "d2po":
        import trl_d2po
        return trl_d2po.build(job, tokenizer, dtype, common)
    if m == "dpo":
        config = trl.DPOConfig(beta=job["loss"]["beta"], loss_type=[job["loss"]["type"]], **common)
        model = AutoModelForCausalLM.from_pretrained(p["model"], dtype=dtype)
        extra = {}
        if p.get("reference"):
            extra["ref_model"] = AutoModelForCausalLM.from_pretrained(p["reference"], dtype=dtype)
        if job.get("lora"):
            model = preflab_adapter(model, job)
        return trl.DPOTrainer, config, model, extra, None
    if m == "reward_model":
        config = trl.RewardConfig(**common)
        if job.get("head_seed") is not None:
            # A causal LM's new scalar head, drawn by transformers from the stage's head_seed (PrefLab draws its own
            # only for the models it reads).
            torch.manual_seed(job["head_seed"])
        model = AutoModelForSequenceClassification.from_pretrained(p["model"], num_labels=1, dtype=dtype)
        if tokenizer.pad_token_id is None or tokenizer.pad_token_id == tokenizer.eos_token_id:
            fail("the reward model's tokenizer needs a pad token distinct from EOS: the score is read at the last "
                 "non-pad token, which must be PrefLab's EOS")
        model.config.pad_token_id = tokenizer.pad_token_id
        return trl.RewardTrainer, config, model, {}, None
    if m == "sft":
        config = trl.SFTConfig(completion_only_loss=True, packing=False, **common)
        model = AutoModelForCausalLM.from_pretrained(p["model"], dtype=dtype)
        return trl.SFTTrainer, config, model, {}, None
    fail(f"unknown method {m}")


def heldout_accuracy(model, tokenizer, rows, model_tokenizes):
    """Fraction of held-out pairs the reward model ranks right (PrefLab's `heldout_accuracy`)."""
    model.eval()
    right = 0
    with torch.no_grad():
        for r in rows:
            ids = [trl_text.pair_ids(r, s, tokenizer) for s in ("chosen", "rejected")] if model_tokenizes else \
                [r["prompt_ids_preflab"] + r["chosen_ids_preflab"], r["prompt_ids_preflab"] + r["rejected_ids_preflab"]]
            scores = [model(input_ids=torch.tensor([x], device=model.device)).logits[0, 0].item() for x in ids]
            right += scores[0] > scores[1]
    return right / max(1, len(rows))


def main():
    if len(sys.argv) != 2:
        fail("usage: trl_train.py job.json")
    with open(sys.argv[1]) as f:
        job = json.load(f)
    set_seed(job["seed"])
    p = job["paths"]
    model_tokenizes = job.get("tokenization") == "model"
    tokenizer = AutoTokenizer.from_pretrained(p["model"])
    with open(p["order"]) as f:
        orders = json.load(f)
    online = job["method"] in ("opo", "d2po")
    step_prompts = orders
    if online:
        # order.json holds each generation step's prompts; HF walks the optimiser steps in order.
        orders = [list(range(job["schedule"]["total_steps"]))]
    trainer_class, config, model, extra, labeler = build(job, tokenizer)
    factor = lr_factor(job)
    holder = {}

    class Ordered(trainer_class):
        preflab_orders = orders
        preflab_step_loss = 0.0

        def training_step(self, *args, **kwargs):
            loss = super().training_step(*args, **kwargs)
            self.preflab_step_loss += loss.item()
            return loss

        def _prepare_dataset(self, dataset, *args, **kwargs):
            if job["method"] != "dpo" or model_tokenizes:
                return super()._prepare_dataset(dataset, *args, **kwargs)
            return dataset.map(lambda r: {"prompt_ids": r["prompt_ids_preflab"], "chosen_ids": r["chosen_ids_preflab"],
                                          "rejected_ids": r["rejected_ids_preflab"]})

        def _get_train_sampler(self, *args, **kwargs):
            return PrefLabOrder(orders, lambda: holder["trainer"].state)

        def create_scheduler(self, num_training_steps, optimizer=None):
            if num_training_steps != job["schedule"]["total_steps"]:
                fail(f"TRL plans {num_training_steps} optimiser steps, PrefLab {job['schedule']['total_steps']}")
            if self.lr_scheduler is None:
                self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer or self.optimizer, factor)
            return self.lr_scheduler

    metrics = Metrics(job, factor, holder)
    rows = read_rows(p["train"], job, tokenizer, model_tokenizes)
    mismatched, example = (0, None) if online or model_tokenizes else text_check(rows, job["method"], tokenizer)
    if mismatched:
        print(f"trl_train.py: {mismatched} of {len(rows)} rows' text re-tokenises differently from PrefLab's ids "
              f"(special-token text inside a response, e.g. {example}); training uses PrefLab's ids", flush=True)
    if online:
        import trl_online
        train = trl_online.dataset(job)
    else:
        train = rows_dataset(rows, job["method"], model_tokenizes)
    trainer = Ordered(model=model, args=config, train_dataset=train, processing_class=tokenizer, callbacks=[metrics],
                      **extra)
    holder["trainer"] = trainer
    if online:
        trainer.setup_preflab(job, rows, step_prompts, labeler)
    else:
        check_tokens(trainer, job["method"], model_tokenizes)
    last = last_complete_checkpoint(p["checkpoints"], remove=trainer.is_world_process_zero())
    if last and trainer.is_world_process_zero():
        print(f"trl_train.py: resuming from {os.path.basename(last)}", flush=True)
    if last and online:
        trainer.restore_preflab(last)
    trainer.train(resume_from_checkpoint=last)
    if not trainer.is_world_process_zero():
        return
    values = dict(metrics.last)
    final = trainer.model
    if job.get("lora"):
        final = final.merge_and_unload()
    if job["method"] == "reward_model" and p.get("eval"):
        values["heldout_accuracy"] = heldout_accuracy(final, tokenizer, read_rows(p["eval"], job, tokenizer, model_tokenizes),
                                                      model_tokenizes)
    final.save_pretrained(p["output"], safe_serialization=True)
    tokenizer.save_pretrained(p["output"])
    with open(os.path.join(p["output"], "engine-summary.json"), "w") as f:
        # PrefLab counts an online run's steps in generation steps.
        steps = sum(end <= trainer.state.global_step for end in line_ends(job))
        json.dump({"values": values, "steps": steps, "text_token_mismatches": mismatched,
                   "resumed_from": os.path.basename(last) if last else None}, f, sort_keys=True)


if __name__ == "__main__":
    main()
