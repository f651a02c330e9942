import Hyperparameters
import RecipeSpec

// Kinds that measure: evaluations whose metrics tables read.
extension StageSpecs {
    /// `gold_reward`: R* of a policy's samples on held-out prompts, and its KL to a reference policy.
    public static let goldReward = StageSpec(StageSchema(
        kind: "gold_reward", summary: "Mean gold reward of a policy on held-out prompts (and KL to a reference).",
        // 2: `std` divides by n (Evaluation.goldReward), as every std PrefLab reports; 1 divided by n − 1.
        codeVersion: 2, outputs: [.evaluation],
        engines: VLLMChecks.generating,
        check: ScorerFields.check,
        fields: [
            FieldSchema("policy", .stageRef(accepts: [.policy]), doc: "Policy to evaluate."),
            FieldSchema("reference", .stageRef(accepts: [.policy]), optional: true,
                        doc: "Policy to measure KL against (usually the SFT policy)."),
            FieldSchema("task", .string, doc: "Gold task: held-out prompts and R*."),
            FieldSchema("prompts", .int, default: .int(200), doc: "Held-out prompts (the D2PO paper uses 200)."),
            FieldSchema("samples", .int, default: .int(1), doc: "Samples per prompt."),
            FieldSchema("temperature", .double, default: .double(0.7), doc: "Sampling temperature."),
            FieldSchema("top_p", .double, default: .double(1.0), doc: "Nucleus mass."),
            FieldSchema("max_new_tokens", .int, default: .int(48), doc: "Longest response in tokens."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of prompts and samples."),
        ] + ScorerFields.fields),
        layout: .samples, fingerprint: nil)

    /// `rm_accuracy`: a reward model's pairwise accuracy on held-out pairs, or on pairs sampled from
    /// a policy checkpoint and labelled by the gold reward (D2PO Figs 5, 6: accuracy under the
    /// distribution shift of policy training).
    public static let rmAccuracy = StageSpec(StageSchema(
        kind: "rm_accuracy",
        summary: "Pairwise accuracy of a reward model on held-out pairs, or on gold-labelled samples of a policy.",
        codeVersion: 1, outputs: [.evaluation],
        // On TRL: the judge's scores (and the on-policy samples) from a transformers job, the accuracy PrefLab's own.
        engines: [.embedded, EngineSupport(Engines.trl.name, check: TRLChecks.rmAccuracy)],
        check: ScorerFields.check,
        fields: [
            FieldSchema("reward_model", .stageRef(accepts: [.rewardModel]), optional: true,
                        doc: "Reward model to evaluate (or set dpo_model)."),
            FieldSchema("dpo_model", .stageRef(accepts: [.policy]), optional: true,
                        doc: "A DPO policy judged by its implicit reward log π − log π_ref instead of a reward model."),
            FieldSchema("reference", .stageRef(accepts: [.policy]), optional: true, doc: "π_ref of `dpo_model`."),
            FieldSchema("preferences", .stageRef(accepts: [.preferences]), optional: true,
                        doc: "Pairs whose held-out split is scored (set this or `policy`)."),
            FieldSchema("policy", .stageRef(accepts: [.policy]), optional: true,
                        doc: "Policy whose samples (two per held-out prompt, R* ties dropped) are scored instead."),
            FieldSchema("task", .string, optional: true, doc: "Gold task labelling the policy's samples."),
            FieldSchema("prompts", .int, optional: true, doc: "Held-out prompts sampled from the policy (default 200)."),
            FieldSchema("max_new_tokens", .int, optional: true, doc: "Longest sampled response (default 48)."),
            FieldSchema("seed", .int, optional: true, doc: "Seed of prompts and samples (default 0)."),
        ] + ScorerFields.fields),
        layout: .metricsOnly, fingerprint: nil)

    /// `best_of_n`: gold reward of the best of N samples by a reward model (Unpacking Table 3).
    public static let bestOfN = StageSpec(StageSchema(
        kind: "best_of_n", summary: "Best-of-N sampling with a reward model, scored by the gold reward.", codeVersion: 1, outputs: [.evaluation],
        engines: VLLMChecks.generating,
        check: ScorerFields.check,
        fields: [
            FieldSchema("policy", .stageRef(accepts: [.policy]), doc: "Policy that proposes the N samples."),
            FieldSchema("reward_model", .stageRef(accepts: [.rewardModel]), doc: "Reward model that picks the best."),
            FieldSchema("task", .string, doc: "Gold task: held-out prompts and R*."),
            FieldSchema("n", .int, default: .int(16), doc: "Samples per prompt (Unpacking Table 3: 16)."),
            FieldSchema("prompts", .int, default: .int(100), doc: "Held-out prompts."),
            FieldSchema("temperature", .double, default: .double(0.7), doc: "Sampling temperature (App. H: 0.7)."),
            FieldSchema("max_new_tokens", .int, default: .int(48), doc: "Longest response in tokens."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of prompts and samples."),
        ] + ScorerFields.fields),
        layout: .metricsOnly, fingerprint: nil)

    /// `category_scores`: a policy's gold reward per evaluation category of an aspect-scored task
    /// (the simulated world's reasoning, instruction following, safety and style), plus the mean.
    public static let categoryScores = StageSpec(StageSchema(
        kind: "category_scores", summary: "Per-category gold scores of a policy on the simulated world's held-out prompts.",
        // 2: records the measured per-prompt spread (`<category>_std`, `<category>_n`, `mean_se`).
        codeVersion: 2, outputs: [.evaluation], engines: VLLMChecks.generating,
        fields: [
            FieldSchema("policy", .stageRef(accepts: [.policy]), doc: "Policy to evaluate."),
            FieldSchema("task", .string, default: .string("world"), doc: "An aspect-scored task whose prompts carry a category."),
            FieldSchema("prompts", .int, default: .int(400), doc: "Held-out prompts, drawn across categories."),
            FieldSchema("temperature", .double, default: .double(0.7), doc: "Sampling temperature."),
            FieldSchema("max_new_tokens", .int, default: .int(48), doc: "Longest response in tokens."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of prompts and samples."),
        ]),
        layout: .metricsOnly, fingerprint: nil)
}
