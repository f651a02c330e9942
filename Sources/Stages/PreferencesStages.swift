import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs

/// `task_preferences`: pairs sampled from a policy on a task's train prompts, labelled by an annotator.
///
/// Two samples per prompt from the policy (the D2PO paper's offline data comes from the initial
/// policy); pairs whose gold rewards tie are dropped when `drop_ties` is set, since they carry no label.
struct TaskPreferencesStage: StageRunner {
    func run(_ context: NodeContext) throws {
        context.reporter.summary(try Self.evaluate(context, sampler: .embedded))
    }

    /// Samples (round by round, two per prompt, through `sampler`: PrefLab's or vLLM's), labels, writes the pairs and
    /// returns the summary.
    static func evaluate(_ context: NodeContext, sampler: Sampler) throws -> [String: Double] {
        let task = try context.goldTask(sampler: sampler)
        let policy = try SampledModel.load(context.requiredInput("policy"))
        let seed = UInt64(try context.int("seed"))
        let annotator = try makeAnnotator(context, task: task, seed: seed)
        let options = SamplingOptions(maxNewTokens: try context.int("max_new_tokens"),
                                      temperature: try context.double("temperature"),
                                      topP: try context.double("top_p"), seed: seed)
        let dropTies = try context.bool("drop_ties")
        var stats = PairSampling.Stats()
        func collect(_ count: Int, _ split: TaskSplit) throws -> [PreferencePair] {
            do {
                return try PairSampling.collect(count: count, split: split, task: task, annotator: annotator, options: options,
                                                dropTies: dropTies, stats: &stats, progress: { done in
                    context.reporter.record(step: done, of: count, values: ["pairs": Double(done)])
                }, sample: { prompts, opts in
                    let samples = try sampler.draw(policy, prompts, 2, opts)
                    try prepareRewards(task, samples.indices.map { .init(prompt: prompts[$0 / 2], response: samples[$0].text) })
                    return samples
                })
            } catch let failure as PairSampling.Failure {
                throw StageError(context.stage.name, failure.description)
            }
        }
        let train = try collect(try context.int("size"), .train)
        let heldOut = try collect(try context.int("held_out"), .heldOut)
        try JSONLines.write(train, to: context.outputDirectory.appendingPathComponent(ArtifactLayout.pairsFile))
        try JSONLines.write(heldOut, to: context.outputDirectory.appendingPathComponent(ArtifactLayout.heldOutFile))
        return ["pairs": Double(train.count), "held_out": Double(heldOut.count), "ties_dropped": Double(stats.ties),
                "gold_agreement": stats.agreement, "mean_gold_gap": stats.meanGap]
    }

    private static func makeAnnotator(_ context: NodeContext, task: any GoldTask, seed: UInt64) throws -> any Annotator {
        switch try context.string("annotator") {
        case "gold": return GoldAnnotator(task: task, budget: nil, seed: seed)
        default:
            return try SimulatedAnnotator(task: task, noiseRate: try context.double("noise"),
                                      lengthBias: try context.double("length_bias"), seed: seed)
        }
    }
}

/// `task_prompts`: prompts of a task for policy training.
struct TaskPromptsStage: StageRunner {
    func run(_ context: NodeContext) throws {
        var options: [String: String] = [:]
        if let list = context.stage.config["categories"]?.list {
            options["categories"] = list.compactMap(\.string).joined(separator: ",")
        }
        let name = try context.string("task")
        // Only reward_model_gold draws its prompts from inputs; the other tasks are built from their names.
        let task = name == "reward_model_gold" ? try context.goldTask(named: name) : try TaskRegistry.task(named: name, options: options)
        let split = TaskSplit(rawValue: try context.string("split")) ?? .train
        let prompts = task.prompts(count: try context.int("size"), split: split, seed: UInt64(try context.int("seed")))
        try JSONLines.write(prompts, to: context.outputDirectory.appendingPathComponent(ArtifactLayout.promptsFile))
        context.reporter.summary(["prompts": Double(prompts.count)])
    }
}

/// Readers of the preference and prompt artifacts.
enum PreferenceArtifact {
    static func pairs(_ dir: URL) throws -> [PreferencePair] {
        try JSONLines.read(PreferencePair.self, from: dir.appendingPathComponent(ArtifactLayout.pairsFile))
    }

    static func heldOut(_ dir: URL) throws -> [PreferencePair] {
        let url = dir.appendingPathComponent(ArtifactLayout.heldOutFile)
        return FileManager.default.fileExists(atPath: url.path) ? try JSONLines.read(PreferencePair.self, from: url) : []
    }

    static func prompts(_ dir: URL) throws -> [Prompt] {
        try JSONLines.read(Prompt.self, from: dir.appendingPathComponent(ArtifactLayout.promptsFile))
    }
}
