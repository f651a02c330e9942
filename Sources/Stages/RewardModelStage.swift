import Foundation
import Llama
import Pipeline
import Preference
import RecipeSpec

/// `reward_model`: a Bradley–Terry reward model (Unpacking Eq. 1) initialised from a policy's body.
struct RewardModelStage: StageRunner {
    static let trainerFields = ParameterSchema.fields(of: RewardModelTrainer.Parameters(), docs: ParameterDocs.rewardModel)
    static let trainerKeys = ParameterSchema.propertyNames(of: RewardModelTrainer.Parameters())

    static let kind = StageKind(schema: StageSchema(
        kind: "reward_model", summary: "Bradley–Terry reward model: scalar head on the last token.", codeVersion: 1,
        fields: [
            FieldSchema("preferences", .stageRef(kinds: preferenceKinds), doc: "Training pairs."),
            FieldSchema("init", .stageRef(kinds: policyKinds), optional: true,
                        doc: "Policy whose body initialises the model (a new scalar head); or set from_reward_model."),
            FieldSchema("from_reward_model", .stageRef(kinds: rewardModelKinds), optional: true,
                        doc: "A reward model to continue training, head included (e.g. adapting to new pairs, D2PO Table 5)."),
            FieldSchema("head_seed", .int, default: .int(0), doc: "Seed of the new scalar head."),
        ] + trainerFields), runner: RewardModelStage(), parameters: RewardModelTrainer.Parameters.self, keys: trainerKeys)

    func run(_ context: NodeContext) throws {
        let (model, codec) = try Self.initialModel(context)
        let rm = try RewardModel(model: model, codec: codec)
        let prefs = try context.requiredInput("preferences")
        let params = try context.parameters(RewardModelTrainer.Parameters.self, keys: Self.trainerKeys)
        let heldOut = try PreferenceArtifact.heldOut(prefs)
        let start = Date()
        let outcome = try RewardModelTrainer(params).train(rewardModel: rm, pairs: try PreferenceArtifact.pairs(prefs),
                                                           heldOut: heldOut, control: context.trainingControl())
        try ModelArtifact.save(model: model, codec: codec, to: context.outputDirectory)
        var summary = outcome.lastValues
        if !heldOut.isEmpty { summary["held_out_accuracy"] = try Evaluation.rewardModelAccuracy(rm, pairs: heldOut) }
        summary["steps"] = Double(outcome.stepsDone)
        summary["seconds"] = Date().timeIntervalSince(start)
        context.reporter.summary(summary)
    }

    /// The model training starts from: a policy's body with a new scalar head (drawn from `head_seed`), or a
    /// reward model to continue; delegated engines start from the same weights.
    static func initialModel(_ context: NodeContext) throws -> (LlamaModel, TokenizerCodec) {
        switch (context.inputs["init"], context.inputs["from_reward_model"]) {
        case let (initDir?, nil):
            let (policyModel, policyCodec) = try ModelArtifact.load(from: initDir)
            return (LlamaModel(bodyOf: policyModel, head: .scalar, seed: UInt64(try context.int("head_seed"))), policyCodec)
        case let (nil, rmDir?):
            return try ModelArtifact.load(from: rmDir)
        default:
            throw StageError(context.stage.name, "set exactly one of 'init' (a policy) and 'from_reward_model'")
        }
    }
}

/// `dpo`: direct preference optimisation (Unpacking Eq. 3) of a policy on fixed pairs.
struct DPOStage: StageRunner {
    static let trainerFields = ParameterSchema.fields(of: DPOTrainer.Parameters(), docs: ParameterDocs.dpo)
    static let trainerKeys = ParameterSchema.propertyNames(of: DPOTrainer.Parameters())

    static let kind = StageKind(schema: StageSchema(
        kind: "dpo", summary: "DPO (and IPO, conservative DPO, SimPO via `loss.kind`) on offline pairs.", codeVersion: 1,
        fields: [
            FieldSchema("policy", .stageRef(kinds: policyKinds), doc: "Starting policy, also the reference unless `reference` is set."),
            FieldSchema("reference", .stageRef(kinds: policyKinds), optional: true,
                        doc: "The reference π_ref when it is not the starting policy (continuing DPO from a DPO model)."),
            FieldSchema("preferences", .stageRef(kinds: preferenceKinds), doc: "Training pairs."),
        ] + trainerFields), runner: DPOStage(), parameters: DPOTrainer.Parameters.self, keys: trainerKeys)

    func run(_ context: NodeContext) throws {
        let policy = try ModelArtifact.loadPolicy(from: context.requiredInput("policy"))
        guard let codec = policy.codec as? TokenizerCodec else { throw StageError(context.stage.name, "policy has no tokenizer") }
        let params = try context.parameters(DPOTrainer.Parameters.self, keys: Self.trainerKeys)
        let start = Date()
        let reference = try context.inputs["reference"].map { try ModelArtifact.loadPolicy(from: $0) }
        let outcome = try DPOTrainer(params).train(policy: policy, reference: reference,
                                                   pairs: try PreferenceArtifact.pairs(context.requiredInput("preferences")),
                                                   control: context.trainingControl())
        try ModelArtifact.save(model: policy.model, codec: codec, to: context.outputDirectory)
        var summary = outcome.lastValues
        summary["steps"] = Double(outcome.stepsDone)
        summary["seconds"] = Date().timeIntervalSince(start)
        context.reporter.summary(summary)
    }
}
