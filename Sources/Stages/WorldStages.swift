import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs

/// `world_preferences`: a preference dataset of the simulated world (docs/world.md), one of the
/// presets that stand in for the Unpacking paper's datasets, with its size set by the recipe.
struct WorldPreferencesStage: StageRunner {
    func run(_ context: NodeContext) throws {
        let spec = try WorldDatasetSpec.preset(named: context.string("dataset"))
        let seed = UInt64(try context.int("seed"))
        let train = try spec.pairs(count: try context.int("size"), split: .train, seed: seed)
        let heldOut = try spec.pairs(count: try context.int("held_out"), split: .heldOut, seed: seed)
        try JSONLines.write(train, to: context.outputDirectory.appendingPathComponent(ArtifactLayout.pairsFile))
        try JSONLines.write(heldOut, to: context.outputDirectory.appendingPathComponent(ArtifactLayout.heldOutFile))
        context.reporter.summary(["pairs": Double(train.count), "held_out": Double(heldOut.count),
                                  "gold_agreement": PairSampling.goldAgreement(train)])
    }
}

/// `category_scores`: a policy's gold reward per evaluation category of an aspect-scored task
/// (the simulated world's reasoning, instruction following, safety and style), plus the mean.
struct CategoryScoresStage: StageRunner {
    func run(_ context: NodeContext) throws {
        context.reporter.summary(try Self.evaluate(context, sampler: .embedded))
    }

    /// One sample per held-out prompt drawn by `sampler` (PrefLab's, or vLLM's), scored per category.
    static func evaluate(_ context: NodeContext, sampler: Sampler) throws -> [String: Double] {
        let task = try TaskRegistry.task(named: context.string("task"))
        let seed = UInt64(try context.int("seed"))
        let plan = GoldRewardStage.Plan(task: task, policy: try SampledModel.load(context.requiredInput("policy")),
                                        prompts: task.prompts(count: try context.int("prompts"), split: .heldOut, seed: seed), perPrompt: 1,
                                        options: SamplingOptions(maxNewTokens: try context.int("max_new_tokens"),
                                                                 temperature: try context.double("temperature"), topP: 1, seed: seed))
        return Evaluation.categoryScores(of: try sampler(plan), prompts: plan.prompts, task: task)
    }
}
