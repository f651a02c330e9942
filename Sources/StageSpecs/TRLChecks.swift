import RecipeSpec

/// What PrefLab's TRL bridge cannot run exactly as the embedded engine defines it: the one list of TRL refusals.
/// `validate` reports each at its key's own line (`engine: trl` on the stage or the recipe), and the TRL runner
/// refuses the same list at run time (`TRLMapping.refusals` reads these checks), so the two can never disagree.
/// Each message names what differs in TRL 1.16 and what to do instead.
public enum TRLChecks {
    public typealias Check = @Sendable (ResolvedStage) -> [StageProblem]

    /// Every SFT option maps (AdamW, schedule, batch geometry, clipping, seeds, data order).
    public static let sft: Check = { engineArgs($0) + RecomputeField.refused($0, engine: "TRL") }
    /// Every reward-model option maps (floor schedule, held-out accuracy computed by PrefLab on the imported model).
    public static let rewardModel: Check = { engineArgs($0) + RecomputeField.refused($0, engine: "TRL") }
    /// Offline DPO through TRL's DPOTrainer: the sigmoid loss only; LoRA through peft, from PrefLab's own initial
    /// adapters (the bridge writes them as a peft adapter folder; no dropout, scale alpha / rank as PrefLab's).
    public static let dpo: Check = { stage in
        engineArgs(stage) + dpoLoss(stage, allowed: ["sigmoid"]) + RecomputeField.refused(stage, engine: "TRL")
    }
    /// Online DPO through the bridge's subclass of TRL's OnlineDPOTrainer (its loss is computed by the bridge, so
    /// sigmoid, conservative and summed IPO are exact; SimPO is not bridged), labelled by the static RM or by
    /// `preflab annotate` (gold; Contrastive Distillation's log-likelihoods computed by the bridge from its scorers'
    /// folders, models PrefLab does not read: `SiteModels`); reward_model_gold stays embedded. PrefLab's accuracy probe
    /// (D2PO Fig. 5) runs as d2po's: the bridge scores the judges, `preflab annotate` applies R* and the rule.
    public static let opo: Check = { stage in
        engineArgs(stage) + dpoLoss(stage, allowed: onlineLosses) + RecomputeField.refused(stage, engine: "TRL")
            + (stage.config["labeler"]?.string == "gold" || stage.config["probe_every"]?.int != nil ? goldTask(stage) : [])
    }
    /// D2PO (Algorithm 1) through the bridge's subclass of its online DPO trainer (trl_d2po.py): every discriminator
    /// (reward model, DPO model, self), both selections (random: PrefLab's own permutation of each round), the gold
    /// rounds through `preflab annotate`; the same losses and gold-task limits as opo. PrefLab's accuracy probe (D2PO
    /// Fig. 6) runs: the bridge scores each step's pairs by the judges, `preflab annotate` applies R* and the rule.
    public static let d2po: Check = { stage in
        engineArgs(stage) + dpoLoss(stage, allowed: onlineLosses) + goldTask(stage)
            + RecomputeField.refused(stage, engine: "TRL")
    }

    /// A judge's accuracy (`rm_accuracy`) scored by the bridge's scoring job (trl_score.py: the reward model's head, or
    /// the DPO model's and reference's log-probabilities, through transformers); PrefLab computes the accuracy from the
    /// scores. Its only option is the precision the judge is loaded in.
    public static let rmAccuracy: Check = { engineArgs($0) }

    /// The DPO losses the online bridge computes itself.
    static let onlineLosses: Set<String> = ["sigmoid", "conservative", "ipo"]

    /// Gold labels come from `preflab annotate`, which builds every task's annotator but reward_model_gold's (its R*
    /// is the stage's reward model). Contrastive Distillation's scorers are scored by the bridge itself, which
    /// `SiteModels` allows for scorers PrefLab does not read only.
    static func goldTask(_ stage: ResolvedStage) -> [StageProblem] {
        guard let task = stage.config["task"]?.string, ScorerFields.needs[task] != nil, task != "contrastive_distillation" else { return [] }
        return [StageProblem(key: "task", "`preflab annotate` cannot build \(task)'s gold annotator (it needs the stage's scoring models); not delegated — use engine: embedded")]
    }

    /// The check of `kind` on TRL (nil: the kind does not run there).
    public static func check(kind: String) -> Check? {
        ["sft": sft, "reward_model": rewardModel, "dpo": dpo, "opo": opo, "d2po": d2po, "rm_accuracy": rmAccuracy][kind]
    }

    /// The numeric types the bridge loads weights in (`engine_args.precision`, the site file's `precision:`), by
    /// every spelling accepted: torch's names and the engine descriptors' short ones (`fp32`, the hashed default).
    public static let precisions = ["float32": "float32", "fp32": "float32", "bfloat16": "bfloat16", "bf16": "bfloat16",
                                    "float16": "float16", "fp16": "float16"]

    /// `engine_args` holds only `precision`, one of `precisions` (and the embedded engine's `precision` field is not set).
    static func engineArgs(_ stage: ResolvedStage) -> [StageProblem] {
        var out = PrecisionField.refusal(stage, engine: "TRL")
        guard let args = stage.engineArgs?.entries else { return out }
        for (key, value) in args {
            if key != "precision" {
                out.append(StageProblem(key: "engine_args", "unknown TRL engine option `\(key)`; the bridge reads only `precision`"))
            } else if precisions[value.string ?? ""] == nil {
                let names = precisions.keys.sorted()
                let near = value.string.flatMap { didYouMean($0, among: names) }.map { " (did you mean '\($0)'?)" } ?? ""
                out.append(StageProblem(key: "engine_args", "precision '\(value)' is not one the TRL bridge loads weights in\(near); expected one of \(names.joined(separator: ", "))"))
            }
        }
        return out
    }

    /// The DPO-family loss kinds the trainer computes exactly.
    static func dpoLoss(_ stage: ResolvedStage, allowed: Set<String>) -> [StageProblem] {
        let kind = stage.config.at(path: "loss.kind")?.string ?? "sigmoid"
        guard !allowed.contains(kind) else { return [] }
        let why: String
        switch kind {
        case "ipo": why = "TRL's `ipo` averages the log-ratio per token; PrefLab's IPO sums it over the sequence (Azar et al.)"
        case "conservative": why = "TRL 1.16's DPOTrainer has no conservative DPO (its sigmoid loss ignores label_smoothing; `robust` is a different, unbiased formula)"
        case "simpo": why = "SimPO runs through TRL's CPOTrainer, which the bridge does not drive"
        default: why = "the loss `\(kind)` is not bridged"
        }
        return [StageProblem(key: "loss.kind", "\(why); not delegated — use loss.kind \(allowed.sorted().joined(separator: " or ")) or engine: embedded")]
    }

    static func isSet(_ stage: ResolvedStage, _ key: String) -> Bool {
        stage.config[key].map { !$0.value.isNull } ?? false
    }
}
