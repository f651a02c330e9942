import Foundation

/// Preference pairs made by sampling a policy twice per prompt and labelling each pair with an
/// annotator: the D2PO paper's offline data, which comes from the initial policy.
public enum PairSampling {
    /// What labelling a set of pairs showed about the annotator and the data.
    public struct Stats: Sendable, Equatable {
        /// Pairs whose two responses earned the same gold reward (dropped when asked: they carry no label).
        public var ties = 0
        /// Pairs kept and labelled.
        public var labelled = 0
        /// Labelled pairs where the annotator chose the response with the higher gold reward.
        public var agreeing = 0
        /// Sum of the gold-reward gaps |R*(a) − R*(b)| of the labelled pairs.
        public var gapSum = 0.0

        public init() {}

        /// Share of labels that agree with the gold reward (0 when nothing was labelled).
        public var agreement: Double { labelled == 0 ? 0 : Double(agreeing) / Double(labelled) }
        /// Mean gold-reward gap of the labelled pairs.
        public var meanGap: Double { labelled == 0 ? 0 : gapSum / Double(labelled) }
    }

    public enum Failure: Error, CustomStringConvertible {
        /// Twenty rounds of sampling did not produce enough untied pairs.
        case tooManyTies(got: Int, wanted: Int)

        public var description: String {
            switch self {
            case let .tooManyTies(got, wanted): return "only \(got) of \(wanted) pairs after 20 rounds: too many ties"
            }
        }
    }

    /// Samples rounds of two responses per prompt of `split` until `count` labelled pairs exist.
    /// Each round draws fresh prompts and a fresh sampling seed, both derived from `options.seed`.
    /// `progress(pairsSoFar)` is called after each round.
    public static func collect(count: Int, split: TaskSplit, task: any GoldTask, policy: Policy,
                               annotator: any Annotator, options: SamplingOptions, dropTies: Bool,
                               stats: inout Stats, progress: (Int) -> Void = { _ in }) throws -> [PreferencePair] {
        try collect(count: count, split: split, task: task, annotator: annotator, options: options, dropTies: dropTies,
                    stats: &stats, progress: progress) { prompts, opts in
            try Evaluation.sample(policy: policy, prompts: prompts, samplesPerPrompt: 2, options: opts)
        }
    }

    /// `collect` with the round's two samples per prompt drawn by `sample` (PrefLab's sampler, or an outside
    /// generator such as vLLM given the same prompts and settings): one call per round, in round order.
    public static func collect(count: Int, split: TaskSplit, task: any GoldTask, annotator: any Annotator,
                               options: SamplingOptions, dropTies: Bool, stats: inout Stats, progress: (Int) -> Void = { _ in },
                               sample: ([Prompt], SamplingOptions) throws -> [Sample]) throws -> [PreferencePair] {
        var pairs: [PreferencePair] = []
        var round: UInt64 = 0
        while pairs.count < count {
            guard round < 20 else { throw Failure.tooManyTies(got: pairs.count, wanted: count) }
            let prompts = task.prompts(count: count - pairs.count, split: split, seed: options.seed &+ round &* 7919)
            var opts = options
            opts.seed = options.seed &+ round
            let samples = try sample(prompts, opts)
            for (i, prompt) in prompts.enumerated() where pairs.count < count {
                if let pair = try label(prompt: prompt, samples[2 * i].text, samples[2 * i + 1].text, task: task,
                                        annotator: annotator, dropTies: dropTies, stats: &stats) {
                    pairs.append(pair)
                }
            }
            progress(pairs.count)
            round += 1
        }
        return pairs
    }

    /// Labels one pair of responses; nil when their gold rewards tie and ties are dropped.
    public static func label(prompt: Prompt, _ a: String, _ b: String, task: any GoldTask, annotator: any Annotator,
                             dropTies: Bool, stats: inout Stats) throws -> PreferencePair? {
        let ra = task.reward(prompt: prompt, response: a), rb = task.reward(prompt: prompt, response: b)
        if ra == rb {
            stats.ties += 1
            if dropTies { return nil }
        }
        let choice = try annotator.label(prompt: prompt, a, b)
        let (chosen, rejected) = choice == .first ? (a, b) : (b, a)
        stats.labelled += 1
        if (choice == .first) == (ra >= rb) { stats.agreeing += 1 }
        stats.gapSum += abs(ra - rb)
        return PreferencePair(prompt: prompt, chosen: chosen, rejected: rejected, margin: abs(ra - rb))
    }

    /// Share of pairs whose stored margin says the chosen response is better by the gold reward
    /// (pairs without a margin count as disagreeing; 0 for no pairs).
    public static func goldAgreement(_ pairs: [PreferencePair]) -> Double {
        let margins = pairs.compactMap(\.margin)
        return Double(margins.filter { $0 > 0 }.count) / Double(max(margins.count, 1))
    }
}
