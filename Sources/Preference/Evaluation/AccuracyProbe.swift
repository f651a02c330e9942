import Foundation

/// Judges' agreement with the gold reward on the pairs an online trainer samples from its current
/// policy (D2PO Figs 5, 6 and 8: reward-model accuracy as the policy's distribution shifts).
///
/// Measurement only: the gold rewards computed here never reach training and never count against
/// a gold budget. Pairs whose two responses tie under R* are thrown out, as in the paper; a judge
/// that scores a pair's responses equal earns half a point (its expected accuracy when the tie is
/// broken at random), so a policy equal to its reference reads 50 %, not 0 % or 100 %. Counts
/// accumulate over a window of `every` steps and are reported at its end as `probe_<judge>`
/// accuracies plus `probe_pairs`, and `probe_gold_reward`, the mean R* of every rollout of the
/// window (training prompts, training temperature: the paper's Fig. 3 curve is over held-out
/// prompts, so this is a proxy); a resumed run starts a fresh window.
public final class AccuracyProbe {
    /// The gold task whose R* decides which response of a pair is better.
    public let task: any GoldTask
    /// Steps per reported window.
    public let every: Int
    /// A reward model kept frozen from the start (the "static RM" line), if any.
    public let staticRewardModel: RewardModel?
    private var correct: [String: Double] = [:]
    private var counted = 0
    private var ties = 0
    private var rewardSum = 0.0
    private var rollouts = 0

    public init(task: any GoldTask, every: Int, staticRewardModel: RewardModel? = nil) {
        self.task = task
        self.every = max(1, every)
        self.staticRewardModel = staticRewardModel
    }

    /// One probed pair: a prompt and its two responses as the gold task reads them.
    public struct Pair {
        public var prompt: Prompt
        public var first: String
        public var second: String

        public init(prompt: Prompt, first: String, second: String) { (self.prompt, self.first, self.second) = (prompt, first, second) }
    }

    /// Records agreement on one step's pairs; `judges` maps a judge's name to its (R(x, y1), R(x, y2)) per pair.
    func record(_ candidates: [OnlinePairs.Candidate], judges: [String: [(Double, Double)]]) {
        record(candidates.map { Pair(prompt: $0.prompt, first: $0.firstText, second: $0.secondText) }, judges: judges)
    }

    /// The same record for pairs an engine sampled and scored (`preflab annotate`'s probe requests): the rule and
    /// the gold task are PrefLab's whichever engine drew the responses.
    public func record(_ pairs: [Pair], judges: [String: [(Double, Double)]]) {
        for name in judges.keys where correct[name] == nil { correct[name] = 0 }
        for (i, c) in pairs.enumerated() {
            let g1 = task.reward(prompt: c.prompt, response: c.first)
            let g2 = task.reward(prompt: c.prompt, response: c.second)
            rewardSum += g1 + g2
            rollouts += 2
            if g1 == g2 { ties += 1; continue }
            counted += 1
            for (name, scores) in judges {
                let (s1, s2) = scores[i]
                correct[name, default: 0] += s1 == s2 ? 0.5 : ((g1 > g2) == (s1 > s2) ? 1 : 0)
            }
        }
    }

    /// The static reward model's scores of each pair, when there is one.
    func staticScores(_ candidates: [OnlinePairs.Candidate]) throws -> [(Double, Double)]? {
        guard let rm = staticRewardModel, !candidates.isEmpty else { return nil }
        let s = try rm.scores(candidates.map(\.first) + candidates.map(\.second))
        return candidates.indices.map { (s[$0], s[candidates.count + $0]) }
    }

    /// At the end of a window (or of training): each judge's accuracy, then the counts restart.
    public func report(step: Int, total: Int) -> [String: Double] {
        guard step % every == 0 || step == total, rollouts > 0 else { return [:] }
        var out = ["probe_pairs": Double(counted), "probe_ties": Double(ties),
                   "probe_gold_reward": rewardSum / Double(rollouts)]
        for (name, c) in correct where counted > 0 { out["probe_" + name] = c / Double(counted) }
        correct = [:]
        rewardSum = 0
        rollouts = 0
        counted = 0
        ties = 0
        return out
    }
}
