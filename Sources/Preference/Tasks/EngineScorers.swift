import Foundation
import Llama

/// A `SequenceScorer` over an LM-head `LlamaModel`: the Contrastive Distillation models.
///
/// Calls are serialised by a lock because the model reuses its activation buffers. Sequences
/// longer than the model's `maxSeqLen` keep their last `maxSeqLen` tokens (the prompt is cut
/// from the left); the response is always scored whole if it fits.
public final class LlamaSequenceScorer: SequenceScorer, @unchecked Sendable {
    let model: LlamaModel
    let lock = NSLock()

    /// `model` must have an LM head.
    public init(model: LlamaModel) throws {
        guard model.head == .lm else {
            throw TaskError("LlamaSequenceScorer needs a model with an LM head, got a \(model.head) head")
        }
        self.model = model
    }

    public func meanLogLikelihood(prompt: [Int32], response: [Int32]) -> Double {
        guard !response.isEmpty else { return 0 }
        var sequence = prompt + response
        if sequence.count > model.config.maxSeqLen { sequence = Array(sequence.suffix(model.config.maxSeqLen)) }
        let firstResponse = max(1, sequence.count - response.count)  // position 0 has no prediction
        guard firstResponse < sequence.count else { return 0 }
        let batch = TokenBatch(sequences: [sequence], pad: 0)
        lock.lock()
        let logProbs = model.tokenLogProbs(batch, keepActivations: false)  // (1, T)
        lock.unlock()
        let scored = logProbs[firstResponse..<sequence.count].map(Double.init)
        return scored.reduce(0, +) / Double(scored.count)
    }
}
