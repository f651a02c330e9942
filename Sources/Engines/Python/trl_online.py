# PrefLab's online DPO (OPO, D2PO §3.1) on TRL 1.16: a subclass of TRL's OnlineDPOTrainer (trl.experimental).
#
# Imported by trl_train.py when job["method"] == "opo". TRL's trainer samples two completions per prompt, scores
# them with reward functions and takes one DPO step per batch; PrefLab's OPOTrainer differs in ways that change
# results, so the subclass keeps TRL's model/reference/optimiser/checkpoint machinery and replaces the step:
#   * each generation step g takes PrefLab's prompts of that step (order.json, computed by PrefLab), samples two
#     responses per prompt from the prompt's token ids (PrefLab's, or the model's own tokenizer's: trl_train.py)
#     (the whole step in one left-padded `generate`: HF counts each row's positions from its attention mask, so a
#     prompt's distribution is the one it has alone — checked to 1e-7),
#     labels the pairs (the static RM on the same ids, ties to the first sample; or PrefLab's gold annotator through
#     the `preflab annotate` JSON-lines process, one label per pair, never past the budget; for Contrastive
#     Distillation each request carries the responses' log-likelihoods under the scorers' folders, computed here by
#     trl_text.py's rule — `ContrastiveScorers`), then takes
#     `update_epochs` optimiser steps on those pairs plus the replayed gold pairs of earlier steps;
#   * the loss is PrefLab's (sigmoid, conservative, or IPO on summed log-ratios) as the batch mean, micro-batches
#     weighted by their size; log-probs from right-padded sequences (positions as PrefLab's);
#   * the replay buffer, gold count and the current step's pairs are saved with each HF checkpoint, so a killed
#     run resumes mid-step exactly;
#   * with `probe_every` (D2PO Fig. 5), each step's candidates, before they are labelled, are scored by the judges —
#     the static RM (paths.probe_reward_model: `probe_reward_model`, else the labeller's) and the policy's implicit
#     reward beta * (log pi - log pi_ref) — and sent with the pairs to `preflab annotate --probe-every` (the gold
#     labeller's process, or one started for the probe alone), where PrefLab's AccuracyProbe applies R* and its rule;
#     its window values (probe_*) join the step's line (`probe`, shared with trl_d2po.py).
# Sampling uses torch's generator (seeded per step), PrefLab its own: the two engines draw different responses.
import atexit
import json
import os
import subprocess

import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

import trl_text

STATE = "preflab_online.json"


def fail(message):
    raise SystemExit(f"trl_online.py: {message}")


class RewardModelLabeler:
    """The static reward model: the sample with the higher score is chosen (ties: the first), as PrefLab's."""

    def __init__(self, path, dtype, pad):
        self.model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, dtype=dtype).eval()
        self.pad = pad

    @torch.no_grad()
    def labels(self, rows, cands):
        s = pair_scores(self.model, cands, self.pad)
        return [s1 >= s2 for s1, s2 in s]


def sequence_scores(model, pairs, pad_id):
    """The scalar head's score of each (prompt, response) ids pair at its last token, right-padded in one pass (the
    head reads each sequence's own last position, so pads after it change nothing)."""
    ids, mask, lengths = right_padded([p + r for p, r in pairs], pad_id)
    # The body under its own name (`model` in Llama and OPT, `transformer` in GPT-2): any architecture's scalar head.
    hidden = model.base_model(input_ids=ids, attention_mask=mask).last_hidden_state
    return model.score(hidden)[torch.arange(len(pairs)), lengths - 1, 0].float()


def pair_scores(model, cands, pad_id):
    """(R(x, y1), R(x, y2)) of each candidate under a reward model."""
    s = sequence_scores(model, [(c["prompt"], c[k]) for c in cands for k in ("first", "second")], pad_id).tolist()
    return [(s[2 * i], s[2 * i + 1]) for i in range(len(cands))]


def implicit_scores(model, reference, cands, beta, pad):
    """(R(x, y1), R(x, y2)) per candidate, R = beta * (log pi - log pi_ref) (PrefLab's D2POTrainer.implicitRewards)."""
    seqs = [(c["prompt"], c[s]) for c in cands for s in ("first", "second")]
    r = beta * (sequence_logps(model, seqs, pad) - sequence_logps(reference, seqs, pad))
    return [(r[2 * i].item(), r[2 * i + 1].item()) for i in range(len(cands))]


def right_padded(seqs, pad_id):
    """Ids, attention mask and lengths of `seqs` padded on the right to the longest."""
    width = max(len(s) for s in seqs)
    ids = torch.tensor([s + [pad_id] * (width - len(s)) for s in seqs])
    mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs])
    return ids, mask, torch.tensor([len(s) for s in seqs])


class ContrastiveScorers:
    """Contrastive Distillation's scoring models (job["scorers"]: the stage's scorer_large / scorer_small folders, models
    PrefLab does not read), each with its own tokenizer and window. A response's mean log-likelihood follows trl_text.py's
    `response_logprob_ids`, the rule vLLM's text scoring applies; PrefLab makes R* and the label from them."""

    def __init__(self, scorers, dtype):
        # On this rank's GPU when there is one: the scorers answer every gold label (OPT-1.3b at the paper's scale).
        self.device = torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else torch.device("cpu")
        self.models = [(AutoTokenizer.from_pretrained(scorers[k]),
                        AutoModelForCausalLM.from_pretrained(scorers[k], dtype=dtype).to(self.device).eval(),
                        scorers[f"{k}_window"]) for k in ("large", "small")]

    @torch.no_grad()
    def means(self, messages, response):
        """[large, small]: the response's mean log-likelihood after the messages under each scorer."""
        out = []
        for tokenizer, model, window in self.models:
            ids, k = trl_text.response_logprob_ids(messages, response, tokenizer, window)
            total = trl_text.summed_logprob(model, ids, k)
            out.append(trl_text.mean_logprob(total, k))
        return out


class GoldLabeler:
    """PrefLab's gold annotator (`preflab annotate`): one JSON line per pair (with Contrastive Distillation's
    log-likelihoods when `scorers` are given)."""

    def __init__(self, command, tokenizer, scorers=None):
        self.tokenizer, self.scorers = tokenizer, scorers
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        atexit.register(self.close)

    def close(self):
        """Ends the annotator process (it stops at the end of its input)."""
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)

    def text(self, ids):
        """The response as PrefLab's annotator reads it: decoded without its closing EOS."""
        body = ids[:-1] if ids and ids[-1] == self.tokenizer.eos_token_id else ids
        return self.tokenizer.decode(body, skip_special_tokens=False, clean_up_tokenization_spaces=False)

    def labels(self, rows, cands):
        return [self.first_wins(rows[c["row"]], c["first"], c["second"]) for c in cands]

    def request(self, row, first, second):
        """A pair as `preflab annotate` reads it: the prompt, both texts (and CD's log-likelihoods)."""
        request = {"prompt": json.loads(row["prompt_json"]), "a": self.text(first), "b": self.text(second)}
        if self.scorers:
            messages = request["prompt"]["messages"]
            request["log_likelihoods"] = {k: self.scorers.means(messages, request[k]) for k in ("a", "b")}
        return request

    def ask(self, request):
        """One request line to the annotator process, its reply line parsed (a refusal ends the run)."""
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            fail(f"`{' '.join(self.process.args)}` ended without answering")
        reply = json.loads(line)
        if "error" in reply:
            fail(f"the gold annotator refused a request: {reply['error']}")
        return reply

    def first_wins(self, row, first, second):
        return self.answer(self.request(row, first, second))

    def answer(self, request):
        """Whether the annotator prefers the request's first response."""
        return self.ask(request)["preferred"] == 0


def sequence_logps(model, pairs, pad_id):
    """Σ log π(response | prompt) of each (prompt, response) ids pair, right-padded in one forward pass."""
    ids, mask, _ = right_padded([p + r for p, r in pairs], pad_id)
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
    token = torch.gather(logits.log_softmax(-1), 2, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    keep = torch.zeros_like(token)
    for i, (p, r) in enumerate(pairs):
        keep[i, len(p) - 1:len(p) - 1 + len(r)] = 1
    return (token * keep).sum(1)


def dpo_losses(loss, chosen, rejected, ref_chosen, ref_rejected):
    """PrefLab's Losses.dpo per pair: m = β·h with h the summed log-ratio gap."""
    beta = loss["beta"]
    m = beta * ((chosen - ref_chosen) - (rejected - ref_rejected))
    if loss["type"] == "sigmoid":
        return -F.logsigmoid(m), m
    if loss["type"] == "conservative":
        e = loss["label_smoothing"]
        return -(1 - e) * F.logsigmoid(m) - e * F.logsigmoid(-m), m
    if loss["type"] == "ipo":
        return (m / beta - 1 / (2 * beta)) ** 2, m
    fail(f"loss {loss['type']} is not bridged")


def ordered(candidate, first_wins):
    """The candidate as a (chosen, rejected) pair: ties and first wins keep the sampled order."""
    first, second = candidate["first"], candidate["second"]
    chosen, rejected = (first, second) if first_wins else (second, first)
    return {"prompt": candidate["prompt"], "chosen": chosen, "rejected": rejected}


def dpo_accumulate(model, pairs, loss, micro, pad, backward):
    """Gradient of the batch-mean DPO loss (PrefLab's DPOUpdate.accumulate), micro-batches weighted by size, against
    the pairs' `ref_chosen`/`ref_rejected`; returns loss, accuracy, margin."""
    n = len(pairs)
    total = [0.0, 0.0, 0.0]
    for lo in range(0, n, micro):
        part = pairs[lo:lo + micro]
        lp = sequence_logps(model, [(p["prompt"], p["chosen"]) for p in part]
                            + [(p["prompt"], p["rejected"]) for p in part], pad)
        m = len(part)
        ref_c = torch.tensor([p["ref_chosen"] for p in part])
        ref_r = torch.tensor([p["ref_rejected"] for p in part])
        losses, margins = dpo_losses(loss, lp[:m], lp[m:], ref_c, ref_r)
        backward(losses.sum() / n)
        total[0] += losses.sum().item() / n
        total[1] += (margins > 0).float().sum().item() / n
        total[2] += margins.sum().item() / n
    return total


def trainer_class(base_module):
    """The OnlineDPOTrainer subclass (built lazily: trl.experimental warns on import)."""
    from trl.experimental.online_dpo import OnlineDPOTrainer

    class PrefLabOnlineDPO(OnlineDPOTrainer):
        def setup_preflab(self, job, rows, steps, labeler):
            self.job, self.rows, self.step_prompts, self.labeler = job, rows, steps, labeler
            self.online = job["online"]
            self.state_extra = {"gold_used": 0, "replay": [], "pairs": None, "pairs_step": -1}
            self.stats = {k: [] for k in ("preflab/accuracy", "preflab/margin", "preflab/kl",
                                          "preflab/gold_used")}
            self.setup_probe(labeler)

        def setup_probe(self, labeler):
            """With `probe_every`: the annotator that answers the probe (the gold labeller, else one of its own) and the
            probe's static RM (a frozen load, or the static labeller's own model when it is the same folder)."""
            self.prober, self.probe_rm = None, None
            if not self.online.get("probe_every"):
                return
            dtype, pad = next(self.model.parameters()).dtype, self.processing_class.pad_token_id
            self.prober = labeler if isinstance(labeler, GoldLabeler) else gold_labeler(self.job, self.processing_class, dtype)
            path = self.job["paths"].get("probe_reward_model")
            if path and isinstance(labeler, RewardModelLabeler) and path == self.job["paths"].get("reward_model"):
                self.probe_rm = labeler.model
            elif path:
                self.probe_rm = RewardModelLabeler(path, dtype, pad).model

        @torch.no_grad()
        def probe(self, model, cands, g, judges, requests=None):
            """PrefLab's accuracy probe of step g's candidates before its update: `judges` (name: (R1, R2) per candidate)
            with the static RM's and the implicit reward's scores, sent to `preflab annotate`, whose AccuracyProbe
            answers the window's probe_* values at its end (else none). `requests`: the candidates' annotator requests
            when the caller has made them already (they carry CD's scorer passes)."""
            pad = self.processing_class.pad_token_id
            judges = dict(judges, implicit=implicit_scores(self.accelerator.unwrap_model(model), self.ref_model, cands,
                                                           self.job["loss"]["beta"], pad))
            if self.probe_rm is not None:
                judges["static_rm"] = pair_scores(self.probe_rm, cands, pad)
            pairs = requests or self.requests(cands)
            request = {"step": g + 1, "total": len(self.online["line_ends"]), "pairs": pairs,
                       "judges": {k: [list(s) for s in v] for k, v in judges.items()}}
            return self.prober.ask({"probe": request})["probe"]

        def requests(self, cands):
            """The candidates as `preflab annotate` reads them (with CD's log-likelihoods when the task has scorers)."""
            return [self.prober.request(self.rows[c["row"]], c["first"], c["second"]) for c in cands]

        def restore_preflab(self, checkpoint):
            with open(os.path.join(checkpoint, STATE)) as f:
                self.state_extra = json.load(f)
            self.restore_extra(checkpoint)

        def save_extra(self, folder):
            """Further state a subclass keeps with each checkpoint (D2PO: its discriminator)."""

        def restore_extra(self, checkpoint):
            """Reads what `save_extra` wrote."""

        def _save_checkpoint(self, model, trial):
            # Written before HF's files: a checkpoint counts as complete only once trainer_state.json exists.
            folder = os.path.join(self.args.output_dir, f"checkpoint-{self.state.global_step}")
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, STATE), "w") as f:
                json.dump(self.state_extra, f)
            self.save_extra(folder)
            super()._save_checkpoint(model, trial)

        @torch.no_grad()
        def sample_candidates(self, model, g):
            """Two responses per prompt of step g: (row, first, second) each, as PrefLab's OnlinePairs.sample. All of
            the step's prompts in one `generate`, padded on the left: HF derives each row's positions from the
            attention mask (first real token at 0), so every prompt is sampled from the same distribution as alone."""
            o, tok = self.online, self.processing_class
            torch.manual_seed(self.job["seed"] * 1_000_003 + g)
            prompts = [self.rows[i]["prompt_ids"] for i in self.step_prompts[g]]
            width = max(len(p) for p in prompts)
            ids = torch.tensor([[tok.pad_token_id] * (width - len(p)) + p for p in prompts])
            mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
            out = model.generate(input_ids=ids, attention_mask=mask, do_sample=True, max_new_tokens=o["max_new_tokens"],
                                 temperature=o["temperature"], top_p=o["top_p"], top_k=0, num_return_sequences=2,
                                 eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)[:, width:].tolist()
            return [{"row": index, "prompt": prompts[i], "first": self.response(out[2 * i]),
                     "second": self.response(out[2 * i + 1])} for i, index in enumerate(self.step_prompts[g])]

        @torch.no_grad()
        def sample_pairs(self, model, g):
            """Two responses per prompt of step g, labelled; with reference log-probs (the reference is frozen)."""
            cands = self.sample_candidates(model, g)
            # A gold run's probe and labels ask the same annotator about the same pairs: one set of requests (CD's
            # scorer passes made once), the probe's first, as the embedded OPOTrainer records before it labels.
            requests = self.requests(cands) if self.prober else None
            self.state_extra["probed"] = self.probe(model, cands, g, {}, requests) if self.prober else {}
            if self.prober is not None and self.prober is self.labeler:
                wins = [self.labeler.answer(r) for r in requests]
            else:
                wins = self.labeler.labels(self.rows, cands)
            if self.online["labeler"] == "gold":
                self.state_extra["gold_used"] += len(cands)
            pairs = [ordered(c, w) for c, w in zip(cands, wins)]
            self.reference_logps(pairs)
            return pairs

        def response(self, ids):
            """Generated ids up to and including the first EOS (HF pads the rest)."""
            eos = self.processing_class.eos_token_id
            return ids[:ids.index(eos) + 1] if eos in ids else ids

        @torch.no_grad()
        def reference_logps(self, pairs):
            """The frozen reference's summed log-probs of every pair's responses, in micro-batches of pairs."""
            pad, micro = self.processing_class.pad_token_id, self.job["batch"]["micro_batch"]
            for lo in range(0, len(pairs), micro):
                part = pairs[lo:lo + micro]
                lp = sequence_logps(self.ref_model, [(p["prompt"], p[s]) for p in part for s in ("chosen", "rejected")],
                                    pad).tolist()
                for i, p in enumerate(part):
                    p["ref_chosen"], p["ref_rejected"] = lp[2 * i], lp[2 * i + 1]

        def training_step(self, model, inputs, num_items_in_batch=None):
            model.train()
            k = int(inputs["step"][0])
            g, epoch = divmod(k, self.online["update_epochs"])
            extra = self.state_extra
            if extra["pairs_step"] != g:
                # Replayed pairs come from before this step; this step's join the buffer after its last update.
                new = self.sample_pairs(self.accelerator.unwrap_model(model), g)
                extra.update(pairs=new + extra["replay"], pairs_step=g, new=len(new), kl=self.mean_kl(model, new))
            pairs = extra["pairs"]
            self.preflab_values = dict(extra.get("probed", {}))  # the step's probe window, on its metrics line
            loss, accuracy, margin = self.accumulate(model, pairs)
            if epoch == self.online["update_epochs"] - 1 and self.online["replay_last"] > 0:
                extra["replay"] = (extra["replay"] + pairs[:extra["new"]])[-self.online["replay_last"]:]
            for name, value in (("accuracy", accuracy), ("margin", margin), ("kl", extra["kl"]),
                                ("gold_used", extra["gold_used"])):
                self.stats[f"preflab/{name}"].append(float(value))
            return torch.tensor(loss)

        @torch.no_grad()
        def mean_kl(self, model, pairs):
            """Mean log π/π_ref over the step's fresh responses before its updates (PrefLab's `kl`)."""
            pad = self.processing_class.pad_token_id
            seqs = [(p["prompt"], p[side]) for p in pairs for side in ("chosen", "rejected")]
            ref = [p[f"ref_{side}"] for p in pairs for side in ("chosen", "rejected")]
            lp = sequence_logps(model, seqs, pad)
            return (lp - torch.tensor(ref)).mean().item()

        def accumulate(self, model, pairs):
            """Gradient of the batch-mean loss, micro-batches weighted by size; returns loss, accuracy, margin."""
            return dpo_accumulate(model, pairs, self.job["loss"], self.job["batch"]["micro_batch"],
                                  self.processing_class.pad_token_id, self.accelerator.backward)

    return PrefLabOnlineDPO


def online_setup(job, dtype, common):
    """The OnlineDPOConfig, starting model and extra trainer arguments shared by opo and d2po: one dataset row per
    optimiser step, one step per row."""
    from transformers import AutoModelForCausalLM
    from trl.experimental.online_dpo import OnlineDPOConfig
    o, p = job["online"], job["paths"]
    config = OnlineDPOConfig(beta=[job["loss"]["beta"]], max_new_tokens=o["max_new_tokens"], temperature=o["temperature"],
                             top_p=o["top_p"], top_k=0, disable_dropout=True, remove_unused_columns=False,
                             **{**common, "per_device_train_batch_size": 1, "gradient_accumulation_steps": 1,
                                "num_train_epochs": 1})
    model = AutoModelForCausalLM.from_pretrained(p["model"], dtype=dtype)
    # TRL requires a reward function; the subclass labels pairs itself (PrefLab's rules), so this one is never called.
    extra = {"reward_funcs": [lambda **kwargs: fail("TRL's reward path is not used")],
             "data_collator": lambda rows: {"step": [r["step"] for r in rows]}}
    return config, model, extra


def build(job, tokenizer, dtype, common):
    """The trainer class, config, model and extra arguments for trl_train.py's `build`."""
    o, p = job["online"], job["paths"]
    config, model, extra = online_setup(job, dtype, common)
    if o["labeler"] == "gold":
        labeler = gold_labeler(job, tokenizer, dtype)
    else:
        labeler = RewardModelLabeler(p["reward_model"], dtype, tokenizer.pad_token_id)
    return trainer_class(None), config, model, extra, labeler


def gold_labeler(job, tokenizer, dtype):
    """`preflab annotate`, with Contrastive Distillation's scorers when the job names them."""
    scorers = ContrastiveScorers(job["scorers"], dtype) if job.get("scorers") else None
    return GoldLabeler(job["online"]["annotator"], tokenizer, scorers)


def dataset(job):
    """One row per optimiser step (generation step × update epoch), in order."""
    from datasets import Dataset
    return Dataset.from_list([{"step": k} for k in range(job["schedule"]["total_steps"])])
