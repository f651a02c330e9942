import Foundation
import Llama
import Pipeline
import Preference
import RecipeSpec

/// `ppo`: PPO as the Unpacking paper implements it (App. F.2, Tables 9–11), Table 10's variants as options.
struct PPOStage: StageRunner {
    static let trainerFields = ParameterSchema.fields(of: PPOTrainer.Parameters(), docs: ParameterDocs.ppo)
    static let trainerKeys = ParameterSchema.propertyNames(of: PPOTrainer.Parameters())

    static let kind = StageKind(schema: StageSchema(
        kind: "ppo", summary: "PPO against a reward model, value model initialised from it.", codeVersion: 1,
        fields: [
            FieldSchema("policy", .stageRef(kinds: policyKinds), doc: "Starting policy, also the KL reference."),
            FieldSchema("reward_model", .stageRef(kinds: rewardModelKinds), doc: "Reward model scoring rollouts."),
            FieldSchema("prompts", .stageRef(kinds: promptKinds), doc: "Policy-training prompts."),
            // A stage field, not a trainer parameter: `eos_penalty: null` cannot say "off" (null
            // means "the default" in a recipe), and a new parameter would change every PPO node's hash.
            FieldSchema("eos_trick", .bool, optional: true,
                        doc: "false: no EOS trick, truncated completions keep their RM score (Table 10); default on."),
        ] + trainerFields), runner: PPOStage(), parameters: PPOTrainer.Parameters.self, keys: trainerKeys)

    func run(_ context: NodeContext) throws {
        let policy = try ModelArtifact.loadPolicy(from: context.requiredInput("policy"))
        let rm = try ModelArtifact.loadRewardModel(from: context.requiredInput("reward_model"))
        var params = try context.parameters(PPOTrainer.Parameters.self, keys: Self.trainerKeys)
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
    static let trainerFields = ParameterSchema.fields(of: OPOTrainer.Parameters(), docs: ParameterDocs.opo)
    static let trainerKeys = ParameterSchema.propertyNames(of: OPOTrainer.Parameters())

    static let kind = StageKind(schema: StageSchema(
        kind: "opo", summary: "Online DPO: two samples per prompt, labelled by a static RM or gold, then a DPO step.",
        codeVersion: 1,
        fields: [
            FieldSchema("policy", .stageRef(kinds: policyKinds), doc: "Starting policy, also the reference."),
            FieldSchema("prompts", .stageRef(kinds: promptKinds), doc: "Policy-training prompts."),
            FieldSchema("labeler", .choice(["reward_model", "gold"]), default: .string("reward_model"),
                        doc: "Static reward model (OPO static RM) or the task's gold annotator (OPO gold)."),
            FieldSchema("reward_model", .stageRef(kinds: rewardModelKinds), optional: true,
                        doc: "The static reward model, when labeler is reward_model."),
            FieldSchema("task", .string, optional: true, doc: "Gold task, when labeler is gold (or when probing)."),
        ] + ScorerFields.fields + ProbeFields.fields + trainerFields), runner: OPOStage(), parameters: OPOTrainer.Parameters.self, keys: trainerKeys)

    func run(_ context: NodeContext) throws {
        let name = context.stage.name
        let policy = try ModelArtifact.loadPolicy(from: context.requiredInput("policy"))
        let params = try context.parameters(OPOTrainer.Parameters.self, keys: Self.trainerKeys)
        let labeler: OPOTrainer.Labeler
        if try context.string("labeler") == "gold" {
            guard let taskName = context.stage.config["task"]?.string else { throw StageError(name, "labeler gold needs 'task'") }
            let task = try context.goldTask(named: taskName)
            labeler = .gold(GoldAnnotator(task: task, budget: params.goldBudget, seed: params.seed))
        } else {
            guard context.inputs["reward_model"] != nil else { throw StageError(name, "labeler reward_model needs 'reward_model'") }
            labeler = .staticRewardModel(try ModelArtifact.loadRewardModel(from: context.requiredInput("reward_model")))
        }
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
    static let trainerFields = ParameterSchema.fields(of: D2POTrainer.Parameters(), docs: ParameterDocs.d2po)
    static let trainerKeys = ParameterSchema.propertyNames(of: D2POTrainer.Parameters())

    static let kind = StageKind(schema: StageSchema(
        kind: "d2po", summary: "D2PO: silver labels from a discriminator, gold labels every round for it and the policy.",
        codeVersion: 1,
        fields: [
            FieldSchema("policy", .stageRef(kinds: policyKinds), doc: "Starting policy, also the reference."),
            FieldSchema("prompts", .stageRef(kinds: promptKinds), doc: "Policy-training prompts."),
            FieldSchema("task", .string, doc: "Gold task: the annotator R*."),
            FieldSchema("discriminator", .choice(["reward_model", "dpo", "self"]), default: .string("reward_model"),
                        doc: "A Bradley–Terry RM, a separate DPO model, or the policy itself (§6.2)."),
            FieldSchema("reward_model", .stageRef(kinds: rewardModelKinds), optional: true,
                        doc: "Initial discriminator when discriminator is reward_model."),
            FieldSchema("dpo_model", .stageRef(kinds: policyKinds), optional: true,
                        doc: "Initial discriminator when discriminator is dpo."),
            FieldSchema("dpo_reference", .stageRef(kinds: policyKinds), optional: true,
                        doc: "π_ref of the dpo discriminator's implicit reward (e.g. the SFT policy it was trained from); default `policy`."),
        ] + ScorerFields.fields + ProbeFields.fields + trainerFields), runner: D2POStage(), parameters: D2POTrainer.Parameters.self, keys: trainerKeys)

    func run(_ context: NodeContext) throws {
        let name = context.stage.name
        let policy = try ModelArtifact.loadPolicy(from: context.requiredInput("policy"))
        let params = try context.parameters(D2POTrainer.Parameters.self, keys: Self.trainerKeys)
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

/// Optional measurement of judges' accuracy on the rollouts of online training (D2PO Figs 5, 6).
///
/// Both fields have no default, so a stage that does not probe keeps its node hash.
enum ProbeFields {
    static let fields = [
        FieldSchema("probe_every", .int, optional: true,
                    doc: "Report judges' accuracy vs R* on each step's rollouts every this many steps (Figs 5, 6); needs 'task'."),
        FieldSchema("probe_reward_model", .stageRef(kinds: rewardModelKinds), optional: true,
                    doc: "A reward model kept frozen and probed as the static RM (default: the stage's own static RM)."),
    ]
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
