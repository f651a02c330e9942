import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs

/// `dpo`: direct preference optimisation (Unpacking Eq. 3) of a policy on fixed pairs.
struct DPOStage: StageRunner {
    func run(_ context: NodeContext) throws {
        let policy = try ModelArtifact.loadPolicy(from: context.requiredInput("policy"))
        guard let codec = policy.codec as? TokenizerCodec else { throw StageError(context.stage.name, "policy has no tokenizer") }
        let params = try context.parameters(DPOTrainer.Parameters.self)
        let start = Date()
        let reference = try context.inputs["reference"].map { try ModelArtifact.loadPolicy(from: $0) }
        try context.usePrecision(policy.model, reference?.model)  // a nil reference is a copy of the policy, precision included
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
