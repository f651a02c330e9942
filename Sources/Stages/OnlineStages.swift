import Foundation
import Llama
import Pipeline
import Preference
import RecipeSpec
import StageSpecs

/// `ppo`: PPO as the Unpacking paper implements it (App. F.2, Tables 9–11), Table 10's variants as options.
struct PPOStage: StageRunner {
    func run(_ context: NodeContext) throws {
        let policy = try ModelArtifact.loadPolicy(from: context.requiredInput("policy"))
        let rm = try ModelArtifact.loadRewardModel(from: context.requiredInput("reward_model"))
        try context.usePrecision(policy.model, rm.model)
        var params = try context.parameters(PPOTrainer.Parameters.self)
        if context.stage.config["eos_trick"]?.bool == false { params.eosPenalty = nil }
        let prompts = try PreferenceArtifact.prompts(context.requiredInput("prompts"))
        let start = Date()
        let outcome = try PPOTrainer(params).train(policy: policy, reference: policy.copy(), rewardModel: rm,
                                                   prompts: prompts, control: context.trainingControl(checkpointEvery: 10))
        try savePolicy(policy, context: context, outcome: outcome, start: start)
    }
}

/// `opo`: online DPO (D2PO §3.1), pairs labelled by a static reward model or the gold annotator.
struct OPOStage: StageRunner {
    func run(_ context: NodeContext) throws {
        let name = context.stage.name
        let policy = try ModelArtifact.loadPolicy(from: context.requiredInput("policy"))
        let params = try context.parameters(OPOTrainer.Parameters.self)
        let labeler: OPOTrainer.Labeler
        if try context.string("labeler") == "gold" {
            guard let taskName = context.stage.config["task"]?.string else { throw StageError(name, "labeler gold needs 'task'") }
            let task = try context.goldTask(named: taskName)
            labeler = .gold(GoldAnnotator(task: task, budget: params.goldBudget, seed: params.seed))
        } else {
            guard context.inputs["reward_model"] != nil else { throw StageError(name, "labeler reward_model needs 'reward_model'") }
            labeler = .staticRewardModel(try ModelArtifact.loadRewardModel(from: context.requiredInput("reward_model")))
        }
        var labelerModel: LlamaModel?
        if case .staticRewardModel(let rm) = labeler { labelerModel = rm.model }
        try context.usePrecision(policy.model, labelerModel)
        let prompts = try PreferenceArtifact.prompts(context.requiredInput("prompts"))
        let start = Date()
        let outcome = try OPOTrainer(params).train(policy: policy, reference: policy.copy(), labeler: labeler,
                                                   prompts: prompts, control: context.trainingControl(checkpointEvery: 10),
                                                   probe: try context.accuracyProbe())
        try savePolicy(policy, context: context, outcome: outcome, start: start)
    }
}

/// `d2po`: discriminator-guided DPO (D2PO Algorithm 1) with a gold budget.
struct D2POStage: StageRunner {
    func run(_ context: NodeContext) throws {
        let name = context.stage.name
        let policy = try ModelArtifact.loadPolicy(from: context.requiredInput("policy"))
        let params = try context.parameters(D2POTrainer.Parameters.self)
        let task = try context.goldTask()
        let discriminator: D2POTrainer.Discriminator
        switch try context.string("discriminator") {
        case "reward_model":
            guard context.inputs["reward_model"] != nil else { throw StageError(name, "discriminator reward_model needs 'reward_model'") }
            discriminator = .rewardModel(try ModelArtifact.loadRewardModel(from: context.requiredInput("reward_model")))
        case "dpo":
            guard context.inputs["dpo_model"] != nil else { throw StageError(name, "discriminator dpo needs 'dpo_model'") }
            let reference = try context.inputs["dpo_reference"].map { try ModelArtifact.loadPolicy(from: $0) } ?? policy.copy()
            discriminator = .dpo(try ModelArtifact.loadPolicy(from: context.requiredInput("dpo_model")), reference: reference)
        default:
            discriminator = .selfPolicy
        }
        try context.usePrecision(policy.model)
        switch discriminator {
        case .rewardModel(let rm): try context.usePrecision(rm.model)
        case let .dpo(model, reference): try context.usePrecision(model.model, reference.model)
        default: break
        }
        let annotator = GoldAnnotator(task: task, budget: params.goldBudget, seed: params.seed)
        let prompts = try PreferenceArtifact.prompts(context.requiredInput("prompts"))
        let start = Date()
        let outcome = try D2POTrainer(params).train(policy: policy, reference: policy.copy(), discriminator: discriminator,
                                                    annotator: annotator, prompts: prompts,
                                                    control: context.trainingControl(checkpointEvery: 10),
                                                    probe: try context.accuracyProbe(defaultStaticRM: "reward_model"))
        try savePolicy(policy, context: context, outcome: outcome, start: start)
    }
}

/// Saves a trained policy and its final metrics.
func savePolicy(_ policy: Policy, context: NodeContext, outcome: TrainingOutcome, start: Date) throws {
    guard let codec = policy.codec as? TokenizerCodec else { throw StageError(context.stage.name, "policy has no tokenizer") }
    try ModelArtifact.save(model: policy.model, codec: codec, to: context.outputDirectory)
    var summary = outcome.lastValues
    summary["steps"] = Double(outcome.stepsDone)
    summary["gold_used"] = Double(outcome.goldUsed)
    summary["seconds"] = Date().timeIntervalSince(start)
    context.reporter.summary(summary)
}

extension NodeContext {
    /// The probe asked for by `probe_every`, or nil. The static RM is `probe_reward_model`, else a
    /// fresh (never updated) load of the input named `defaultStaticRM`, else the labeller's RM.
    func accuracyProbe(defaultStaticRM: String? = nil) throws -> AccuracyProbe? {
        guard let every = stage.config["probe_every"]?.int else { return nil }
        guard let taskName = stage.config["task"]?.string else { throw StageError(stage.name, "'probe_every' needs 'task'") }
        let rmDir = inputs["probe_reward_model"] ?? defaultStaticRM.flatMap { inputs[$0] }
        return AccuracyProbe(task: try goldTask(named: taskName), every: every,
                             staticRewardModel: try rmDir.map { try ModelArtifact.loadRewardModel(from: $0) })
    }
}
