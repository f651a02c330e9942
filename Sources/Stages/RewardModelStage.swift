import Foundation
import Llama
import Pipeline
import Preference
import RecipeSpec
import StageSpecs

/// `reward_model`: a Bradley–Terry reward model (Unpacking Eq. 1) initialised from a policy's body.
struct RewardModelStage: StageRunner {

    func run(_ context: NodeContext) throws {
        let model: LlamaModel, codec: TokenizerCodec
        switch (context.inputs["init"], context.inputs["from_reward_model"]) {
        case let (initDir?, nil):
            let (policyModel, policyCodec) = try ModelArtifact.load(from: initDir)
            (model, codec) = (LlamaModel(bodyOf: policyModel, head: .scalar, seed: UInt64(try context.int("head_seed"))), policyCodec)
        case let (nil, rmDir?):
            (model, codec) = try ModelArtifact.load(from: rmDir)
        default:
            throw StageError(context.stage.name, "set exactly one of 'init' (a policy) and 'from_reward_model'")
        }
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
}

/// `dpo`: direct preference optimisation (Unpacking Eq. 3) of a policy on fixed pairs.
struct DPOStage: StageRunner {

    func run(_ context: NodeContext) throws {
        let policy = try ModelArtifact.loadPolicy(from: context.requiredInput("policy"))
        guard let codec = policy.codec as? TokenizerCodec else { throw StageError(context.stage.name, "policy has no tokenizer") }
        let params = try context.parameters(DPOTrainer.Parameters.self)
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
