import Foundation
import Pipeline
import Preference
import RecipeSpec

/// `gold_reward`: R* of a policy's samples on held-out prompts, and its KL to a reference policy.
struct GoldRewardStage: StageRunner {
    static let kind = StageKind(schema: StageSchema(
        kind: "gold_reward", summary: "Mean gold reward of a policy on held-out prompts (and KL to a reference).",
        codeVersion: 1,
        fields: [
            FieldSchema("policy", .stageRef(kinds: policyKinds), doc: "Policy to evaluate."),
            FieldSchema("reference", .stageRef(kinds: policyKinds), optional: true,
                        doc: "Policy to measure KL against (usually the SFT policy)."),
            FieldSchema("task", .string, doc: "Gold task: held-out prompts and R*."),
            FieldSchema("prompts", .int, default: .int(200), doc: "Held-out prompts (the D2PO paper uses 200)."),
            FieldSchema("samples", .int, default: .int(1), doc: "Samples per prompt."),
            FieldSchema("temperature", .double, default: .double(0.7), doc: "Sampling temperature."),
            FieldSchema("top_p", .double, default: .double(1.0), doc: "Nucleus mass."),
            FieldSchema("max_new_tokens", .int, default: .int(48), doc: "Longest response in tokens."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of prompts and samples."),
        ] + ScorerFields.fields), runner: GoldRewardStage())

    func run(_ context: NodeContext) throws {
        let task = try context.goldTask()
        let policy = try ModelArtifact.loadPolicy(from: context.requiredInput("policy"))
        let seed = UInt64(try context.int("seed"))
        let prompts = task.prompts(count: try context.int("prompts"), split: .heldOut, seed: seed)
        let options = SamplingOptions(maxNewTokens: try context.int("max_new_tokens"),
                                      temperature: try context.double("temperature"),
                                      topP: try context.double("top_p"), seed: seed)
        let samples = Evaluation.sample(policy: policy, prompts: prompts, samplesPerPrompt: try context.int("samples"),
                                        options: options)
        let perPrompt = max(1, try context.int("samples"))
        let rewards = samples.enumerated().map { i, s in task.reward(prompt: prompts[i / perPrompt], response: s.text) }
        let mean = rewards.reduce(0, +) / Double(max(rewards.count, 1))
        let variance = rewards.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(rewards.count - 1, 1))
        var summary = ["mean": mean, "std": variance.squareRoot(), "count": Double(rewards.count),
                       "truncated": Double(samples.filter(\.hitLengthLimit).count) / Double(max(samples.count, 1)),
                       "mean_length": samples.reduce(0.0) { $0 + Double($1.pair.response.count) } / Double(max(samples.count, 1))]
        if let refDir = context.inputs["reference"] {
            let reference = try ModelArtifact.loadPolicy(from: refDir)
            summary["kl"] = try Evaluation.klToReference(policy: policy, reference: reference, samples: samples)
        }
        let records = samples.enumerated().map { i, s in
            EvaluatedSample(prompt: prompts[i / perPrompt].lastUserText, response: s.text, reward: rewards[i])
        }
        try JSONLines.write(records, to: context.outputDirectory.appendingPathComponent("samples.jsonl"))
        context.reporter.summary(summary)
    }
}

/// One evaluated sample, kept beside the metrics so a number can be traced to text.
struct EvaluatedSample: Codable {
    var prompt: String
    var response: String
    var reward: Double
}

/// `rm_accuracy`: a reward model's pairwise accuracy on held-out pairs, or on pairs sampled from
/// a policy checkpoint and labelled by the gold reward (D2PO Figs 5, 6: accuracy under the
/// distribution shift of policy training).
struct RewardAccuracyStage: StageRunner {
    static let kind = StageKind(schema: StageSchema(
        kind: "rm_accuracy",
        summary: "Pairwise accuracy of a reward model on held-out pairs, or on gold-labelled samples of a policy.",
        codeVersion: 1,
        fields: [
            FieldSchema("reward_model", .stageRef(kinds: rewardModelKinds), optional: true,
                        doc: "Reward model to evaluate (or set dpo_model)."),
            FieldSchema("dpo_model", .stageRef(kinds: policyKinds), optional: true,
                        doc: "A DPO policy judged by its implicit reward log π − log π_ref instead of a reward model."),
            FieldSchema("reference", .stageRef(kinds: policyKinds), optional: true, doc: "π_ref of `dpo_model`."),
            FieldSchema("preferences", .stageRef(kinds: preferenceKinds), optional: true,
                        doc: "Pairs whose held-out split is scored (set this or `policy`)."),
            FieldSchema("policy", .stageRef(kinds: policyKinds), optional: true,
                        doc: "Policy whose samples (two per held-out prompt, R* ties dropped) are scored instead."),
            FieldSchema("task", .string, optional: true, doc: "Gold task labelling the policy's samples."),
            FieldSchema("prompts", .int, optional: true, doc: "Held-out prompts sampled from the policy (default 200)."),
            FieldSchema("max_new_tokens", .int, optional: true, doc: "Longest sampled response (default 48)."),
            FieldSchema("seed", .int, optional: true, doc: "Seed of prompts and samples (default 0)."),
        ] + ScorerFields.fields), runner: RewardAccuracyStage())

    func run(_ context: NodeContext) throws {
        let name = context.stage.name
        let score = try judge(context)
        if let policyDir = context.inputs["policy"] {
            guard let taskName = context.stage.config["task"]?.string else { throw StageError(name, "'policy' needs 'task'") }
            let task = try context.goldTask(named: taskName)
            let policy = try ModelArtifact.loadPolicy(from: policyDir)
            let seed = UInt64(context.stage.config["seed"]?.int ?? 0)
            let prompts = task.prompts(count: context.stage.config["prompts"]?.int ?? 200, split: .heldOut, seed: seed)
            let options = SamplingOptions(maxNewTokens: context.stage.config["max_new_tokens"]?.int ?? 48,
                                          temperature: 1.0, topP: 1.0, seed: seed)
            let s = try Evaluation.accuracyOnPolicy(score: score, policy: policy, task: task,
                                                    prompts: prompts, options: options)
            context.reporter.summary(["accuracy": s.accuracy, "pairs": Double(s.pairs), "gold_ties": Double(s.goldTies)])
            return
        }
        guard let prefDir = context.inputs["preferences"] else { throw StageError(name, "set 'preferences' or 'policy'") }
        let pairs = try PreferenceArtifact.heldOut(prefDir)
        guard !pairs.isEmpty else { throw StageError(name, "the preference set has no held-out pairs") }
        let accuracy = try Evaluation.pairAccuracy(pairs, codec: try judgeCodec(context), score: score)
        context.reporter.summary(["accuracy": accuracy, "pairs": Double(pairs.count)])
    }

    /// Scores (prompt, response) token pairs: the reward model, or the DPO model's implicit reward.
    private func judge(_ context: NodeContext) throws -> ([SequencePair]) throws -> [Double] {
        switch (context.inputs["reward_model"], context.inputs["dpo_model"], context.inputs["reference"]) {
        case let (rmDir?, nil, nil):
            let rm = try ModelArtifact.loadRewardModel(from: rmDir)
            return { try rm.scores($0) }
        case let (nil, dpoDir?, refDir?):
            return Evaluation.implicitRewardScorer(policy: try ModelArtifact.loadPolicy(from: dpoDir),
                                                   reference: try ModelArtifact.loadPolicy(from: refDir), beta: 1)
        default:
            throw StageError(context.stage.name, "set either 'reward_model', or 'dpo_model' and 'reference'")
        }
    }

    /// The tokenizer the judge speaks (reward model and DPO model share the policy's).
    private func judgeCodec(_ context: NodeContext) throws -> TokenizerCodec {
        guard let dir = context.inputs["reward_model"] ?? context.inputs["dpo_model"] else {
            throw StageError(context.stage.name, "no judge connected")
        }
        return try TokenizerArtifact.load(from: dir)
    }
}

/// `best_of_n`: gold reward of the best of N samples by a reward model (Unpacking Table 3).
struct BestOfNStage: StageRunner {
    static let kind = StageKind(schema: StageSchema(
        kind: "best_of_n", summary: "Best-of-N sampling with a reward model, scored by the gold reward.", codeVersion: 1,
        fields: [
            FieldSchema("policy", .stageRef(kinds: policyKinds), doc: "Policy that proposes the N samples."),
            FieldSchema("reward_model", .stageRef(kinds: rewardModelKinds), doc: "Reward model that picks the best."),
            FieldSchema("task", .string, doc: "Gold task: held-out prompts and R*."),
            FieldSchema("n", .int, default: .int(16), doc: "Samples per prompt (Unpacking Table 3: 16)."),
            FieldSchema("prompts", .int, default: .int(100), doc: "Held-out prompts."),
            FieldSchema("temperature", .double, default: .double(0.7), doc: "Sampling temperature (App. H: 0.7)."),
            FieldSchema("max_new_tokens", .int, default: .int(48), doc: "Longest response in tokens."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of prompts and samples."),
        ] + ScorerFields.fields), runner: BestOfNStage())

    func run(_ context: NodeContext) throws {
        let task = try context.goldTask()
        let policy = try ModelArtifact.loadPolicy(from: context.requiredInput("policy"))
        let rm = try ModelArtifact.loadRewardModel(from: context.requiredInput("reward_model"))
        let seed = UInt64(try context.int("seed"))
        let prompts = task.prompts(count: try context.int("prompts"), split: .heldOut, seed: seed)
        let options = SamplingOptions(maxNewTokens: try context.int("max_new_tokens"),
                                      temperature: try context.double("temperature"), topP: 1, seed: seed)
        let picks = try Evaluation.bestOfN(policy: policy, rewardModel: rm, prompts: prompts, n: try context.int("n"),
                                           options: options)
        let best = Evaluation.goldReward(of: picks, task: task)
        context.reporter.summary(["mean": best.mean, "std": best.std, "count": Double(best.count)])
    }
}
