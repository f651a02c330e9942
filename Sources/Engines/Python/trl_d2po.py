# PrefLab's D2PO (D2PO paper, Algorithm 1) on TRL 1.16: a subclass of the bridge's online DPO trainer (trl_online.py),
# itself a subclass of TRL's OnlineDPOTrainer.
#
# Imported by trl_train.py when job["method"] == "d2po". It follows PrefLab's D2POTrainer step for step:
#   * every generation step g samples two responses for each of PrefLab's prompts of that step (order.json: the
#     trainer's cyclic batches), silver-labels them with the discriminator (first wins ties), and takes one DPO
#     step (L4-8); while gold budget remains the step's candidates are kept (L6);
#   * every `steps_per_round` steps, while budget remains, a gold round (L9-17): all kept candidates are rescored by
#     the discriminator as it is now, `gold_per_round` of them chosen (smallest |R(y1) - R(y2)|, ties to the earlier;
#     or PrefLab's own random permutation of that round, computed by PrefLab into job["d2po"]["selection_orders"]),
#     labelled by PrefLab's gold annotator (`preflab annotate`, never past the budget); then `gold_update_epochs`
#     times: one discriminator step on the gold pairs (Bradley-Terry for a reward model, sigmoid DPO with beta_d for a
#     DPO discriminator, none for the policy itself), then one policy DPO step on them; the candidates are dropped;
#   * one HF optimiser step per policy update (so a generation step spans 1 or 1 + gold_update_epochs HF steps,
#     job["online"]["line_ends"]); the policy's rate is constant, as PrefLab's; the discriminator has its own AdamW
#     (PrefLab's beta2 0.95, eps 1e-5, no decay), rate and gradient clip, saved with each HF checkpoint together with
#     the kept candidates, the round's gold pairs and the gold count, so a killed run resumes mid-round exactly.
#   * with `probe_every` (D2PO Fig. 6), each step's candidates, before its update, are scored by the judges — the
#     discriminator's silver scores, the static RM (paths.probe_reward_model: a fresh, frozen load) and the policy's
#     implicit reward beta * (log pi - log pi_ref) — and sent with the pairs to `preflab annotate --probe-every`, where
#     PrefLab's AccuracyProbe applies R* and its accuracy rule (trl_online's `probe`); its window values (probe_*)
#     join the step's line.
# Sampling uses torch's generator (seeded per step), PrefLab its own: the two engines draw different responses.
import os

import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

import trl_online

DISCRIMINATOR = "preflab_discriminator.pt"


def adamw(model, job, lr):
    """PrefLab's AdamW (job["optimizer"]'s betas and eps, no decay) at a constant rate."""
    o = job["optimizer"]
    return torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=lr, betas=(o["beta1"], o["beta2"]),
                             eps=o["eps"], weight_decay=o["weight_decay"])


def optimiser_step(model, optimiser, max_norm):
    """PrefLab's TrainerKit.optimiserStep: global-norm clip (0: none), step, zero the gradients."""
    if max_norm > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimiser.step()
    optimiser.zero_grad(set_to_none=True)


class RewardModelDiscriminator:
    """A Bradley-Terry reward model (D2PO-RM), scored on PrefLab's ids (right-padded, read at each sequence's last
    token), updated with the batch-mean BT loss, micro-batches weighted by size (PrefLab's RewardUpdate)."""

    def __init__(self, job, dtype, pad):
        d = job["d2po"]
        self.model = AutoModelForSequenceClassification.from_pretrained(job["paths"]["discriminator"], num_labels=1,
                                                                        dtype=dtype)
        self.job, self.pad, self.optimiser = job, pad, adamw(self.model, job, d["discriminator_learning_rate"])

    @torch.no_grad()
    def scores(self, cands):
        self.model.eval()
        return trl_online.pair_scores(self.model, cands, self.pad)

    def update(self, gold):
        self.model.train()
        n, micro, loss = len(gold), self.job["batch"]["micro_batch"], 0.0
        for lo in range(0, n, micro):
            part = gold[lo:lo + micro]
            s = trl_online.sequence_scores(self.model, [(p["prompt"], p[k]) for p in part for k in ("chosen", "rejected")],
                                           self.pad)
            losses = -F.logsigmoid(s[0::2] - s[1::2])
            (losses.sum() / n).backward()
            loss += losses.sum().item() / n
        optimiser_step(self.model, self.optimiser, self.job["max_grad_norm"])
        return loss


class DPODiscriminator:
    """A separate DPO model (D2PO-DPO): implicit reward beta_d * (log pi_d - log pi_ref) over the summed response
    log-probs, updated with the sigmoid DPO loss at beta_d against its frozen reference."""

    def __init__(self, job, dtype, pad):
        p, d = job["paths"], job["d2po"]
        self.model = AutoModelForCausalLM.from_pretrained(p["discriminator"], dtype=dtype)
        self.reference = AutoModelForCausalLM.from_pretrained(p["discriminator_reference"], dtype=dtype).eval()
        self.job, self.pad, self.beta = job, pad, d["discriminator_beta"]
        self.optimiser = adamw(self.model, job, d["discriminator_learning_rate"])

    @torch.no_grad()
    def scores(self, cands):
        self.model.eval()
        return trl_online.implicit_scores(self.model, self.reference, cands, self.beta, self.pad)

    def update(self, gold):
        self.model.train()
        with torch.no_grad():
            ref = trl_online.sequence_logps(self.reference, [(p["prompt"], p[s]) for p in gold
                                                             for s in ("chosen", "rejected")], self.pad)
        pairs = [{**p, "ref_chosen": ref[2 * i].item(), "ref_rejected": ref[2 * i + 1].item()} for i, p in enumerate(gold)]
        loss, _, _ = trl_online.dpo_accumulate(self.model, pairs, {"type": "sigmoid", "beta": self.beta},
                                               self.job["batch"]["micro_batch"], self.pad, lambda x: x.backward())
        optimiser_step(self.model, self.optimiser, self.job["max_grad_norm"])
        return loss


class SelfDiscriminator:
    """The policy itself (D2PO-self): implicit reward beta * (log pi - log pi_ref); its gold update is the policy's."""

    def __init__(self, trainer):
        self.trainer = trainer

    @torch.no_grad()
    def scores(self, cands):
        t = self.trainer
        model = t.accelerator.unwrap_model(t.model)
        return trl_online.implicit_scores(model, t.ref_model, cands, t.job["loss"]["beta"], t.processing_class.pad_token_id)

    def update(self, gold):
        return None


def select(n, scores, d2po, step):
    """L11: `n` candidate indices, by smallest |R1 - R2| (ties: earlier first) or PrefLab's permutation of the round."""
    if d2po["selection"] == "confidence":
        return sorted(range(len(scores)), key=lambda i: (abs(scores[i][0] - scores[i][1]), i))[:n]
    order = d2po["selection_orders"][str(step)]
    if len(order) != len(scores):
        trl_online.fail(f"step {step}: PrefLab's selection order covers {len(order)} candidates, the round has {len(scores)}")
    return order[:n]


def trainer_class():
    base = trl_online.trainer_class(None)

    class PrefLabD2PO(base):
        def setup_preflab(self, job, rows, steps, labeler):
            super().setup_preflab(job, rows, steps, labeler)
            self.d2po, self.stats, self.preflab_values = job["d2po"], {}, {}
            self.state_extra = {"gold_used": 0, "candidates": [], "gold": [], "values": {}}
            self.line_ends = job["online"]["line_ends"]
            kind = self.d2po["discriminator"]
            pad = self.processing_class.pad_token_id
            dtype = next(self.model.parameters()).dtype
            self.discriminator = (RewardModelDiscriminator(job, dtype, pad) if kind == "reward_model"
                                  else DPODiscriminator(job, dtype, pad) if kind == "dpo" else SelfDiscriminator(self))

        def save_extra(self, folder):
            d = self.discriminator
            if hasattr(d, "optimiser"):
                torch.save({"model": d.model.state_dict(), "optimiser": d.optimiser.state_dict()},
                           os.path.join(folder, DISCRIMINATOR))

        def restore_extra(self, checkpoint):
            d = self.discriminator
            if hasattr(d, "optimiser"):
                saved = torch.load(os.path.join(checkpoint, DISCRIMINATOR), weights_only=True)
                d.model.load_state_dict(saved["model"])
                d.optimiser.load_state_dict(saved["optimiser"])

        def locate(self, k):
            """Generation step and offset of optimiser step k (offset 0: the silver update, then the gold updates)."""
            g = next(i for i, end in enumerate(self.line_ends) if k < end)
            return g, k - (self.line_ends[g - 1] if g else 0)

        def training_step(self, model, inputs, num_items_in_batch=None):
            model.train()
            g, offset = self.locate(int(inputs["step"][0]))
            loss = self.silver_step(model, g) if offset == 0 else self.gold_step(model, g, offset - 1)
            self.state_extra["values"]["gold_used"] = float(self.state_extra["gold_used"])
            self.preflab_values = dict(self.state_extra["values"])
            return torch.tensor(loss)

        def silver_step(self, model, g):
            """L4-8 (and L6): sample, silver-label with the discriminator, one DPO step on the silver pairs."""
            extra = self.state_extra
            cands = self.sample_candidates(self.accelerator.unwrap_model(model), g)
            scores = self.discriminator.scores(cands)
            probed = {}
            if self.prober:
                requests = self.requests(cands)
                probed = self.probe(model, cands, g, {"discriminator": scores}, requests)
                if self.prober is self.labeler:
                    # The gold round asks the same annotator about some of these pairs: it reuses their requests
                    # (kept with the candidates, so checkpointed), not a second pass of CD's scorers.
                    cands = [dict(c, request=r) for c, r in zip(cands, requests)]
            silver = [trl_online.ordered(c, s1 >= s2) for c, (s1, s2) in zip(cands, scores)]
            self.reference_logps(silver)
            kl = self.mean_kl(model, silver)
            loss, accuracy, margin = self.accumulate(model, silver)
            if extra["gold_used"] < self.online["gold_budget"]:
                extra["candidates"] += cands
            extra["values"] = {"loss": loss, "accuracy": accuracy, "margin": margin, "kl": kl, **probed}
            return loss

        def gold_step(self, model, g, epoch):
            """L11-17: on the round's first update select and gold-label; each update: discriminator, then policy."""
            extra = self.state_extra
            if epoch == 0:
                self.gold_round(g)
            gold = extra["gold"]
            disc_loss = self.discriminator.update(gold)
            if disc_loss is not None:
                extra["values"]["disc_loss"] = disc_loss
            loss, _, _ = self.accumulate(model, gold)
            extra["values"]["gold_loss"] = loss
            return loss

        def gold_round(self, g):
            extra, budget = self.state_extra, self.online["gold_budget"]
            cands = extra["candidates"]
            n = min(self.d2po["gold_per_round"], budget - extra["gold_used"], len(cands))
            scores = self.discriminator.scores(cands)
            gold, agree, reused = [], 0, 0
            for i in select(n, scores, self.d2po, g):
                if extra["gold_used"] >= budget:
                    break
                c = cands[i]
                reused += "request" in c
                first_wins = (self.labeler.answer(c["request"]) if "request" in c
                              else self.labeler.first_wins(self.rows[c["row"]], c["first"], c["second"]))
                extra["gold_used"] += 1
                gold.append(trl_online.ordered(cands[i], first_wins))
                agree += first_wins == (scores[i][0] >= scores[i][1])
            self.reference_logps(gold)
            if self.is_world_process_zero():
                print(f"trl_d2po.py: gold round at step {g + 1}: {len(gold)} labels, {reused} from the probe's requests",
                      flush=True)
            extra.update(gold=gold, candidates=[])
            extra["values"].update(gold_round=1.0, silver_agreement=agree / max(len(gold), 1))

    return PrefLabD2PO


def build(job, tokenizer, dtype, common):
    """The trainer class, config, model, extra arguments and gold labeller for trl_train.py's `build`."""
    config, model, extra = trl_online.online_setup(job, dtype, common)
    return trainer_class(), config, model, extra, trl_online.gold_labeler(job, tokenizer, dtype)
