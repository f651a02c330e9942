import Foundation
import Llama
import Optim
import Randomness
import Hyperparameters

/// Online preference optimisation (D2PO §3.1): each step, two samples per prompt from the current policy,
/// labelled by a static reward model (OPO static RM) or the gold annotator (OPO gold), then a DPO update.
public struct OPOTrainer {
    /// Who labels the online pairs.
    public enum Labeler {
        /// The higher-scoring sample is chosen (ties: the first); costs no gold preferences.
        case staticRewardModel(RewardModel)
        /// The gold annotator labels every pair; each call spends one gold preference.
        case gold(any Annotator)
    }

    /// Settings, declared once in `Hyperparameters` (recipe keys, defaults, ranges, docs).
    public typealias Parameters = OPOParameters

    private struct Progress: Codable {
        var step: Int
        var goldUsed: Int
        /// The last `replayLast` gold preferences with their reference log-probs.
        var replay: [TokenPreference]
        var replayRef: [[Double]]
    }

    public let parameters: Parameters

    public init(_ parameters: Parameters = Parameters()) { self.parameters = parameters }

    /// Trains `policy` online on `prompts`; `reference` (π_sft) anchors the DPO loss. A `probe`
    /// measures the labeller's and the policy's implicit-reward accuracy on each step's pairs.
    public func train(policy: Policy, reference: Policy, labeler: Labeler, prompts: [Prompt],
                      control: TrainingControl = TrainingControl(), probe: AccuracyProbe? = nil) throws -> TrainingOutcome {
        let p = parameters
        try validate(p, promptCount: prompts.count)
        let isGold: Bool
        if case .gold = labeler { isGold = true } else { isGold = false }
        let budget = isGold ? (p.goldBudget ?? Int.max) : Int.max
        let updateEpochs = p.updateEpochs ?? (isGold ? 4 : 1)
        let stepsPerEpoch = prompts.count / p.promptsPerStep
        let budgetSteps = budget == Int.max ? Int.max : (budget + p.promptsPerStep - 1) / p.promptsPerStep
        let total = min(try TrainerKit.steps(stepsPerEpoch, times: p.epochs, "opo"), budgetSteps)
        let optimiser = TrainerKit.optimiser(policy.model, lr: p.learningRate, control)
        let schedule = LRSchedule.linearWarmupDecay(warmupFraction: p.warmupFraction, floorFraction: 1)
        let ckpt = Checkpointer<Progress>(control)
        let restored = try ckpt.restore(models: ["policy": policy.model], optimisers: ["policy": optimiser])
        var progress = restored?.progress ?? Progress(step: 0, goldUsed: 0, replay: [], replayRef: [])
        var values = control.history.lastValues
        for step in progress.step..<total {
            let clock = Date()
            let order = TrainerKit.epochOrder(count: prompts.count, epoch: step / stepsPerEpoch, seed: p.seed)
            let lo = (step % stepsPerEpoch) * p.promptsPerStep
            // The last step of a gold run labels only what is left of the budget.
            let count = min(p.promptsPerStep, budget - progress.goldUsed)
            let batchPrompts = order[lo..<(lo + count)].map { prompts[$0] }
            var rng = TrainerKit.stepRandom(seed: p.seed, step: step, "opo-sample")
            let candidates = try OnlinePairs.sample(policy: policy, prompts: batchPrompts, maxNewTokens: p.maxNewTokens,
                                                temperature: p.temperature, topP: p.topP, rng: &rng)
            if let probe { try record(probe, candidates, labeler: labeler, policy: policy, reference: reference) }
            let prefs = try label(candidates, labeler: labeler, progress: &progress)
            let ref = try DPOUpdate.referenceLogProbs(reference, prefs, options: p.loss)
            let kl = p.loss.kind == .simpo ? nil : try OnlinePairs.kl(policy: policy, prefs, ref)
            // Replayed preferences come from before this step; the new ones join the buffer after it.
            let trainPrefs = prefs + progress.replay
            let refChosen = ref.chosen + progress.replayRef.map { $0[0] }
            let refRejected = ref.rejected + progress.replayRef.map { $0[1] }
            var r = DPOUpdate.Result(loss: 0, accuracy: 0, margin: 0, chosenRewards: [], rejectedRewards: [], tokens: 0)
            for _ in 0..<updateEpochs {
                r = try DPOUpdate.accumulate(policy: policy, trainPrefs, refChosen: refChosen, refRejected: refRejected,
                                             options: p.loss, microBatch: p.microBatch)
                let lr = schedule.lr(step: optimiser.stepCount, totalSteps: total * updateEpochs, peak: Float(p.learningRate))
                TrainerKit.optimiserStep(policy.model, optimiser, lr: lr, maxNorm: Float(p.maxGradNorm))
            }
            if isGold && p.replayLast > 0 {
                progress.replay = Array((progress.replay + prefs).suffix(p.replayLast))
                progress.replayRef = Array((progress.replayRef + zip(ref.chosen, ref.rejected).map { [$0, $1] }).suffix(p.replayLast))
            }
            progress.step = step + 1
            values = ["loss": r.loss, "accuracy": r.accuracy, "margin": r.margin, "gold_used": Double(progress.goldUsed),
                      "tokens_per_s": Double(r.tokens * updateEpochs) / max(Date().timeIntervalSince(clock), 1e-9)]
            if let kl { values["kl"] = kl }
            if let probe { values.merge(probe.report(step: step + 1, total: total)) { $1 } }
            try control.report(step + 1, total, values, trainer: "opo")
            if ckpt.due(step + 1, total) {
                try ckpt.save(step: step + 1, models: ["policy": policy.model], optimisers: ["policy": optimiser], progress: progress)
            }
            if step + 1 < total && control.shouldStop(step + 1) {
                return TrainingOutcome(stepsDone: step + 1, totalSteps: total, completed: false,
                                       resumedFromStep: restored?.step, lastValues: values, goldUsed: progress.goldUsed)
            }
        }
        return TrainingOutcome(stepsDone: total, totalSteps: total, completed: true, resumedFromStep: restored?.step,
                               lastValues: values, goldUsed: progress.goldUsed)
    }

    /// Probe judges on this step's pairs: the static RM (the labeller's, or the probe's own) and
    /// the policy's DPO implicit reward, before the update.
    private func record(_ probe: AccuracyProbe, _ candidates: [OnlinePairs.Candidate], labeler: Labeler,
                        policy: Policy, reference: Policy) throws {
        var judges: [String: [(Double, Double)]] = [:]
        if let s = try probe.staticScores(candidates) {
            judges["static_rm"] = s
        } else if case .staticRewardModel(let rm) = labeler {
            judges["static_rm"] = try OnlinePairs.scores(candidates) { try rm.scores($0) }
        }
        judges["implicit"] = try OnlinePairs.scores(candidates) {
            try D2POTrainer.implicitRewards(policy, reference, $0, beta: parameters.loss.beta)
        }
        probe.record(candidates, judges: judges)
    }

    /// Orders each candidate pair into (chosen, rejected), counting gold labels.
    private func label(_ candidates: [OnlinePairs.Candidate], labeler: Labeler,
                       progress: inout Progress) throws -> [TokenPreference] {
        switch labeler {
        case .staticRewardModel(let rm):
            let s = try rm.scores(candidates.map(\.first) + candidates.map(\.second))
            let n = candidates.count
            return candidates.indices.map { candidates[$0].ordered(firstWins: s[$0] >= s[n + $0]) }
        case .gold(let annotator):
            var out: [TokenPreference] = []
            for c in candidates {
                let l = try annotator.label(prompt: c.prompt, c.firstText, c.secondText)
                progress.goldUsed += 1
                out.append(c.ordered(firstWins: l == .first))
            }
            return out
        }
    }

    private func validate(_ p: Parameters, promptCount: Int) throws {
        try TrainerKit.requireSane(p, "opo")
        let t = "opo"
        try DPOUpdate.validate(p.loss, t)
        try TrainerKit.require(p.promptsPerStep >= 1, t, "promptsPerStep", p.promptsPerStep, ">= 1")
        if promptCount < p.promptsPerStep { throw TrainingError.emptyDataset(trainer: "opo (fewer prompts than one step)") }
        try TrainerKit.require(p.epochs >= 1, t, "epochs", p.epochs, ">= 1")
        try TrainerKit.require((p.updateEpochs ?? 1) >= 1, t, "updateEpochs", p.updateEpochs ?? 1, ">= 1")
        try TrainerKit.require(p.replayLast >= 0, t, "replayLast", p.replayLast, ">= 0")
        try TrainerKit.require((p.goldBudget ?? 1) >= 1, t, "goldBudget", p.goldBudget ?? 1, ">= 1")
        try TrainerKit.require(p.maxNewTokens >= 1, t, "maxNewTokens", p.maxNewTokens, ">= 1")
        try TrainerKit.require(p.temperature > 0, t, "temperature", p.temperature, "> 0")
        try TrainerKit.require(p.learningRate > 0, t, "learningRate", p.learningRate, "> 0")
        try TrainerKit.require(p.microBatch >= 1, t, "microBatch", p.microBatch, ">= 1")
    }
}

/// Two samples per prompt from the current policy (Algorithm 1 L4–5), shared by OPO and D2PO.
enum OnlinePairs {
    /// (R(x, y1), R(x, y2)) of each candidate under a scorer of (prompt, response) token pairs.
    static func scores(_ cands: [Candidate], _ score: ([SequencePair]) throws -> [Double]) throws -> [(Double, Double)] {
        guard !cands.isEmpty else { return [] }
        let s = try score(cands.map(\.first) + cands.map(\.second))
        return cands.indices.map { (s[$0], s[cands.count + $0]) }
    }

    struct Candidate: Codable {
        var prompt: Prompt
        var promptIds: [Int32]
        var firstIds: [Int32]
        var secondIds: [Int32]
        var firstText: String
        var secondText: String

        var first: SequencePair { SequencePair(prompt: promptIds, response: firstIds) }
        var second: SequencePair { SequencePair(prompt: promptIds, response: secondIds) }

        func ordered(firstWins: Bool) -> TokenPreference {
            firstWins ? TokenPreference(prompt: promptIds, chosen: firstIds, rejected: secondIds)
                : TokenPreference(prompt: promptIds, chosen: secondIds, rejected: firstIds)
        }
    }

    /// Mean of log π/π_ref over freshly sampled responses: a sample estimate of KL(π ‖ π_ref).
    static func kl(policy: Policy, _ prefs: [TokenPreference], _ ref: (chosen: [Double], rejected: [Double])) throws -> Double {
        let lp = try policy.sequenceLogProbs(prefs.map(\.chosenPair) + prefs.map(\.rejectedPair))
        return TrainerKit.mean(zip(lp, ref.chosen + ref.rejected).map { $0 - $1 })
    }

    static func sample(policy: Policy, prompts: [Prompt], maxNewTokens: Int, temperature: Double, topP: Double,
                       rng: inout SeededRandom) throws -> [Candidate] {
        let ids = prompts.map { policy.codec.promptTokens($0) }
        // Both samples of every prompt in one generate call: [x1, x1, x2, x2, ...].
        let s = try policy.sample(ids.flatMap { [$0, $0] }, maxNewTokens: maxNewTokens, temperature: Float(temperature),
                              topP: Float(topP), rng: &rng)
        return prompts.indices.map { i in
            Candidate(prompt: prompts[i], promptIds: s[2 * i].pair.prompt, firstIds: s[2 * i].pair.response,
                      secondIds: s[2 * i + 1].pair.response, firstText: s[2 * i].text, secondText: s[2 * i + 1].text)
        }
    }
}
