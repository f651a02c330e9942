import Foundation
import Llama
import Optim
import Hyperparameters

/// Supervised fine-tuning: maximise log π(response | prompt), the loss on response tokens only.
public struct SFTTrainer {
    /// Settings, declared once in `Hyperparameters` (recipe keys, defaults, ranges, docs).
    public typealias Parameters = SFTParameters

    private struct Progress: Codable { var step: Int }

    public let parameters: Parameters

    public init(_ parameters: Parameters = Parameters()) { self.parameters = parameters }

    /// Trains `policy` on text demonstrations; the response is closed with EOS so the policy learns to stop.
    public func train(policy: Policy, examples: [(prompt: Prompt, response: String)],
                      control: TrainingControl = TrainingControl()) throws -> TrainingOutcome {
        try train(policy: policy, pairs: examples.map { policy.pair($0.prompt, $0.response) }, control: control)
    }

    /// Trains `policy` on token pairs.
    public func train(policy: Policy, pairs: [SequencePair], control: TrainingControl = TrainingControl()) throws -> TrainingOutcome {
        let p = parameters
        try validate(p, count: pairs.count)
        let stepsPerEpoch = (pairs.count + p.batchSize - 1) / p.batchSize
        let total = try TrainerKit.steps(stepsPerEpoch, times: p.epochs, "sft")
        let optimiser = TrainerKit.optimiser(policy.model, lr: p.learningRate, control)
        let schedule = LRSchedule.linearWarmupDecay(warmupFraction: p.warmupFraction, floorFraction: 0)
        let ckpt = Checkpointer<Progress>(control)
        var start = 0
        let restored = try ckpt.restore(models: ["policy": policy.model], optimisers: ["policy": optimiser])
        if let r = restored { start = r.step }
        var values = control.history.lastValues
        for step in start..<total {
            let clock = Date()
            let epoch = step / stepsPerEpoch
            let order = TrainerKit.epochOrder(count: pairs.count, epoch: epoch, seed: p.seed)
            let lo = (step % stepsPerEpoch) * p.batchSize
            let batch = order[lo..<min(lo + p.batchSize, pairs.count)].map { pairs[$0] }
            let (loss, tokens) = try accumulate(policy: policy, batch: batch)
            let lr = schedule.lr(step: step, totalSteps: total, peak: Float(p.learningRate))
            let norm = TrainerKit.optimiserStep(policy.model, optimiser, lr: lr, maxNorm: Float(p.maxGradNorm))
            values = ["loss": loss, "lr": Double(lr), "grad_norm": Double(norm),
                      "tokens_per_s": Double(tokens) / max(Date().timeIntervalSince(clock), 1e-9)]
            try control.report(step + 1, total, values, trainer: "sft")
            if ckpt.due(step + 1, total) {
                try ckpt.save(step: step + 1, models: ["policy": policy.model], optimisers: ["policy": optimiser],
                              progress: Progress(step: step + 1))
            }
            if step + 1 < total && control.shouldStop(step + 1) {
                return TrainingOutcome(stepsDone: step + 1, totalSteps: total, completed: false,
                                       resumedFromStep: restored?.step, lastValues: values, goldUsed: 0)
            }
        }
        return TrainingOutcome(stepsDone: total, totalSteps: total, completed: true, resumedFromStep: restored?.step,
                               lastValues: values, goldUsed: 0)
    }

    /// Accumulates the gradient of the mean token NLL over the whole batch; returns (loss, response tokens).
    private func accumulate(policy: Policy, batch: [SequencePair]) throws -> (Double, Int) {
        let totalTokens = batch.reduce(0) { $0 + min($1.response.count, policy.model.config.maxSeqLen - 1) }
        var loss = 0.0
        for lo in stride(from: 0, to: batch.count, by: parameters.microBatch) {
            let enc = try policy.encode(Array(batch[lo..<min(lo + parameters.microBatch, batch.count)]), training: true)
            let logp = policy.tokenLogProbsForTraining(enc)  // (B, T)
            var mask = [Bool](repeating: false, count: logp.count)  // (B, T)
            for b in 0..<enc.batch.batchSize {
                for t in enc.responseStart[b]..<(enc.responseStart[b] + enc.responseLength[b]) { mask[b * enc.batch.seqLen + t] = true }
            }
            let (microLoss, dLogp) = Losses.sftNLL(tokenLogProbs: logp, mask: mask)
            // Re-weight the micro-batch mean into the mean over every response token of the batch.
            let share = Double(enc.responseLength.reduce(0, +)) / Double(max(totalTokens, 1))
            loss += microLoss * share
            try policy.model.backwardTokenLogProbs(dLogp.map { $0 * Float(share) })
        }
        return (loss, totalTokens)
    }

    private func validate(_ p: Parameters, count: Int) throws {
        try TrainerKit.requireSane(p, "sft")
        if count == 0 { throw TrainingError.emptyDataset(trainer: "sft") }
        try TrainerKit.require(p.learningRate > 0, "sft", "learningRate", p.learningRate, "> 0")
        try TrainerKit.require(p.epochs >= 1, "sft", "epochs", p.epochs, ">= 1")
        try TrainerKit.require(p.batchSize >= 1, "sft", "batchSize", p.batchSize, ">= 1")
        try TrainerKit.require(p.microBatch >= 1, "sft", "microBatch", p.microBatch, ">= 1")
        try TrainerKit.require((0...1).contains(p.warmupFraction), "sft", "warmupFraction", p.warmupFraction, "in [0, 1]")
    }
}
