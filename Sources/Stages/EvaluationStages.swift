import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs

/// `gold_reward`: R* of a policy's samples on held-out prompts, and its KL to a reference policy. The samples come
/// from PrefLab's sampler here, or from vLLM (`SampledGeneration.goldReward`); both are scored by `finish`.
struct GoldRewardStage: StageRunner {
    /// What the node samples: its task, policy, prompts (each `perPrompt` times) and sampling settings.
    struct Plan {
        var task: any GoldTask
        var policy: SampledModel
        var prompts: [Prompt]
        var perPrompt: Int
        var options: SamplingOptions
    }

    static func plan(_ context: NodeContext, sampler: Sampler) throws -> Plan {
        let task = try context.goldTask(sampler: sampler)
        let seed = UInt64(try context.int("seed"))
        return Plan(task: task, policy: try SampledModel.load(context.requiredInput("policy")),
                    prompts: task.prompts(count: try context.int("prompts"), split: .heldOut, seed: seed),
                    perPrompt: max(1, try context.int("samples")),
                    options: SamplingOptions(maxNewTokens: try context.int("max_new_tokens"), temperature: try context.double("temperature"),
                                             topP: try context.double("top_p"), seed: seed))
    }

    func run(_ context: NodeContext) throws {
        context.reporter.summary(try Self.evaluate(context, sampler: .embedded))
    }

    /// The node with its samples drawn by `sampler` (PrefLab's, or vLLM's); returns the summary.
    static func evaluate(_ context: NodeContext, sampler: Sampler) throws -> [String: Double] {
        let plan = try plan(context, sampler: sampler)
        return try finish(context, plan, samples: try sampler(plan), sampler: sampler)
    }

    /// Scores the samples, writes them beside the metrics and returns the node's summary.
    static func finish(_ context: NodeContext, _ plan: Plan, samples: [Sample], sampler: Sampler) throws -> [String: Double] {
        try prepareRewards(plan.task, samples.indices.map { .init(prompt: plan.prompts[$0 / plan.perPrompt], response: samples[$0].text) })
        let gold = Evaluation.goldReward(of: samples, prompts: plan.prompts, samplesPerPrompt: plan.perPrompt, task: plan.task)
        var summary = ["mean": gold.mean, "std": gold.std, "count": Double(gold.count), "truncated": gold.truncatedFraction,
                       "mean_length": Evaluation.meanResponseLength(samples)]
        if let refDir = context.inputs["reference"] {
            switch plan.policy {
            case .policy(let policy):
                summary["kl"] = try Evaluation.klToReference(policy: policy, reference: try ModelArtifact.loadPolicy(from: refDir), samples: samples)
            case .folder(let dir):
                summary["kl"] = try sampler.klToReference(policy: dir, reference: refDir, samples: samples, stage: context.stage.name)
            }
        }
        let records = samples.enumerated().map { i, s in
            EvaluatedSample(prompt: plan.prompts[i / plan.perPrompt].lastUserText, response: s.text, reward: gold.values[i])
        }
        try JSONLines.write(records, to: context.outputDirectory.appendingPathComponent(ArtifactLayout.samplesFile))
        return summary
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
    /// β of the DPO model's implicit reward: 1, the accuracy reads its sign only.
    static let implicitBeta = 1.0

    /// The on-policy accuracy's gold task, held-out prompts and sampling (two samples per prompt at temperature 1).
    static func onPolicyPlan(_ context: NodeContext) throws -> (task: any GoldTask, prompts: [Prompt], options: SamplingOptions) {
        guard let taskName = context.stage.config["task"]?.string else { throw StageError(context.stage.name, "'policy' needs 'task'") }
        let task = try context.goldTask(named: taskName)
        let seed = UInt64(context.stage.config["seed"]?.int ?? 0)
        let prompts = task.prompts(count: context.stage.config["prompts"]?.int ?? 200, split: .heldOut, seed: seed)
        let options = SamplingOptions(maxNewTokens: context.stage.config["max_new_tokens"]?.int ?? 48,
                                      temperature: 1.0, topP: 1.0, seed: seed)
        return (task, prompts, options)
    }

    /// The on-policy accuracy's summary.
    static func summary(_ s: AccuracySummary) -> [String: Double] {
        ["accuracy": s.accuracy, "pairs": Double(s.pairs), "gold_ties": Double(s.goldTies)]
    }

    /// The held-out pairs the judge is tested on.
    static func heldOutPairs(_ context: NodeContext) throws -> [PreferencePair] {
        guard let prefDir = context.inputs["preferences"] else { throw StageError(context.stage.name, "set 'preferences' or 'policy'") }
        let pairs = try PreferenceArtifact.heldOut(prefDir)
        guard !pairs.isEmpty else { throw StageError(context.stage.name, "the preference set has no held-out pairs") }
        return pairs
    }

    func run(_ context: NodeContext) throws {
        let score = try judge(context)
        if let policyDir = context.inputs["policy"] {
            let plan = try Self.onPolicyPlan(context)
            let s = try Evaluation.accuracyOnPolicy(score: score, policy: try ModelArtifact.loadPolicy(from: policyDir), task: plan.task,
                                                    prompts: plan.prompts, options: plan.options)
            context.reporter.summary(Self.summary(s))
            return
        }
        let pairs = try Self.heldOutPairs(context)
        let accuracy = try Evaluation.pairAccuracy(pairs, codec: try Self.judgeCodec(context), score: score)
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
                                                   reference: try ModelArtifact.loadPolicy(from: refDir), beta: Self.implicitBeta)
        default:
            throw StageError(context.stage.name, "set either 'reward_model', or 'dpo_model' and 'reference'")
        }
    }

    /// The tokenizer the judge speaks (reward model and DPO model share the policy's).
    static func judgeCodec(_ context: NodeContext) throws -> TokenizerCodec {
        guard let dir = context.inputs["reward_model"] ?? context.inputs["dpo_model"] else {
            throw StageError(context.stage.name, "no judge connected")
        }
        return try TokenizerArtifact.load(from: dir)
    }
}

/// `best_of_n`: gold reward of the best of N samples by a reward model (Unpacking Table 3). A policy and reward model
/// PrefLab does not read (`EngineModel`) are sampled and scored by vLLM's text mode (the scores from the reward model's
/// folder, `Sampler.rewardScores`); PrefLab's own are sampled here or by vLLM in its ids and scored by PrefLab.
struct BestOfNStage: StageRunner {
    /// The `n` samples per held-out prompt the node draws (here, or in vLLM: `SampledGeneration.bestOfN`).
    static func plan(_ context: NodeContext) throws -> GoldRewardStage.Plan {
        let task = try context.goldTask()
        let seed = UInt64(try context.int("seed"))
        return GoldRewardStage.Plan(task: task, policy: try SampledModel.load(context.requiredInput("policy")),
                                    prompts: task.prompts(count: try context.int("prompts"), split: .heldOut, seed: seed),
                                    perPrompt: max(1, try context.int("n")),
                                    options: SamplingOptions(maxNewTokens: try context.int("max_new_tokens"),
                                                             temperature: try context.double("temperature"), topP: 1, seed: seed))
    }

    func run(_ context: NodeContext) throws {
        context.reporter.summary(try Self.evaluate(context, sampler: .embedded))
    }

    /// The node with its samples drawn by `sampler` (PrefLab's, or vLLM's); returns the summary.
    static func evaluate(_ context: NodeContext, sampler: Sampler) throws -> [String: Double] {
        let plan = try plan(context)
        return try finish(context, plan, samples: try sampler(plan), sampler: sampler)
    }

    /// The reward model's pick per prompt, scored by the gold reward.
    static func finish(_ context: NodeContext, _ plan: GoldRewardStage.Plan, samples: [Sample], sampler: Sampler) throws -> [String: Double] {
        let scores = try judge(context, plan, sampler)(samples.map(\.pair))
        let picks = Evaluation.bestOfN(samples: samples, scores: scores, prompts: plan.prompts, n: plan.perPrompt)
        let best = Evaluation.goldReward(of: picks, task: plan.task)
        return ["mean": best.mean, "std": best.std, "count": Double(best.count)]
    }

    /// The reward model's scores of the samples' pairs, which are in the policy's ids: PrefLab's reward model for its
    /// own policy, the engine's scoring of the reward model's folder for a policy PrefLab does not read.
    static func judge(_ context: NodeContext, _ plan: GoldRewardStage.Plan, _ sampler: Sampler) throws -> ([SequencePair]) throws -> [Double] {
        let dir = try context.requiredInput("reward_model")
        let folder = try EngineModel.read(dir) != nil
        switch (plan.policy, folder) {
        case (.policy, false):
            let rm = try ModelArtifact.loadRewardModel(from: dir)
            return { try rm.scores($0) }
        case (.folder, true):
            guard let scores = sampler.rewardScores else {
                throw StageError(context.stage.name, "a reward model PrefLab does not read scores its samples in vLLM's text mode (`engine: vllm`)")
            }
            return scores
        default:
            throw StageError(context.stage.name, "`policy` and `reward_model` must share one tokenizer: both models PrefLab reads, or both from one model it does not")
        }
    }
}
