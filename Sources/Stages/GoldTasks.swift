import Foundation
import Pipeline
import Preference
import RecipeSpec

/// Contrastive Distillation's two scoring models, as stage fields of every kind that computes R*.
///
/// Other tasks are built from their name alone; this one's R* is the mean log-likelihood of a
/// response under `scorer_large` minus under `scorer_small` (two policies trained on the same
/// corpus, e.g. `sft` stages of different sizes over one `tokenizer` stage).
enum ScorerFields {
    static let fields = [
        FieldSchema("scorer_large", .stageRef(kinds: policyKinds), optional: true,
                    doc: "Contrastive Distillation only: the larger scoring model of R*."),
        FieldSchema("scorer_small", .stageRef(kinds: policyKinds), optional: true,
                    doc: "Contrastive Distillation only: the smaller scoring model of R*."),
    ]

    /// At validate time: contrastive_distillation needs both scorers; other tasks take none.
    static func check(_ stage: ResolvedStage) throws {
        guard let task = stage.config["task"]?.string else { return }
        let connected = stage.inputs.map(\.field).filter { $0.hasPrefix("scorer_") }
        if task == "contrastive_distillation", connected.count < 2 {
            throw StageError(stage.name, "task 'contrastive_distillation' needs 'scorer_large' and 'scorer_small' "
                + "(two policies trained on the same corpus) to compute its reward")
        }
        if task != "contrastive_distillation", let field = connected.first {
            throw StageError(stage.name, "'\(field)' is only used by task 'contrastive_distillation', not '\(task)'")
        }
    }
}

extension NodeContext {
    /// The gold task named `name` with its reward usable; Contrastive Distillation is built over
    /// the stage's `scorer_large` / `scorer_small` inputs.
    func goldTask(named name: String) throws -> any GoldTask {
        guard name == "contrastive_distillation" else { return try TaskRegistry.task(named: name) }
        guard let largeDir = inputs["scorer_large"], let smallDir = inputs["scorer_small"] else {
            throw StageError(stage.name, "task 'contrastive_distillation' needs 'scorer_large' and 'scorer_small'")
        }
        let tokenizer = { (dir: URL) in try Data(contentsOf: dir.appendingPathComponent("tokenizer.json")) }
        guard try tokenizer(largeDir) == tokenizer(smallDir) else {
            throw StageError(stage.name, "scorer_large and scorer_small must share one tokenizer (train both over the same tokenizer stage)")
        }
        let large = try ModelArtifact.loadPolicy(from: largeDir), small = try ModelArtifact.loadPolicy(from: smallDir)
        return ContrastiveDistillationTask(large: try LlamaSequenceScorer(model: large.model),
                                           small: try LlamaSequenceScorer(model: small.model),
                                           codec: large.codec, sentences: try Corpus.sentences())
    }

    /// The gold task of the `task` field, reward usable.
    func goldTask() throws -> any GoldTask { try goldTask(named: try string("task")) }
}
