import Foundation
import Llama
import Pipeline
import Preference
import RecipeSpec
import StageSpecs

/// `reward_model`: a Bradley–Terry reward model (Unpacking Eq. 1) initialised from a policy's body.
struct RewardModelStage: StageRunner {
    func run(_ context: NodeContext) throws {
        let (model, codec) = try Self.initialModel(context)
        let rm = try RewardModel(model: model, codec: codec)
        let prefs = try context.requiredInput("preferences")
        let params = try context.parameters(RewardModelTrainer.Parameters.self)
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
        let loaded: (LlamaModel, TokenizerCodec)
        switch (context.inputs["init"], context.inputs["from_reward_model"]) {
        case let (initDir?, nil):
            let (policyModel, policyCodec) = try ModelArtifact.load(from: initDir)
            loaded = (LlamaModel(bodyOf: policyModel, head: .scalar, seed: UInt64(try context.int("head_seed"))), policyCodec)
        case let (nil, rmDir?):
            loaded = try ModelArtifact.load(from: rmDir)
        default:
            throw StageError(context.stage.name, "set exactly one of 'init' (a policy) and 'from_reward_model'")
        }
        try context.usePrecision(loaded.0)
        return loaded
    }
}
