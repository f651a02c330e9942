import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs
import Tensor

/// `task_preferences`: pairs sampled from a policy on a task's train prompts, labelled by an annotator.
///
/// Two samples per prompt from the policy (the D2PO paper's offline data comes from the initial
/// policy); pairs whose gold rewards tie are dropped when `drop_ties` is set, since they carry no label.
struct TaskPreferencesStage: StageRunner {
    func run(_ context: NodeContext) throws {
        let task = try context.goldTask()
        let policy = try ModelArtifact.loadPolicy(from: context.requiredInput("policy"))
        let seed = UInt64(try context.int("seed"))
        let annotator = try makeAnnotator(context, task: task, seed: seed)
        let options = SamplingOptions(maxNewTokens: try context.int("max_new_tokens"),
                                      temperature: try context.double("temperature"),
                                      topP: try context.double("top_p"), seed: seed)
        let dropTies = try context.bool("drop_ties")
        var stats = LabelStats()
        let train = try collect(count: try context.int("size"), split: .train, task: task, policy: policy,
                                annotator: annotator, options: options, dropTies: dropTies, stats: &stats, context: context)
        let heldOut = try collect(count: try context.int("held_out"), split: .heldOut, task: task, policy: policy,
                                  annotator: annotator, options: options, dropTies: dropTies, stats: &stats, context: context)
        try JSONLines.write(train, to: context.outputDirectory.appendingPathComponent(ArtifactLayout.pairsFile))
        try JSONLines.write(heldOut, to: context.outputDirectory.appendingPathComponent(ArtifactLayout.heldOutFile))
        context.reporter.summary(["pairs": Double(train.count), "held_out": Double(heldOut.count),
                                  "ties_dropped": Double(stats.ties), "gold_agreement": stats.agreement,
                                  "mean_gold_gap": stats.meanGap])
    }

    /// Samples rounds of two responses per prompt until `count` labelled pairs exist.
    private func collect(count: Int, split: TaskSplit, task: any GoldTask, policy: Policy, annotator: any Annotator,
                         options: SamplingOptions, dropTies: Bool, stats: inout LabelStats,
                         context: NodeContext) throws -> [PreferencePair] {
        var pairs: [PreferencePair] = []
        var round: UInt64 = 0
        while pairs.count < count {
            guard round < 20 else {
                throw StageError(context.stage.name, "only \(pairs.count) of \(count) pairs after 20 rounds: too many ties")
            }
            let prompts = task.prompts(count: count - pairs.count, split: split, seed: options.seed &+ round &* 7919)
            var opts = options
            opts.seed = options.seed &+ round
            let samples = Evaluation.sample(policy: policy, prompts: prompts, samplesPerPrompt: 2, options: opts)
            for (i, prompt) in prompts.enumerated() where pairs.count < count {
                let a = samples[2 * i].text, b = samples[2 * i + 1].text
                let ra = task.reward(prompt: prompt, response: a), rb = task.reward(prompt: prompt, response: b)
                if ra == rb { stats.ties += 1; if dropTies { continue } }
                let label = try annotator.label(prompt: prompt, a, b)
                let (chosen, rejected) = label == .first ? (a, b) : (b, a)
                stats.record(agrees: (label == .first) == (ra >= rb), gap: abs(ra - rb))
                pairs.append(PreferencePair(prompt: prompt, chosen: chosen, rejected: rejected, margin: abs(ra - rb)))
            }
            context.reporter.record(step: pairs.count, of: count, values: ["pairs": Double(pairs.count)])
            round += 1
        }
        return pairs
    }

    private func makeAnnotator(_ context: NodeContext, task: any GoldTask, seed: UInt64) throws -> any Annotator {
        switch try context.string("annotator") {
        case "gold": return GoldAnnotator(task: task, budget: nil, seed: seed)
        default:
            return try SimulatedAnnotator(task: task, noiseRate: try context.double("noise"),
                                      lengthBias: try context.double("length_bias"), seed: seed)
        }
    }
}

/// Counts kept while labelling.
struct LabelStats {
    var ties = 0
    var labelled = 0
    var agreeing = 0
    var gapSum = 0.0

    mutating func record(agrees: Bool, gap: Double) {
        labelled += 1
        if agrees { agreeing += 1 }
        gapSum += gap
    }

    var agreement: Double { labelled == 0 ? 0 : Double(agreeing) / Double(labelled) }
    var meanGap: Double { labelled == 0 ? 0 : gapSum / Double(labelled) }
}

/// `task_prompts`: prompts of a task for policy training.
struct TaskPromptsStage: StageRunner {
    func run(_ context: NodeContext) throws {
        var options: [String: String] = [:]
        if let list = context.stage.config["categories"]?.list {
            options["categories"] = list.compactMap(\.string).joined(separator: ",")
        }
        let task = try TaskRegistry.task(named: context.string("task"), options: options)
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
