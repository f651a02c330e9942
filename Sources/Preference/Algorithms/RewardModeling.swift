import Foundation
import Llama
import Optim
import Hyperparameters

/// Bradley–Terry reward-model training (Unpacking Eq. 1): a scalar head read at the last token.
public struct RewardModelTrainer {
    /// Settings, declared once in `Hyperparameters` (recipe keys, defaults, ranges, docs).
    public typealias Parameters = RewardModelParameters

    private struct Progress: Codable { var step: Int }

    public let parameters: Parameters

    public init(_ parameters: Parameters = Parameters()) { self.parameters = parameters }

    /// Trains on text preferences; reports `heldout_accuracy` on `heldOut` after the last step.
    public func train(rewardModel: RewardModel, pairs: [PreferencePair], heldOut: [PreferencePair] = [],
                      control: TrainingControl = TrainingControl()) throws -> TrainingOutcome {
        let encode = { (p: PreferencePair) in
            TokenPreference(prompt: rewardModel.codec.promptTokens(p.prompt),
                            chosen: rewardModel.codec.encode(p.chosen) + [rewardModel.codec.eos],
                            rejected: rewardModel.codec.encode(p.rejected) + [rewardModel.codec.eos])
        }
        return try train(rewardModel: rewardModel, preferences: pairs.map(encode), heldOut: heldOut.map(encode), control: control)
    }

    /// Trains on token preferences.
    public func train(rewardModel: RewardModel, preferences: [TokenPreference], heldOut: [TokenPreference] = [],
                      control: TrainingControl = TrainingControl()) throws -> TrainingOutcome {
        let p = parameters
        try validate(p, count: preferences.count)
        let batchSize = min(p.batchSize, preferences.count)
        let stepsPerEpoch = (preferences.count + batchSize - 1) / batchSize
        let total = try TrainerKit.steps(stepsPerEpoch, times: p.epochs, "reward_model")
        let optimiser = TrainerKit.optimiser(rewardModel.model, lr: p.learningRate, control)
        let schedule = LRSchedule.linearWarmupDecay(warmupFraction: p.warmupFraction, floorFraction: p.floorFraction)
        let ckpt = Checkpointer<Progress>(control)
        let restored = try ckpt.restore(models: ["reward": rewardModel.model], optimisers: ["reward": optimiser])
        var values = control.history.lastValues
        for step in (restored?.step ?? 0)..<total {
            let clock = Date()
            let order = TrainerKit.epochOrder(count: preferences.count, epoch: step / stepsPerEpoch, seed: p.seed)
            let lo = (step % stepsPerEpoch) * batchSize
            let batch = order[lo..<min(lo + batchSize, preferences.count)].map { preferences[$0] }
            let (loss, accuracy, tokens) = try RewardUpdate.accumulate(rewardModel, batch, microBatch: p.microBatch)
            let lr = schedule.lr(step: step, totalSteps: total, peak: Float(p.learningRate))
            let norm = TrainerKit.optimiserStep(rewardModel.model, optimiser, lr: lr, maxNorm: Float(p.maxGradNorm))
            values = ["loss": loss, "accuracy": accuracy, "lr": Double(lr), "grad_norm": Double(norm),
                      "tokens_per_s": Double(tokens) / max(Date().timeIntervalSince(clock), 1e-9)]
            if step + 1 == total && !heldOut.isEmpty {
                values["heldout_accuracy"] = try RewardUpdate.accuracy(rewardModel, heldOut)
            }
            try control.report(step + 1, total, values, trainer: "reward_model")
            if ckpt.due(step + 1, total) {
                try ckpt.save(step: step + 1, models: ["reward": rewardModel.model], optimisers: ["reward": optimiser],
                              progress: Progress(step: step + 1))
            }
            if step + 1 < total && control.shouldStop(step + 1) {
                return TrainingOutcome(stepsDone: step + 1, totalSteps: total, completed: false,
                                       resumedFromStep: restored?.step, lastValues: values, goldUsed: 0)
            }
        }
        if restored?.step == total && !heldOut.isEmpty {
            values["heldout_accuracy"] = try RewardUpdate.accuracy(rewardModel, heldOut)
        }
        return TrainingOutcome(stepsDone: total, totalSteps: total, completed: true, resumedFromStep: restored?.step,
                               lastValues: values, goldUsed: 0)
    }

    private func validate(_ p: Parameters, count: Int) throws {
        try TrainerKit.requireSane(p, "reward_model")
        if count == 0 { throw TrainingError.emptyDataset(trainer: "reward_model") }
        try TrainerKit.require(p.learningRate > 0, "reward_model", "learningRate", p.learningRate, "> 0")
        try TrainerKit.require((0...1).contains(p.floorFraction), "reward_model", "floorFraction", p.floorFraction, "in [0, 1]")
        try TrainerKit.require((0...1).contains(p.warmupFraction), "reward_model", "warmupFraction", p.warmupFraction, "in [0, 1]")
        try TrainerKit.require(p.epochs >= 1, "reward_model", "epochs", p.epochs, ">= 1")
        try TrainerKit.require(p.batchSize >= 1, "reward_model", "batchSize", p.batchSize, ">= 1")
        try TrainerKit.require(p.microBatch >= 1, "reward_model", "microBatch", p.microBatch, ">= 1")
    }
}

/// The Bradley–Terry gradient of one batch, shared with D2PO's discriminator update (Algorithm 1 L14).
enum RewardUpdate {
    /// Accumulates the gradient of the batch-mean BT loss; returns (loss, accuracy, tokens).
    static func accumulate(_ rm: RewardModel, _ prefs: [TokenPreference], microBatch: Int) throws -> (Double, Double, Int) {
        let n = Double(max(prefs.count, 1))
        var loss = 0.0, accuracy = 0.0, tokens = 0
        for lo in stride(from: 0, to: prefs.count, by: max(1, microBatch)) {
            let part = Array(prefs[lo..<min(lo + max(1, microBatch), prefs.count)])
            let enc = try rm.encode(part.map(\.chosenPair) + part.map(\.rejectedPair), training: true)
            let s = rm.scoresForTraining(enc)
            let m = part.count
            let r = Losses.bradleyTerry(chosen: Array(s[0..<m]), rejected: Array(s[m...]))
            let w = Double(m) / n
            try rm.backward(enc, dScores: (r.dChosen + r.dRejected).map { $0 * w })
            loss += r.loss * w
            accuracy += r.accuracy * w
            tokens += enc.batch.lengths.reduce(0, +)
        }
        rm.clearBiasGradient()
        return (loss, accuracy, tokens)
    }

    /// Fraction of pairs where R(chosen) > R(rejected).
    static func accuracy(_ rm: RewardModel, _ prefs: [TokenPreference]) throws -> Double {
        guard !prefs.isEmpty else { return 0 }
        let s = try rm.scores(prefs.map(\.chosenPair) + prefs.map(\.rejectedPair))
        let n = prefs.count
        return Double((0..<n).filter { s[$0] > s[n + $0] }.count) / Double(n)
    }
}
