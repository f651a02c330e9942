import Foundation
import Llama
import Optim
import Randomness
import Hyperparameters

/// D2PO (D2PO paper, Algorithm 1): silver labels from a discriminator every step, and every N/T_P rollouts
/// P/T_P gold labels that update both the discriminator (L14) and the policy (L15).
public struct D2POTrainer {
    /// The response evaluation model that silver-labels pairs (§6.2).
    public enum Discriminator {
        /// A Bradley–Terry reward model, updated on gold labels with the BT loss (the default, D2PO-RM).
        case rewardModel(RewardModel)
        /// A separate DPO model with implicit reward β_d·log π_d/π_ref, updated with the DPO loss (D2PO-DPO).
        case dpo(Policy, reference: Policy)
        /// The policy itself, implicit reward β·log π/π_ref (D2PO-self); its gold update is the policy's L15.
        case selfPolicy
    }

    /// How gold pairs are chosen from the candidates (L11).
    public typealias Selection = D2POParameters.Selection

    /// Settings, declared once in `Hyperparameters` (recipe keys, defaults, ranges, docs).
    public typealias Parameters = D2POParameters

    private struct Progress: Codable {
        var step: Int
        var goldUsed: Int
        var candidates: [OnlinePairs.Candidate]
        var goldRounds: Int
    }

    public let parameters: Parameters

    public init(_ parameters: Parameters = Parameters()) { self.parameters = parameters }

    /// Steps per gold round: enough steps to collect N/T_P rollout pairs.
    public var stepsPerRound: Int { (parameters.rolloutsPerGoldRound + parameters.promptsPerStep - 1) / parameters.promptsPerStep }

    /// Trains `policy` with silver labels from `discriminator` and at most `goldBudget` gold labels from `annotator`.
    /// A `probe` measures the discriminator's, the static RM's and the policy's implicit-reward
    /// accuracy on each step's rollouts (D2PO Fig. 6).
    public func train(policy: Policy, reference: Policy, discriminator: Discriminator, annotator: any Annotator,
                      prompts: [Prompt], control: TrainingControl = TrainingControl(),
                      probe: AccuracyProbe? = nil) throws -> TrainingOutcome {
        let p = parameters
        try validate(p, promptCount: prompts.count)
        let rounds = (p.goldBudget + p.goldPerRound - 1) / p.goldPerRound
        let total = try p.steps ?? TrainerKit.steps(rounds, times: stepsPerRound, "d2po")
        let policyOpt = TrainerKit.optimiser(policy.model, lr: p.learningRate, control)
        var models = ["policy": policy.model]
        var optimisers = ["policy": policyOpt]
        let discOpt: AdamW?
        switch discriminator {
        case .rewardModel(let rm): discOpt = TrainerKit.optimiser(rm.model, lr: p.discriminatorLearningRate, control)
            models["discriminator"] = rm.model
        case .dpo(let d, _): discOpt = TrainerKit.optimiser(d.model, lr: p.discriminatorLearningRate, control)
            models["discriminator"] = d.model
        case .selfPolicy: discOpt = nil
        }
        if let discOpt { optimisers["discriminator"] = discOpt }
        let ckpt = Checkpointer<Progress>(control)
        let restored = try ckpt.restore(models: models, optimisers: optimisers)
        var progress = restored?.progress ?? Progress(step: 0, goldUsed: 0, candidates: [], goldRounds: 0)
        var values = control.history.lastValues
        for step in progress.step..<total {
            let clock = Date()
            // L4–8: sample, silver-label with the discriminator, DPO update.
            let batchPrompts = TrainerKit.cyclicBatch(step: step, size: p.promptsPerStep, count: prompts.count, seed: p.seed)
                .map { prompts[$0] }
            var rng = TrainerKit.stepRandom(seed: p.seed, step: step, "d2po-sample")
            let candidates = try OnlinePairs.sample(policy: policy, prompts: batchPrompts, maxNewTokens: p.maxNewTokens,
                                                temperature: p.temperature, topP: p.topP, rng: &rng)
            let scores = try score(candidates, discriminator, policy: policy, reference: reference)
            if let probe { try record(probe, candidates, discriminatorScores: scores, policy: policy, reference: reference) }
            let silver = candidates.indices.map { candidates[$0].ordered(firstWins: scores[$0].0 >= scores[$0].1) }
            let silverRef = try DPOUpdate.referenceLogProbs(reference, silver, options: p.loss)
            let kl = p.loss.kind == .simpo ? nil : try OnlinePairs.kl(policy: policy, silver, silverRef)
            let r = try DPOUpdate.accumulate(policy: policy, silver, refChosen: silverRef.chosen, refRejected: silverRef.rejected,
                                             options: p.loss, microBatch: p.microBatch)
            TrainerKit.optimiserStep(policy.model, policyOpt, lr: Float(p.learningRate), maxNorm: Float(p.maxGradNorm))
            // L6; once the budget is spent no round will read candidates, so none are kept.
            if progress.goldUsed < p.goldBudget { progress.candidates += candidates }
            values = ["loss": r.loss, "accuracy": r.accuracy, "margin": r.margin]
            if let kl { values["kl"] = kl }
            // L9–17: a gold round every N/T_P rollouts, while budget remains.
            if (step + 1) % stepsPerRound == 0 && progress.goldUsed < p.goldBudget {
                let g = try goldRound(policy: policy, policyOpt: policyOpt, reference: reference, discriminator: discriminator, discOpt: discOpt,
                                      annotator: annotator, step: step, progress: &progress)
                values.merge(g) { $1 }
            }
            progress.step = step + 1
            values["gold_used"] = Double(progress.goldUsed)
            values["tokens_per_s"] = Double(r.tokens) / max(Date().timeIntervalSince(clock), 1e-9)
            if let probe { values.merge(probe.report(step: step + 1, total: total)) { $1 } }
            try control.report(step + 1, total, values, trainer: "d2po")
            if ckpt.due(step + 1, total) { try ckpt.save(step: step + 1, models: models, optimisers: optimisers, progress: progress) }
            if step + 1 < total && control.shouldStop(step + 1) {
                return TrainingOutcome(stepsDone: step + 1, totalSteps: total, completed: false,
                                       resumedFromStep: restored?.step, lastValues: values, goldUsed: progress.goldUsed)
            }
        }
        return TrainingOutcome(stepsDone: total, totalSteps: total, completed: true, resumedFromStep: restored?.step,
                               lastValues: values, goldUsed: progress.goldUsed)
    }

    /// Probe judges on this step's rollouts, before the update: discriminator, static RM, implicit reward.
    private func record(_ probe: AccuracyProbe, _ candidates: [OnlinePairs.Candidate], discriminatorScores: [(Double, Double)],
                        policy: Policy, reference: Policy) throws {
        var judges = ["discriminator": discriminatorScores]
        if let s = try probe.staticScores(candidates) { judges["static_rm"] = s }
        judges["implicit"] = try OnlinePairs.scores(candidates) {
            try Self.implicitRewards(policy, reference, $0, beta: parameters.loss.beta)
        }
        probe.record(candidates, judges: judges)
    }

    /// L11–17: select, gold-label, update discriminator and policy, reset candidates.
    private func goldRound(policy: Policy, policyOpt: AdamW, reference: Policy, discriminator: Discriminator, discOpt: AdamW?,
                           annotator: any Annotator, step: Int, progress: inout Progress) throws -> [String: Double] {
        let p = parameters
        let cands = progress.candidates
        let n = min(p.goldPerRound, p.goldBudget - progress.goldUsed, cands.count)
        let scores = try score(cands, discriminator, policy: policy, reference: reference)
        let chosenIdx = Self.select(n, from: scores, by: p.selection, step: step, seed: p.seed)
        var gold: [TokenPreference] = []
        var agree = 0
        for i in chosenIdx where progress.goldUsed < p.goldBudget {
            let label = try annotator.label(prompt: cands[i].prompt, cands[i].firstText, cands[i].secondText)  // L13
            progress.goldUsed += 1
            gold.append(cands[i].ordered(firstWins: label == .first))
            if (label == .first) == (scores[i].0 >= scores[i].1) { agree += 1 }
        }
        var out: [String: Double] = ["gold_round": 1, "silver_agreement": Double(agree) / Double(max(gold.count, 1))]
        if !gold.isEmpty {
            for _ in 0..<p.goldUpdateEpochs {
                if let d = try updateDiscriminator(discriminator, discOpt, gold) { out["disc_loss"] = d }  // L14
                let ref = try DPOUpdate.referenceLogProbs(reference, gold, options: p.loss)
                let r = try DPOUpdate.accumulate(policy: policy, gold, refChosen: ref.chosen, refRejected: ref.rejected,
                                                 options: p.loss, microBatch: p.microBatch)  // L15
                TrainerKit.optimiserStep(policy.model, policyOpt, lr: Float(p.learningRate), maxNorm: Float(p.maxGradNorm))
                out["gold_loss"] = r.loss
            }
        }
        progress.candidates = []  // L17
        progress.goldRounds += 1
        return out
    }

    /// L11: indices of `n` candidates, by smallest |R(x, y1) − R(x, y2)| (ties: earlier first) or at random (the round
    /// ending at `step`'s own permutation).
    static func select(_ n: Int, from scores: [(Double, Double)], by selection: Selection, step: Int, seed: UInt64) -> [Int] {
        switch selection {
        case .confidence:
            let gap = scores.map { abs($0.0 - $0.1) }
            return Array(scores.indices.sorted { (gap[$0], $0) < (gap[$1], $1) }.prefix(n))
        case .random:
            return Array(randomSelectionOrder(count: scores.count, step: step, seed: seed).prefix(n))
        }
    }

    /// The random selection's permutation of a round's `count` candidates, seeded by `seed` and the round's last step
    /// alone (an engine given it picks the same candidate positions).
    public static func randomSelectionOrder(count: Int, step: Int, seed: UInt64) -> [Int] {
        var rng = TrainerKit.stepRandom(seed: seed, step: step, "d2po-select")
        return Array(0..<count).shuffled(using: &rng)
    }

    /// One gradient step of the discriminator on gold pairs (none for the self-discriminator); returns its loss.
    private func updateDiscriminator(_ discriminator: Discriminator, _ opt: AdamW?, _ gold: [TokenPreference]) throws -> Double? {
        let p = parameters
        switch discriminator {
        case .rewardModel(let rm):
            let (loss, _, _) = try RewardUpdate.accumulate(rm, gold, microBatch: p.microBatch)
            if let opt { TrainerKit.optimiserStep(rm.model, opt, lr: Float(p.discriminatorLearningRate), maxNorm: Float(p.maxGradNorm)) }
            return loss
        case let .dpo(d, ref):
            let o = DPOLossOptions(kind: .sigmoid, beta: p.discriminatorBeta)
            let rl = try DPOUpdate.referenceLogProbs(ref, gold, options: o)
            let r = try DPOUpdate.accumulate(policy: d, gold, refChosen: rl.chosen, refRejected: rl.rejected, options: o,
                                             microBatch: p.microBatch)
            if let opt { TrainerKit.optimiserStep(d.model, opt, lr: Float(p.discriminatorLearningRate), maxNorm: Float(p.maxGradNorm)) }
            return r.loss
        case .selfPolicy:
            return nil
        }
    }

    /// Discriminator rewards R(x, y1), R(x, y2) of each candidate.
    private func score(_ cands: [OnlinePairs.Candidate], _ discriminator: Discriminator, policy: Policy,
                       reference: Policy) throws -> [(Double, Double)] {
        guard !cands.isEmpty else { return [] }
        let items = cands.map(\.first) + cands.map(\.second)
        let s: [Double]
        switch discriminator {
        case .rewardModel(let rm): s = try rm.scores(items)
        case let .dpo(d, ref): s = try Self.implicitRewards(d, ref, items, beta: parameters.discriminatorBeta)
        case .selfPolicy: s = try Self.implicitRewards(policy, reference, items, beta: parameters.loss.beta)
        }
        let n = cands.count
        return (0..<n).map { (s[$0], s[n + $0]) }
    }

    /// β·(log π − log π_ref): the DPO implicit reward.
    static func implicitRewards(_ policy: Policy, _ reference: Policy, _ items: [SequencePair], beta: Double) throws -> [Double] {
        Evaluation.implicitRewards(logProbs: try policy.sequenceLogProbs(items), referenceLogProbs: try reference.sequenceLogProbs(items), beta: beta)
    }

    private func validate(_ p: Parameters, promptCount: Int) throws {
        try TrainerKit.requireSane(p, "d2po")
        let t = "d2po"
        try DPOUpdate.validate(p.loss, t)
        if promptCount == 0 { throw TrainingError.emptyDataset(trainer: t) }
        try TrainerKit.require(p.learningRate > 0 && p.discriminatorLearningRate > 0, t, "learningRate/discriminatorLearningRate",
                               "\(p.learningRate)/\(p.discriminatorLearningRate)", "> 0")
        try TrainerKit.require(p.discriminatorBeta > 0, t, "discriminatorBeta", p.discriminatorBeta, "> 0")
        try TrainerKit.require(p.promptsPerStep >= 1, t, "promptsPerStep", p.promptsPerStep, ">= 1")
        try TrainerKit.require(p.rolloutsPerGoldRound >= 1, t, "rolloutsPerGoldRound", p.rolloutsPerGoldRound, ">= 1")
        try TrainerKit.require(p.goldPerRound >= 1, t, "goldPerRound", p.goldPerRound, ">= 1")
        try TrainerKit.require(p.goldBudget >= 0, t, "goldBudget", p.goldBudget, ">= 0")
        try TrainerKit.require((p.steps ?? 1) >= 1, t, "steps", p.steps ?? 1, ">= 1")
        try TrainerKit.require(p.goldUpdateEpochs >= 1, t, "goldUpdateEpochs", p.goldUpdateEpochs, ">= 1")
        try TrainerKit.require(p.maxNewTokens >= 1, t, "maxNewTokens", p.maxNewTokens, ">= 1")
        try TrainerKit.require(p.temperature > 0, t, "temperature", p.temperature, "> 0")
        try TrainerKit.require(p.microBatch >= 1, t, "microBatch", p.microBatch, ">= 1")
    }
}
