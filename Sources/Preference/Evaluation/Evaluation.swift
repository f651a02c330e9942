import Foundation
import Llama
import Randomness

/// How evaluation samples responses.
public struct SamplingOptions: Codable, Sendable, Equatable {
    /// Longest response in tokens.
    public var maxNewTokens: Int = 64
    /// Sampling temperature (Unpacking App. H samples best-of-N candidates at 0.7).
    public var temperature: Double = 0.7
    /// Nucleus mass.
    public var topP: Double = 1.0
    /// Seed of the sampling stream.
    public var seed: UInt64 = 0

    enum CodingKeys: String, CodingKey, CaseIterable { case maxNewTokens, temperature, topP, seed }

    /// Absent keys keep the defaults above; unknown keys are rejected.
    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try ParameterDecoding.container(decoder, CodingKeys.self, owner: "sampling")
        try c.update(&maxNewTokens, .maxNewTokens)
        try c.update(&temperature, .temperature)
        try c.update(&topP, .topP)
        try c.update(&seed, .seed)
    }

    public init(maxNewTokens: Int = 64, temperature: Double = 0.7, topP: Double = 1.0, seed: UInt64 = 0) {
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.topP = topP
        self.seed = seed
    }
}

/// Summary of a score over samples. Every std PrefLab reports is this one: the population standard
/// deviation (dividing by n) of the values at hand.
public struct ScoreSummary: Sendable {
    /// The scores, in sample order.
    public var values: [Double]
    public var mean: Double
    /// Population standard deviation over samples (divides by n).
    public var std: Double
    public var count: Int
    /// Fraction of samples that hit the length limit without EOS.
    public var truncatedFraction: Double

    init(_ xs: [Double], truncated: Int) {
        values = xs
        count = xs.count
        mean = xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count)
        let m = mean
        std = xs.isEmpty ? 0 : (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count)).squareRoot()
        truncatedFraction = xs.isEmpty ? 0 : Double(truncated) / Double(xs.count)
    }
}

/// Accuracy of a scorer against gold preferences.
public struct AccuracySummary: Sendable {
    /// Fraction of counted pairs the scorer orders as gold does.
    public var accuracy: Double
    /// Pairs counted.
    public var pairs: Int
    /// Pairs left out because gold saw a tie.
    public var goldTies: Int
}

/// One best-of-N pick.
public struct BestOfNResult: Sendable {
    public var prompt: Prompt
    /// The candidate with the highest reward-model score.
    public var best: Sample
    /// Reward-model scores of all N candidates, in sampling order.
    public var scores: [Double]
}

/// Evaluation of policies and reward models (D2PO Figs 3, 5, 6, 8; Unpacking Table 3).
public enum Evaluation {
    /// Samples `samplesPerPrompt` responses per prompt (one generate call per prompt block, deterministic).
    public static func sample(policy: Policy, prompts: [Prompt], samplesPerPrompt: Int = 1,
                              options: SamplingOptions = SamplingOptions()) throws -> [Sample] {
        var rng = SeededRandom(seed: options.seed).derived("evaluation-sample")
        return try policy.sample(promptIds(policy: policy, prompts: prompts, samplesPerPrompt: samplesPerPrompt),
                             maxNewTokens: options.maxNewTokens, temperature: Float(options.temperature),
                             topP: Float(options.topP), rng: &rng)
    }

    /// The prompt ids `sample` draws from: each prompt rendered with the chat template, `samplesPerPrompt` times in a row.
    public static func promptIds(policy: Policy, prompts: [Prompt], samplesPerPrompt: Int) -> [[Int32]] {
        prompts.flatMap { p in Array(repeating: policy.codec.promptTokens(p), count: max(1, samplesPerPrompt)) }
    }

    /// Gold reward R* of the policy's samples on held-out prompts: mean and std over samples.
    public static func goldReward(policy: Policy, task: any GoldTask, prompts: [Prompt], samplesPerPrompt: Int = 1,
                                  options: SamplingOptions = SamplingOptions()) throws -> (summary: ScoreSummary, samples: [Sample]) {
        let samples = try sample(policy: policy, prompts: prompts, samplesPerPrompt: samplesPerPrompt, options: options)
        return (goldReward(of: samples, prompts: prompts, samplesPerPrompt: samplesPerPrompt, task: task), samples)
    }

    /// Gold reward R* of samples drawn `samplesPerPrompt` per prompt, in prompt order (by PrefLab or by an outside
    /// generator such as vLLM): mean and std over samples.
    public static func goldReward(of samples: [Sample], prompts: [Prompt], samplesPerPrompt: Int, task: any GoldTask) -> ScoreSummary {
        let k = max(1, samplesPerPrompt)
        let rewards = samples.indices.map { task.reward(prompt: prompts[$0 / k], response: samples[$0].text) }
        return ScoreSummary(rewards, truncated: samples.filter(\.hitLengthLimit).count)
    }

    /// Mean response length in tokens (EOS not counted), 0 without samples.
    public static func meanResponseLength(_ samples: [Sample]) -> Double {
        samples.isEmpty ? 0 : samples.reduce(0.0) { $0 + Double($1.pair.response.count) } / Double(samples.count)
    }

    /// Mean gold reward per prompt category (the category is the last path part of the prompt's source,
    /// `all` without one) and `mean`, the unweighted mean of the category means: one sample per prompt.
    /// The per-prompt spread is measured, not assumed: `<category>_std` (population std over that
    /// category's prompts), `<category>_n`, and `mean_se`, the sampling standard error of `mean`
    /// (√(Σ std²/n) / categories, the categories' prompts being independent).
    public static func categoryScores(policy: Policy, task: any GoldTask, prompts: [Prompt],
                                      options: SamplingOptions) throws -> [String: Double] {
        categoryScores(of: try sample(policy: policy, prompts: prompts, options: options), prompts: prompts, task: task)
    }

    /// `categoryScores` of samples drawn elsewhere (vLLM): one per prompt, in prompt order.
    public static func categoryScores(of samples: [Sample], prompts: [Prompt], task: any GoldTask) -> [String: Double] {
        var rewards: [String: [Double]] = [:]
        for (prompt, sample) in zip(prompts, samples) {
            let category = (prompt.source ?? "all").split(separator: "/").last.map(String.init) ?? "all"
            rewards[category, default: []].append(task.reward(prompt: prompt, response: sample.text))
        }
        var out: [String: Double] = [:], variance = 0.0
        for (category, r) in rewards {
            let n = Double(r.count), mean = r.reduce(0, +) / n
            let std = (r.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
            out[category] = mean
            out[category + "_std"] = std
            out[category + "_n"] = n
            variance += std * std / n
        }
        let k = Double(max(rewards.count, 1))
        out["mean"] = rewards.keys.sorted().reduce(0) { $0 + out[$1]! } / k   // sorted: one summation order
        out["mean_se"] = variance.squareRoot() / k
        return out
    }

    /// KL(π ‖ π_ref) estimated on samples from π: mean over samples of Σ_t (log π − log π_ref).
    public static func klToReference(policy: Policy, reference: Policy, samples: [Sample]) throws -> Double {
        guard !samples.isEmpty else { return 0 }
        let pairs = samples.map(\.pair)
        let lp = try policy.sequenceLogProbs(pairs)
        let ref = try reference.sequenceLogProbs(pairs)
        return zip(lp, ref).reduce(0) { $0 + $1.0 - $1.1 } / Double(samples.count)
    }

    /// Reward-model accuracy on held-out text pairs: fraction with R(chosen) > R(rejected).
    public static func rewardModelAccuracy(_ rm: RewardModel, pairs: [PreferencePair]) throws -> Double {
        guard !pairs.isEmpty else { return 0 }
        let s = try rm.scores(pairs.map { rm.pair($0.prompt, $0.chosen) } + pairs.map { rm.pair($0.prompt, $0.rejected) })
        return Double(pairs.indices.filter { s[$0] > s[pairs.count + $0] }.count) / Double(pairs.count)
    }

    /// Accuracy of any judge of token pairs on text pairs (encoded as the policies do, EOS
    /// closing each response); a tie counts half, as a coin would break it.
    public static func pairAccuracy(_ pairs: [PreferencePair], codec: any TextCodec,
                                    score: ([SequencePair]) throws -> [Double]) throws -> Double {
        guard !pairs.isEmpty else { return 0 }
        let s = try score(pairItems(pairs, codec: codec))
        return pairAccuracy(chosen: Array(s[..<pairs.count]), rejected: Array(s[pairs.count...]))
    }

    /// What `pairAccuracy` scores: every pair's chosen response, then every rejected one, each after its prompt's ids
    /// (chat template, generation prompt) and closed by EOS.
    public static func pairItems(_ pairs: [PreferencePair], codec: any TextCodec) -> [SequencePair] {
        let item = { (p: PreferencePair, r: String) in SequencePair(prompt: codec.promptTokens(p.prompt), response: codec.encode(r) + [codec.eos]) }
        return pairs.map { item($0, $0.chosen) } + pairs.map { item($0, $0.rejected) }
    }

    /// Accuracy from a judge's scores of each pair's chosen and rejected response (scored here or by an engine):
    /// the fraction with chosen above rejected, a tie counting half.
    public static func pairAccuracy(chosen: [Double], rejected: [Double]) -> Double {
        guard !chosen.isEmpty else { return 0 }
        let points = zip(chosen, rejected).reduce(0.0) { $0 + ($1.0 > $1.1 ? 1 : $1.0 == $1.1 ? 0.5 : 0) }
        return points / Double(chosen.count)
    }

    /// Agreement of a scorer with the gold reward on pairs sampled from `policy` (D2PO Figs 5, 6, 8):
    /// two samples per prompt, gold ties thrown out.
    ///
    /// `score` maps (prompt, response) token pairs to rewards: a reward model's `scores`, or `implicitRewardScorer`.
    public static func accuracyOnPolicy(score: ([SequencePair]) throws -> [Double], policy: Policy, task: any GoldTask,
                                        prompts: [Prompt], options: SamplingOptions = SamplingOptions()) throws -> AccuracySummary {
        let samples = try sample(policy: policy, prompts: prompts, samplesPerPrompt: 2, options: options)
        return accuracyOnPolicy(scores: try score(samples.map(\.pair)), responses: samples.map(\.text), task: task, prompts: prompts)
    }

    /// `accuracyOnPolicy` of two samples per prompt drawn and scored elsewhere (an engine): `responses[2i]` and
    /// `responses[2i + 1]` answer `prompts[i]`, `scores` are the judge's of the same responses; gold ties thrown out.
    public static func accuracyOnPolicy(scores s: [Double], responses: [String], task: any GoldTask, prompts: [Prompt]) -> AccuracySummary {
        var correct = 0, counted = 0, ties = 0
        for (i, prompt) in prompts.enumerated() {
            let g1 = task.reward(prompt: prompt, response: responses[2 * i])
            let g2 = task.reward(prompt: prompt, response: responses[2 * i + 1])
            if g1 == g2 { ties += 1; continue }
            counted += 1
            if (g1 > g2) == (s[2 * i] > s[2 * i + 1]) { correct += 1 }
        }
        return AccuracySummary(accuracy: counted == 0 ? 0 : Double(correct) / Double(counted), pairs: counted, goldTies: ties)
    }

    /// A scorer giving the DPO implicit reward β·(log π − log π_ref) (D2PO Fig. 6, green).
    public static func implicitRewardScorer(policy: Policy, reference: Policy, beta: Double) -> ([SequencePair]) throws -> [Double] {
        { items in try D2POTrainer.implicitRewards(policy, reference, items, beta: beta) }
    }

    /// The DPO implicit reward β·(log π − log π_ref) of responses whose summed log-probabilities under the policy
    /// and the reference are given (computed here or by an engine).
    public static func implicitRewards(logProbs: [Double], referenceLogProbs: [Double], beta: Double) -> [Double] {
        zip(logProbs, referenceLogProbs).map { beta * ($0 - $1) }
    }

    /// Best-of-N: N samples per prompt (16, Unpacking Table 3 / App. H), the reward model keeps the top one.
    public static func bestOfN(policy: Policy, rewardModel: RewardModel, prompts: [Prompt], n: Int = 16,
                               options: SamplingOptions = SamplingOptions()) throws -> [BestOfNResult] {
        let k = max(1, n)
        return try bestOfN(samples: sample(policy: policy, prompts: prompts, samplesPerPrompt: k, options: options),
                           rewardModel: rewardModel, prompts: prompts, n: k)
    }

    /// The picks among samples drawn elsewhere (vLLM): `n` consecutive samples per prompt, in prompt order.
    public static func bestOfN(samples: [Sample], rewardModel: RewardModel, prompts: [Prompt], n k: Int) throws -> [BestOfNResult] {
        bestOfN(samples: samples, scores: try rewardModel.scores(samples.map(\.pair)), prompts: prompts, n: k)
    }

    /// The picks by a reward model's `scores` of the samples (computed here or by an engine), in sample order.
    public static func bestOfN(samples: [Sample], scores s: [Double], prompts: [Prompt], n k: Int) -> [BestOfNResult] {
        prompts.indices.map { i in
            let block = Array(s[(i * k)..<((i + 1) * k)])
            // First maximum wins ties, so the pick is deterministic.
            let best = block.indices.max { block[$0] < block[$1] || (block[$0] == block[$1] && $0 > $1) } ?? 0
            return BestOfNResult(prompt: prompts[i], best: samples[i * k + best], scores: block)
        }
    }

    /// Gold reward of best-of-N picks.
    public static func goldReward(of picks: [BestOfNResult], task: any GoldTask) -> ScoreSummary {
        ScoreSummary(picks.map { task.reward(prompt: $0.prompt, response: $0.best.text) },
                     truncated: picks.filter(\.best.hitLengthLimit).count)
    }
}
