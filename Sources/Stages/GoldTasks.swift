import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs

extension NodeContext {
    /// The gold task named `name` with its reward usable; Contrastive Distillation is built over
    /// the stage's `scorer_large` / `scorer_small` inputs.
    func goldTask(named name: String) throws -> any GoldTask {
        if name == "reward_model_gold" { return try rewardModelGoldTask() }
        guard name == "contrastive_distillation" else { return try TaskRegistry.task(named: name) }
        guard let largeDir = inputs["scorer_large"], let smallDir = inputs["scorer_small"] else {
            throw StageError(stage.name, "task 'contrastive_distillation' needs 'scorer_large' and 'scorer_small'")
        }
        let tokenizer = { (dir: URL) in try Data(contentsOf: dir.appendingPathComponent(ArtifactLayout.tokenizerFile)) }
        guard try tokenizer(largeDir) == tokenizer(smallDir) else {
            throw StageError(stage.name, "scorer_large and scorer_small must share one tokenizer (train both over the same tokenizer stage)")
        }
        let large = try ModelArtifact.loadPolicy(from: largeDir), small = try ModelArtifact.loadPolicy(from: smallDir)
        return ContrastiveDistillationTask(large: try LlamaSequenceScorer(model: large.model),
                                           small: try LlamaSequenceScorer(model: small.model),
                                           codec: large.codec, sentences: try Corpus.sentences())
    }

    /// A reward model as R* over real prompts: the stage's `gold_reward_model` and `gold_prompts` inputs.
    func rewardModelGoldTask() throws -> any GoldTask {
        guard let rmDir = inputs["gold_reward_model"], let promptsDir = inputs["gold_prompts"] else {
            throw StageError(stage.name, "task 'reward_model_gold' needs 'gold_reward_model' and 'gold_prompts'")
        }
        return try RewardModelGoldTask(scorer: try ModelArtifact.loadRewardModel(from: rmDir),
                                       pool: try PreferenceArtifact.prompts(promptsDir))
    }

    /// The gold task of the `task` field, reward usable.
    func goldTask() throws -> any GoldTask { try goldTask(named: try string("task")) }
}
