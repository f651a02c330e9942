import Foundation
import Llama
import Optim
import Hyperparameters

/// PPO as the Unpacking paper implements it (App. F.2, Tables 9–11, App. G).
///
/// Per iteration: sample B prompts × r rollouts; score them with the reward model (EOS trick for truncated
/// ones); then for e inner epochs, per minibatch of b rollouts, recompute log-probs and values on the current
/// models (App. G), build token rewards (Eq. 4), GAE advantages (whitened per minibatch) and returns, and
/// step both models every g minibatches on the clipped policy loss + α × the clipped value loss.
public struct PPOTrainer {
    /// Where the value model starts (Table 10).
    public typealias ValueInit = PPOParameters.ValueInit
    /// The adaptive KL controller's settings (Table 10).
    public typealias AdaptiveKL = PPOParameters.AdaptiveKL

    /// Settings, declared once in `Hyperparameters` (recipe keys, defaults, ranges, docs).
    public typealias Parameters = PPOParameters

    private struct Progress: Codable {
        var step: Int
        var beta: Double
        var rewardMean: Double?
        var rewardStd: Double?
    }

    /// One rollout with what the update needs from it.
    private struct Rollout {
        var pair: SequencePair
        var score: Double       // RM score after EOS trick and normalisation
        var truncated: Bool
    }

    /// Per-token quantities of a rollout fixed at its first visit (App. G: from the current models).
    private struct Targets {
        var oldLogProbs: [Double]
        var oldValues: [Double]
        var advantages: [Double]
        var returns: [Double]
        var kl: Double
    }

    public let parameters: Parameters

    public init(_ parameters: Parameters = Parameters()) { self.parameters = parameters }

    /// Trains `policy` against `rewardModel`, with `reference` frozen for the KL penalty.
    ///
    /// `valueModel`, when given, is trained in place; otherwise one is built per `valueInit`.
    public func train(policy: Policy, reference: Policy, rewardModel: RewardModel, prompts: [Prompt],
                      valueModel: RewardModel? = nil, control: TrainingControl = TrainingControl()) throws -> TrainingOutcome {
        let p = parameters
        try validate(p, promptCount: prompts.count)
        let value = try valueModel ?? RewardModel(
            model: LlamaModel(bodyOf: p.valueInit == .rewardModel ? rewardModel.model : policy.model, head: .scalar, seed: p.seed),
            codec: rewardModel.codec)
        let itersPerEpoch = prompts.count / p.promptBatch
        let total = try TrainerKit.steps(itersPerEpoch, times: p.epochs, "ppo")
        let updatesPerIter = p.innerEpochs * (p.promptBatch * p.rolloutsPerPrompt) / (p.miniBatch * p.gradientAccumulation)
        let policyOpt = TrainerKit.optimiser(policy.model, lr: p.learningRate, control)
        let valueOpt = TrainerKit.optimiser(value.model, lr: p.learningRate, control)
        let ckpt = Checkpointer<Progress>(control)
        let models = ["policy": policy.model, "value": value.model]
        let optimisers = ["policy": policyOpt, "value": valueOpt]
        let restored = try ckpt.restore(models: models, optimisers: optimisers)
        var progress = restored?.progress ?? Progress(step: 0, beta: p.beta, rewardMean: nil, rewardStd: nil)
        var values = control.history.lastValues
        for step in progress.step..<total {
            let clock = Date()
            let order = TrainerKit.epochOrder(count: prompts.count, epoch: step / itersPerEpoch, seed: p.seed)
            let lo = (step % itersPerEpoch) * p.promptBatch
            let batchPrompts = order[lo..<(lo + p.promptBatch)].map { prompts[$0] }
            let rollouts = try rollout(policy: policy, rewardModel: rewardModel, prompts: batchPrompts, step: step,
                                       progress: &progress)
            let stats = try update(policy: policy, reference: reference, value: value, rollouts: rollouts, step: step,
                                   beta: progress.beta, optimisers: (policyOpt, valueOpt),
                                   totalUpdates: total * updatesPerIter)
            if let a = p.adaptiveKL {
                // Ziegler et al.: proportional controller on the clipped relative KL error.
                let err = min(max(stats["kl"]! / a.target - 1, -0.2), 0.2)
                progress.beta *= 1 + err * Double(rollouts.count) / a.horizon
            }
            progress.step = step + 1
            let tokens = rollouts.reduce(0) { $0 + $1.pair.response.count }
            values = stats.merging(["reward": TrainerKit.mean(rollouts.map(\.score)), "beta": progress.beta,
                                    "truncated": Double(rollouts.filter(\.truncated).count) / Double(rollouts.count),
                                    "tokens_per_s": Double(tokens) / max(Date().timeIntervalSince(clock), 1e-9)]) { $1 }
            try control.report(step + 1, total, values, trainer: "ppo")
            if ckpt.due(step + 1, total) { try ckpt.save(step: step + 1, models: models, optimisers: optimisers, progress: progress) }
            if step + 1 < total && control.shouldStop(step + 1) {
                return TrainingOutcome(stepsDone: step + 1, totalSteps: total, completed: false,
                                       resumedFromStep: restored?.step, lastValues: values, goldUsed: 0)
            }
        }
        return TrainingOutcome(stepsDone: total, totalSteps: total, completed: true, resumedFromStep: restored?.step,
                               lastValues: values, goldUsed: 0)
    }

    /// Samples r rollouts per prompt and scores them (EOS trick, optional normalisation).
    private func rollout(policy: Policy, rewardModel: RewardModel, prompts: [Prompt], step: Int,
                         progress: inout Progress) throws -> [Rollout] {
        let p = parameters
        let promptIds = prompts.flatMap { prompt in
            Array(repeating: Array(policy.codec.promptTokens(prompt).suffix(p.maxPromptTokens)), count: p.rolloutsPerPrompt)
        }
        var rng = TrainerKit.stepRandom(seed: p.seed, step: step, "rollout")
        let samples = try policy.sample(promptIds, maxNewTokens: p.maxNewTokens, temperature: Float(p.temperature),
                                    topP: Float(p.topP), rng: &rng)
        var scores = try rewardModel.scores(samples.map(\.pair))
        if p.rewardNormalization {
            if progress.rewardMean == nil {
                let m = TrainerKit.mean(scores)
                progress.rewardMean = m
                progress.rewardStd = max((scores.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(scores.count)).squareRoot(), 1e-6)
            }
            scores = scores.map { ($0 - progress.rewardMean!) / progress.rewardStd! }
        }
        return zip(samples, scores).map { s, score in
            let penalised = s.hitLengthLimit ? (p.eosPenalty ?? score) : score
            return Rollout(pair: s.pair, score: penalised, truncated: s.hitLengthLimit)
        }
    }

    /// The inner epochs over minibatches of one iteration; returns mean loss values.
    private func update(policy: Policy, reference: Policy, value: RewardModel, rollouts: [Rollout], step: Int,
                        beta: Double, optimisers: (AdamW, AdamW), totalUpdates: Int) throws -> [String: Double] {
        let p = parameters
        let schedule = LRSchedule.linearWarmupDecay(warmupFraction: p.warmupFraction, floorFraction: 1)
        var targets = [Targets?](repeating: nil, count: rollouts.count)
        var sums: [String: Double] = [:]
        var minibatches = 0
        for inner in 0..<p.innerEpochs {
            var rng = TrainerKit.stepRandom(seed: p.seed, step: step, "minibatch-\(inner)")
            let order = Array(0..<rollouts.count).shuffled(using: &rng)
            for (k, lo) in stride(from: 0, to: order.count, by: p.miniBatch).enumerated() {
                let rows = Array(order[lo..<(lo + p.miniBatch)])
                if targets[rows[0]] == nil {
                    let t = try computeTargets(policy: policy, reference: reference, value: value,
                                               rollouts: rows.map { rollouts[$0] }, beta: beta)
                    for (i, r) in rows.enumerated() { targets[r] = t[i] }
                }
                let s = try accumulateLosses(policy: policy, value: value, pairs: rows.map { rollouts[$0].pair },
                                             targets: rows.map { targets[$0]! })
                for (key, v) in s { sums[key, default: 0] += v }
                minibatches += 1
                if (k + 1) % p.gradientAccumulation == 0 {
                    let lr = schedule.lr(step: optimisers.0.stepCount, totalSteps: totalUpdates, peak: Float(p.learningRate))
                    TrainerKit.optimiserStep(policy.model, optimisers.0, lr: lr, maxNorm: Float(p.maxGradNorm))
                    TrainerKit.optimiserStep(value.model, optimisers.1, lr: lr, maxNorm: Float(p.maxGradNorm))
                    sums["lr", default: 0] += Double(lr) * Double(p.gradientAccumulation)
                }
            }
        }
        var out = sums.mapValues { $0 / Double(max(minibatches, 1)) }
        out["kl"] = TrainerKit.mean(targets.compactMap { $0?.kl })
        return out
    }

    /// Old log-probs and values from the current models, Eq. 4 rewards, GAE, and per-minibatch advantage whitening.
    private func computeTargets(policy: Policy, reference: Policy, value: RewardModel, rollouts: [Rollout],
                                beta: Double) throws -> [Targets] {
        let p = parameters
        let pairs = rollouts.map(\.pair)
        var logp: [[Double]] = [], refp: [[Double]] = [], vals: [[Double]] = []
        for lo in stride(from: 0, to: pairs.count, by: p.microBatch) {
            let enc = try policy.encode(Array(pairs[lo..<min(lo + p.microBatch, pairs.count)]))
            logp += Self.perToken(enc, policy.model.tokenLogProbs(enc.batch, keepActivations: false), shift: 0)
            refp += Self.perToken(enc, reference.model.tokenLogProbs(enc.batch, keepActivations: false), shift: 0)
            // V(x ∘ y_<t) is read at the position before response token t.
            vals += Self.perToken(enc, value.model.scalarOutputs(enc.batch, keepActivations: false), shift: -1)
        }
        var rewards = rollouts.indices.map { i in
            PPOLosses.tokenRewards(logProbs: logp[i], refLogProbs: refp[i], score: rollouts[i].score, beta: beta, clampKL: p.clampKL)
        }
        if p.rewardWhitening { rewards = Self.regroup(PPOLosses.whiten(rewards.flatMap { $0 }, shiftMean: false), like: rewards) }
        var adv: [[Double]] = [], ret: [[Double]] = []
        for i in rollouts.indices {
            let g = PPOLosses.gae(rewards: rewards[i], values: vals[i], gamma: p.gamma, lambda: p.lambda)
            adv.append(g.advantages)
            ret.append(g.returns)
        }
        adv = Self.regroup(PPOLosses.whiten(adv.flatMap { $0 }), like: adv)
        return rollouts.indices.map { i in
            Targets(oldLogProbs: logp[i], oldValues: vals[i], advantages: adv[i], returns: ret[i],
                    kl: zip(logp[i], refp[i]).reduce(0) { $0 + $1.0 - $1.1 })
        }
    }

    /// Forward/backward of both models on one minibatch, in micro-batches; gradients are scaled by 1/g.
    private func accumulateLosses(policy: Policy, value: RewardModel, pairs: [SequencePair],
                                  targets: [Targets]) throws -> [String: Double] {
        let p = parameters
        let totalTokens = Double(targets.reduce(0) { $0 + $1.advantages.count })
        let g = Double(p.gradientAccumulation)
        var out = ["loss": 0.0, "value_loss": 0.0, "clip_frac": 0.0, "value_clip_frac": 0.0]
        for lo in stride(from: 0, to: pairs.count, by: p.microBatch) {
            let hi = min(lo + p.microBatch, pairs.count)
            let t = Array(targets[lo..<hi])
            let enc = try policy.encode(Array(pairs[lo..<hi]), training: true)
            // The value model keeps its own activations beside the policy's.
            let policyBytes = policy.model.activationBytes(batch: enc.batch.batchSize, seqLen: enc.batch.seqLen, training: true)
            try value.model.checkActivationMemory(batch: enc.batch.batchSize, seqLen: enc.batch.seqLen, training: true,
                                                  available: SystemMemory.availableBytes().map { $0 - policyBytes })
            let logp = Self.perToken(enc, policy.tokenLogProbsForTraining(enc), shift: 0)
            let vals = Self.perToken(enc, value.model.scalarOutputs(enc.batch, keepActivations: true), shift: -1)
            let pl = PPOLosses.policyLoss(logProbs: logp.flatMap { $0 }, oldLogProbs: t.flatMap(\.oldLogProbs),
                                          advantages: t.flatMap(\.advantages), clip: p.clip)
            let vl = PPOLosses.valueLoss(values: vals.flatMap { $0 }, oldValues: t.flatMap(\.oldValues),
                                         returns: t.flatMap(\.returns), clip: p.clip)
            // Chunk means → minibatch mean over tokens, then the 1/g of gradient accumulation.
            let share = Double(pl.dLogProbs.count) / max(totalTokens, 1)
            try policy.model.backwardTokenLogProbs(Self.scatter(enc, pl.dLogProbs.map { $0 * share / g }, shift: 0))
            try value.model.backwardScalarOutputs(Self.scatter(enc, vl.dValues.map { $0 * p.valueCoefficient * share / g }, shift: -1))
            out["loss"]! += pl.loss * share
            out["value_loss"]! += vl.loss * share
            out["clip_frac"]! += pl.clipFraction * share
            out["value_clip_frac"]! += vl.clipFraction * share
        }
        return out
    }

    /// Per-row response slices of a (B, T) array, read `shift` positions from each response token.
    private static func perToken(_ enc: EncodedBatch, _ x: [Float], shift: Int) -> [[Double]] {
        (0..<enc.batch.batchSize).map { b in
            (0..<enc.responseLength[b]).map { k in Double(x[b * enc.batch.seqLen + enc.responseStart[b] + k + shift]) }
        }
    }

    /// Inverse of `perToken` for gradients: flat per-token values placed back into a (B, T) array.
    private static func scatter(_ enc: EncodedBatch, _ flat: [Double], shift: Int) -> [Float] {
        var out = [Float](repeating: 0, count: enc.batch.batchSize * enc.batch.seqLen)  // (B, T)
        var i = 0
        for b in 0..<enc.batch.batchSize {
            for k in 0..<enc.responseLength[b] {
                out[b * enc.batch.seqLen + enc.responseStart[b] + k + shift] = Float(flat[i])
                i += 1
            }
        }
        return out
    }

    private static func regroup(_ flat: [Double], like rows: [[Double]]) -> [[Double]] {
        var out: [[Double]] = []
        var i = 0
        for r in rows {
            out.append(Array(flat[i..<(i + r.count)]))
            i += r.count
        }
        return out
    }

    private func validate(_ p: Parameters, promptCount: Int) throws {
        try TrainerKit.requireSane(p, "ppo")
        let t = "ppo"
        try TrainerKit.require(p.promptBatch >= 1, t, "promptBatch", p.promptBatch, ">= 1")
        if promptCount < p.promptBatch { throw TrainingError.emptyDataset(trainer: "ppo (fewer prompts than one prompt batch)") }
        try TrainerKit.require(p.rolloutsPerPrompt >= 1, t, "rolloutsPerPrompt", p.rolloutsPerPrompt, ">= 1")
        try TrainerKit.require(p.miniBatch >= 1 && p.gradientAccumulation >= 1, t, "miniBatch×gradientAccumulation",
                               "\(p.miniBatch)×\(p.gradientAccumulation)", ">= 1")
        try TrainerKit.require((p.promptBatch * p.rolloutsPerPrompt) % (p.miniBatch * p.gradientAccumulation) == 0, t,
                               "miniBatch×gradientAccumulation", p.miniBatch * p.gradientAccumulation,
                               "a divisor of promptBatch×rolloutsPerPrompt = \(p.promptBatch * p.rolloutsPerPrompt)")
        try TrainerKit.require(p.epochs >= 1 && p.innerEpochs >= 1, t, "epochs/innerEpochs", "\(p.epochs)/\(p.innerEpochs)", ">= 1")
        try TrainerKit.require(p.maxPromptTokens >= 1 && p.maxNewTokens >= 1, t, "maxPromptTokens/maxNewTokens",
                               "\(p.maxPromptTokens)/\(p.maxNewTokens)", ">= 1")
        try TrainerKit.require(p.temperature > 0, t, "temperature", p.temperature, "> 0")
        try TrainerKit.require(p.beta >= 0 && p.clip > 0 && p.valueCoefficient >= 0, t, "beta/clip/valueCoefficient",
                               "\(p.beta)/\(p.clip)/\(p.valueCoefficient)", "beta >= 0, clip > 0, valueCoefficient >= 0")
        try TrainerKit.require(p.learningRate > 0, t, "learningRate", p.learningRate, "> 0")
        try TrainerKit.require(p.microBatch >= 1, t, "microBatch", p.microBatch, ">= 1")
    }
}
