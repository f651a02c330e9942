import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs

extension NodeContext {
    /// The gold task named `name` with its reward usable; Contrastive Distillation is built over
    /// the stage's `scorer_large` / `scorer_small` inputs: PrefLab's own models, or models it does not read, scored
    /// from their folders by the engine `sampler` asks (vLLM's text mode).
    func goldTask(named name: String, sampler: Sampler? = nil) throws -> any GoldTask {
        if name == "reward_model_gold" { return try rewardModelGoldTask() }
        guard name == "contrastive_distillation" else { return try TaskRegistry.task(named: name) }
        guard let largeDir = inputs["scorer_large"], let smallDir = inputs["scorer_small"] else {
            throw StageError(stage.name, "task 'contrastive_distillation' needs 'scorer_large' and 'scorer_small'")
        }
        let engine = (try EngineModel.read(largeDir) != nil, try EngineModel.read(smallDir) != nil)
        if engine.0 || engine.1 { return try engineScoredTask(bothFolders: engine.0 && engine.1, sampler: sampler) }
        let tokenizer = { (dir: URL) in try Data(contentsOf: dir.appendingPathComponent(ArtifactLayout.tokenizerFile)) }
        guard try tokenizer(largeDir) == tokenizer(smallDir) else {
            throw StageError(stage.name, "scorer_large and scorer_small must share one tokenizer (train both over the same tokenizer stage)")
        }
        let large = try ModelArtifact.loadPolicy(from: largeDir), small = try ModelArtifact.loadPolicy(from: smallDir)
        return ContrastiveDistillationTask(large: try LlamaSequenceScorer(model: large.model),
                                           small: try LlamaSequenceScorer(model: small.model),
                                           codec: large.codec, sentences: try Corpus.sentences())
    }

    /// Contrastive Distillation over two models PrefLab does not read: each response scored in vLLM from the scorers'
    /// folders (one launch per scorer for a batch of samples), R* and the labels computed here.
    private func engineScoredTask(bothFolders: Bool, sampler: Sampler?) throws -> ContrastiveDistillationTask {
        guard bothFolders else {
            throw StageError(stage.name, "scorer_large and scorer_small must both be models PrefLab reads, or both models it does not (scored by an engine from their folders)")
        }
        guard let score = sampler?.textScores else {
            throw StageError(stage.name, "Contrastive Distillation's scorers here are models PrefLab does not read: they score in vLLM's text mode (`engine: vllm` on task_preferences or gold_reward) or in the TRL bridge (opo, d2po), not in this stage")
        }
        let scores = EngineLogLikelihoods { items in (large: try score("scorer_large", items), small: try score("scorer_small", items)) }
        return ContrastiveDistillationTask(scorers: scores, sentences: try Corpus.sentences())
    }

    /// A reward model as R* over real prompts: the stage's `gold_reward_model` and `gold_prompts` inputs.
    func rewardModelGoldTask() throws -> any GoldTask {
        guard let rmDir = inputs["gold_reward_model"], let promptsDir = inputs["gold_prompts"] else {
            throw StageError(stage.name, "task 'reward_model_gold' needs 'gold_reward_model' and 'gold_prompts'")
        }
        return try RewardModelGoldTask(scorer: try ModelArtifact.loadRewardModel(from: rmDir),
                                       pool: try PreferenceArtifact.prompts(promptsDir))
    }

    /// The gold task of the `task` field, reward usable (`sampler`: the engine that scores models PrefLab does not read).
    func goldTask(sampler: Sampler? = nil) throws -> any GoldTask { try goldTask(named: try string("task"), sampler: sampler) }
}
