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
        ]), runner: GoldRewardStage())

    func run(_ context: NodeContext) throws {
        let task = try TaskRegistry.task(named: context.string("task"))
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

/// `rm_accuracy`: a reward model's pairwise accuracy on held-out pairs.
struct RewardAccuracyStage: StageRunner {
    static let kind = StageKind(schema: StageSchema(
        kind: "rm_accuracy", summary: "Pairwise accuracy of a reward model on a preference set's held-out pairs.",
        codeVersion: 1,
        fields: [
            FieldSchema("reward_model", .stageRef(kinds: ["reward_model"]), doc: "Reward model to evaluate."),
            FieldSchema("preferences", .stageRef(kinds: ["task_preferences", "dataset"]), doc: "Pairs (held-out split used)."),
        ]), runner: RewardAccuracyStage())

    func run(_ context: NodeContext) throws {
        let rm = try ModelArtifact.loadRewardModel(from: context.requiredInput("reward_model"))
        let pairs = try PreferenceArtifact.heldOut(context.requiredInput("preferences"))
        guard !pairs.isEmpty else { throw StageError(context.stage.name, "the preference set has no held-out pairs") }
        let accuracy = try Evaluation.rewardModelAccuracy(rm, pairs: pairs)
        context.reporter.summary(["accuracy": accuracy, "pairs": Double(pairs.count)])
    }
}

/// `best_of_n`: gold reward of the best of N samples by a reward model (Unpacking Table 3).
struct BestOfNStage: StageRunner {
    static let kind = StageKind(schema: StageSchema(
        kind: "best_of_n", summary: "Best-of-N sampling with a reward model, scored by the gold reward.", codeVersion: 1,
        fields: [
            FieldSchema("policy", .stageRef(kinds: policyKinds), doc: "Policy that proposes the N samples."),
            FieldSchema("reward_model", .stageRef(kinds: ["reward_model"]), doc: "Reward model that picks the best."),
            FieldSchema("task", .string, doc: "Gold task: held-out prompts and R*."),
            FieldSchema("n", .int, default: .int(16), doc: "Samples per prompt (Unpacking Table 3: 16)."),
            FieldSchema("prompts", .int, default: .int(100), doc: "Held-out prompts."),
            FieldSchema("temperature", .double, default: .double(0.7), doc: "Sampling temperature (App. H: 0.7)."),
            FieldSchema("max_new_tokens", .int, default: .int(48), doc: "Longest response in tokens."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of prompts and samples."),
        ]), runner: BestOfNStage())

    func run(_ context: NodeContext) throws {
        let task = try TaskRegistry.task(named: context.string("task"))
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
