import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs

/// `pretrained`: a released model as a recipe's base policy, in place of a from-scratch `sft` stage:
/// a GGUF file read with its own tokenizer and chat template, saved as a policy node that `dpo`,
/// `ppo`, `opo`, `d2po`, `sft` (`init`), `reward_model` (`init`) and the evaluations take.
struct PretrainedStage: StageRunner {
    func run(_ context: NodeContext) throws {
        let path = try context.string("file")
        guard FileManager.default.fileExists(atPath: path) else {
            throw StageError(context.stage.name, "model file '\(path)' does not exist"
                             + (path.hasSuffix("SmolLM2-135M-Instruct.Q4_1.gguf") ? " (scripts/fetch-smollm2.sh fetches it)" : ""))
        }
        let policy = try Pretrained.policy(gguf: URL(fileURLWithPath: path), maxSeqLen: try context.int("max_seq_len"))
        guard let codec = policy.codec as? TokenizerCodec else { throw StageError(context.stage.name, "policy has no tokenizer") }
        try ModelArtifact.save(model: policy.model, codec: codec, to: context.outputDirectory)
        let c = policy.model.config
        context.reporter.summary(["parameters": Double(policy.model.parameters.reduce(0) { $0 + $1.count }),
                                  "vocab": Double(c.vocabSize), "layers": Double(c.nLayers), "d_model": Double(c.dModel)])
    }
}
