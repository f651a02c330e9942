import Foundation
import Llama
import XCTest
@testable import Preference

/// Contrastive Distillation with two tiny Llama models as the large and small scorers.
final class TasksTestsEngine: XCTestCase {
    func tinyModel(seed: UInt64, maxSeqLen: Int = 48) -> LlamaModel {
        let config = LlamaConfig(vocabSize: 256, dModel: 16, nLayers: 1, nHeads: 2, nKVHeads: 1,
                                 hidden: 32, maxSeqLen: maxSeqLen)
        return LlamaModel(config: config, head: .lm, seed: seed)
    }

    /// Mean log p(response | prompt) recomputed from raw logits with a hand-written log-softmax.
    func referenceMean(_ model: LlamaModel, _ prompt: [Int32], _ response: [Int32]) -> Double {
        let seq = prompt + response
        let logits = model.logits(TokenBatch(sequences: [seq], pad: 0))  // (1, T, V)
        let v = model.config.vocabSize
        var total = 0.0
        for t in prompt.count..<seq.count {
            let row = (t - 1) * v
            let m = (0..<v).map { Double(logits[row + $0]) }.max() ?? 0
            let lse = m + log((0..<v).map { exp(Double(logits[row + $0]) - m) }.reduce(0, +))
            total += Double(logits[row + Int(seq[t])]) - lse
        }
        return total / Double(response.count)
    }

    func testRewardMatchesLogitsOfTwoTinyModels() throws {
        let large = tinyModel(seed: 1), small = tinyModel(seed: 2)
        let codec = UTF8ByteCodec()
        let task = ContrastiveDistillationTask(large: try LlamaSequenceScorer(model: large),
                                               small: try LlamaSequenceScorer(model: small),
                                               codec: codec, sentences: [])
        let prompt = Prompt("The county seat is"), response = " a town."
        let p = codec.encode(prompt.lastUserText), r = codec.encode(response)
        let expected = referenceMean(large, p, r) - referenceMean(small, p, r)
        XCTAssertEqual(task.reward(prompt: prompt, response: response), expected, accuracy: 1e-4)
        XCTAssertNotEqual(expected, 0)
        let same = ContrastiveDistillationTask(large: try LlamaSequenceScorer(model: large),
                                               small: try LlamaSequenceScorer(model: large),
                                               codec: codec, sentences: [])
        XCTAssertEqual(same.reward(prompt: prompt, response: response), 0, accuracy: 1e-9)
    }

    func testLongSequencesKeepTheirTail() throws {
        let model = tinyModel(seed: 3, maxSeqLen: 16)
        let scorer = try LlamaSequenceScorer(model: model)
        let prompt = [Int32](repeating: 65, count: 30), response: [Int32] = [66, 67, 68]
        let kept = Array(prompt.suffix(13))
        XCTAssertEqual(scorer.meanLogLikelihood(prompt: prompt, response: response),
                       referenceMean(model, kept, response), accuracy: 1e-4)
        XCTAssertThrowsError(try LlamaSequenceScorer(model: LlamaModel(config: model.config, head: .scalar, seed: 1)))
    }
}
