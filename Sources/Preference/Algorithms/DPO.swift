import Foundation
import Llama
import Optim
import Hyperparameters

/// A preference as token ids: what DPO-family updates consume (offline pairs are encoded, online ones sampled).
public struct TokenPreference: Codable, Hashable, Sendable {
    public var prompt: [Int32]
    public var chosen: [Int32]
    public var rejected: [Int32]

    public init(prompt: [Int32], chosen: [Int32], rejected: [Int32]) {
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
    }

    var chosenPair: SequencePair { SequencePair(prompt: prompt, response: chosen) }
    var rejectedPair: SequencePair { SequencePair(prompt: prompt, response: rejected) }
}

/// Direct Preference Optimisation (Unpacking Eq. 3) on a fixed preference set, with the reference
/// log-probs computed once before training and cached.
public struct DPOTrainer {
    /// Settings, declared once in `Hyperparameters` (recipe keys, defaults, ranges, docs).
    public typealias Parameters = DPOParameters

    private struct Progress: Codable { var step: Int }

    public let parameters: Parameters

    public init(_ parameters: Parameters = Parameters()) { self.parameters = parameters }

    /// Trains `policy` on text preferences; `reference` defaults to a frozen copy of `policy` as passed in.
    public func train(policy: Policy, reference: Policy? = nil, pairs: [PreferencePair],
                      control: TrainingControl = TrainingControl()) throws -> TrainingOutcome {
        let tokens = pairs.map { p in
            TokenPreference(prompt: policy.codec.promptTokens(p.prompt),
                            chosen: policy.codec.encode(p.chosen) + [policy.codec.eos],
                            rejected: policy.codec.encode(p.rejected) + [policy.codec.eos])
        }
        return try train(policy: policy, reference: reference, preferences: tokens, control: control)
    }

    /// Trains `policy` on token preferences.
    public func train(policy: Policy, reference: Policy? = nil, preferences: [TokenPreference],
                      control: TrainingControl = TrainingControl()) throws -> TrainingOutcome {
        let p = parameters
        try validate(p, count: preferences.count)
        // Reference log-probs once, before any restore can change the policy's weights.
        let ref = try DPOUpdate.referenceLogProbs(reference ?? policy, preferences, options: p.loss)
        let stepsPerEpoch = (preferences.count + p.batchSize - 1) / p.batchSize
        let total = try TrainerKit.steps(stepsPerEpoch, times: p.epochs, "dpo")
        if let l = p.lora {
            policy.model.attachLoRA(LoRAConfig(rank: l.rank, alpha: Float(l.effectiveAlpha), targets: l.targets.names), seed: p.seed)
        }  // B = 0: outputs unchanged
        let optimiser = TrainerKit.optimiser(policy.model, lr: p.learningRate, control)
        let schedule = LRSchedule.linearWarmupDecay(warmupFraction: p.warmupFraction, floorFraction: 0)
        let ckpt = Checkpointer<Progress>(control)
        let restored = try ckpt.restore(models: ["policy": policy.model], optimisers: ["policy": optimiser])
        var values = control.history.lastValues
        for step in (restored?.step ?? 0)..<total {
            let clock = Date()
            let order = TrainerKit.epochOrder(count: preferences.count, epoch: step / stepsPerEpoch, seed: p.seed)
            let lo = (step % stepsPerEpoch) * p.batchSize
            let idx = Array(order[lo..<min(lo + p.batchSize, preferences.count)])
            let r = try DPOUpdate.accumulate(policy: policy, idx.map { preferences[$0] },
                                             refChosen: idx.map { ref.chosen[$0] }, refRejected: idx.map { ref.rejected[$0] },
                                             options: p.loss, microBatch: p.microBatch)
            let lr = schedule.lr(step: step, totalSteps: total, peak: Float(p.learningRate))
            let norm = TrainerKit.optimiserStep(policy.model, optimiser, lr: lr, maxNorm: Float(p.maxGradNorm))
            values = ["loss": r.loss, "accuracy": r.accuracy, "margin": r.margin,
                      "reward_chosen": TrainerKit.mean(r.chosenRewards), "reward_rejected": TrainerKit.mean(r.rejectedRewards),
                      "lr": Double(lr), "grad_norm": Double(norm),
                      "tokens_per_s": Double(r.tokens) / max(Date().timeIntervalSince(clock), 1e-9)]
            try control.report(step + 1, total, values, trainer: "dpo")
            if ckpt.due(step + 1, total) {
                try ckpt.save(step: step + 1, models: ["policy": policy.model], optimisers: ["policy": optimiser],
                              progress: Progress(step: step + 1))
            }
            if step + 1 < total && control.shouldStop(step + 1) {
                return TrainingOutcome(stepsDone: step + 1, totalSteps: total, completed: false,
                                       resumedFromStep: restored?.step, lastValues: values, goldUsed: 0)
            }
        }
        if p.lora != nil { policy.model.mergeLoRA() }  // the policy leaves as a plain model
        return TrainingOutcome(stepsDone: total, totalSteps: total, completed: true, resumedFromStep: restored?.step,
                               lastValues: values, goldUsed: 0)
    }

    private func validate(_ p: Parameters, count: Int) throws {
        try TrainerKit.requireSane(p, "dpo")
        if count == 0 { throw TrainingError.emptyDataset(trainer: "dpo") }
        try DPOUpdate.validate(p.loss, "dpo")
        try TrainerKit.require(p.learningRate > 0, "dpo", "learningRate", p.learningRate, "> 0")
        try TrainerKit.require(p.epochs >= 1, "dpo", "epochs", p.epochs, ">= 1")
        try TrainerKit.require(p.batchSize >= 1, "dpo", "batchSize", p.batchSize, ">= 1")
        try TrainerKit.require(p.microBatch >= 1, "dpo", "microBatch", p.microBatch, ">= 1")
        try TrainerKit.require((0...1).contains(p.warmupFraction), "dpo", "warmupFraction", p.warmupFraction, "in [0, 1]")
    }
}

/// The DPO gradient of one batch, shared by DPO, OPO and D2PO (the update of Algorithm 1 L8 and L15).
enum DPOUpdate {
    /// Loss values of one accumulated batch.
    struct Result {
        var loss: Double
        var accuracy: Double
        var margin: Double
        var chosenRewards: [Double]
        var rejectedRewards: [Double]
        var tokens: Int
    }

    static func validate(_ o: DPOLossOptions, _ trainer: String) throws {
        try TrainerKit.require(o.beta > 0, trainer, "loss.beta", o.beta, "> 0")
        try TrainerKit.require((0..<0.5).contains(o.labelSmoothing), trainer, "loss.labelSmoothing", o.labelSmoothing, "in [0, 0.5)")
    }

    /// log π_ref of chosen and rejected responses (zeros for SimPO, which has no reference).
    static func referenceLogProbs(_ reference: Policy, _ prefs: [TokenPreference], options: DPOLossOptions) throws
        -> (chosen: [Double], rejected: [Double]) {
        if options.kind == .simpo || prefs.isEmpty {
            let z = [Double](repeating: 0, count: prefs.count)
            return (z, z)
        }
        let lp = try reference.sequenceLogProbs(prefs.map(\.chosenPair) + prefs.map(\.rejectedPair))
        return (Array(lp[0..<prefs.count]), Array(lp[prefs.count...]))
    }

    /// Accumulates the gradient of the batch-mean loss into `policy` (no optimiser step).
    static func accumulate(policy: Policy, _ prefs: [TokenPreference], refChosen: [Double], refRejected: [Double],
                           options: DPOLossOptions, microBatch: Int) throws -> Result {
        var out = Result(loss: 0, accuracy: 0, margin: 0, chosenRewards: [], rejectedRewards: [], tokens: 0)
        let n = Double(max(prefs.count, 1))
        for lo in stride(from: 0, to: prefs.count, by: max(1, microBatch)) {
            let hi = min(lo + max(1, microBatch), prefs.count)
            let part = Array(prefs[lo..<hi])
            // Chosen rows then rejected rows in one forward pass.
            let enc = try policy.encode(part.map(\.chosenPair) + part.map(\.rejectedPair), training: true)
            let seq = enc.responseSums(policy.tokenLogProbsForTraining(enc))
            let m = part.count
            let r = Losses.dpo(policyChosen: Array(seq[0..<m]), policyRejected: Array(seq[m...]),
                               referenceChosen: Array(refChosen[lo..<hi]), referenceRejected: Array(refRejected[lo..<hi]),
                               chosenLengths: Array(enc.responseLength[0..<m]), rejectedLengths: Array(enc.responseLength[m...]),
                               options: options)
            // Micro-batch means re-weighted into the batch mean.
            let w = Double(m) / n
            try policy.backward(enc, dSequence: (r.dChosen + r.dRejected).map { $0 * w })
            out.loss += r.loss * w
            out.accuracy += r.accuracy * w
            out.margin += r.margin * w
            out.chosenRewards += r.chosenRewards
            out.rejectedRewards += r.rejectedRewards
            out.tokens += enc.responseLength.reduce(0, +)
        }
        return out
    }
}
