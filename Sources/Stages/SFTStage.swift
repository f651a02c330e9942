import Foundation
import Llama
import Pipeline
import Preference
import RecipeSpec
import StageSpecs

/// `sft`: a policy trained on a task's demonstrations, loss on response tokens only; from scratch
/// (a new model of the given shape over a `tokenizer` stage) or continuing an earlier policy (`init`).
struct SFTStage: StageRunner {
    func run(_ context: NodeContext) throws {
        let task = try TaskRegistry.task(named: context.string("task"))
        let (policy, codec) = try Self.initialPolicy(context)
        let params = try context.parameters(SFTTrainer.Parameters.self)
        let examples = task.demonstrations(count: try context.int("examples"), seed: params.seed)
        let start = Date()
        let outcome = try SFTTrainer(params).train(policy: policy, examples: examples, control: context.trainingControl())
        try ModelArtifact.save(model: policy.model, codec: codec, to: context.outputDirectory)
        var summary = outcome.lastValues
        summary["steps"] = Double(outcome.stepsDone)
        summary["seconds"] = Date().timeIntervalSince(start)
        summary["parameters"] = Double(policy.model.parameters.reduce(0) { $0 + $1.count })
        context.reporter.summary(summary)
    }

    /// The policy training starts from: the `init` policy, or a new model of the stage's shape over `tokenizer`
    /// (drawn from `model_seed`; delegated engines start from the same weights).
    static func initialPolicy(_ context: NodeContext) throws -> (Policy, TokenizerCodec) {
        let name = context.stage.name
        let policy: Policy
        if let initDir = context.inputs["init"] {
            policy = try ModelArtifact.loadPolicy(from: initDir)
        } else if let tokDir = context.inputs["tokenizer"] {
            let codec = try TokenizerArtifact.load(from: tokDir)
            let config = LlamaConfig(
                vocabSize: codec.tokenizer.vocabSize, dModel: try context.int("d_model"), nLayers: try context.int("layers"),
                nHeads: try context.int("heads"), nKVHeads: try context.int("kv_heads"), hidden: try context.int("hidden"),
                maxSeqLen: try context.int("max_seq_len"), ropeBase: 10_000, normEps: 1e-5, tiedEmbeddings: true)
            if let problem = config.problems.first { throw StageError(name, problem) }
            let model = LlamaModel(config: config, head: .lm, seed: UInt64(try context.int("model_seed")))
            policy = try Policy(model: model, codec: codec)
        } else {
            throw StageError(name, "set either 'tokenizer' (train from scratch) or 'init' (continue a policy)")
        }
        guard let codec = policy.codec as? TokenizerCodec else { throw StageError(name, "policy has no tokenizer") }
        try context.usePrecision(policy.model)
        return (policy, codec)
    }
}
