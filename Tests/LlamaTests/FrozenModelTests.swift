import XCTest
import Tensor
@testable import Llama
import Randomness

/// Models that are never trained (references, scorers, evaluation) hold no gradient arena.
final class FrozenModelTests: XCTestCase {
    /// A frozen copy computes exactly what its trainable original does, on every forward path.
    func testFrozenForwardIsBitIdentical() {
        for head in [HeadKind.lm, .scalar] {
            let model = LlamaModel(config: tinyConfig(), head: head, seed: 1)
            amplify(model, seed: 2)
            let frozen = model.copy()
            XCTAssertTrue(model.isTrainable)
            XCTAssertFalse(frozen.isTrainable)
            XCTAssertFalse(frozen.parameters.contains { $0.hasGradient })
            let batch = tinyBatch()
            for keep in [false, true] {
                if head == .lm {
                    XCTAssertEqual(frozen.tokenLogProbs(batch, keepActivations: keep), model.tokenLogProbs(batch, keepActivations: keep))
                } else {
                    XCTAssertEqual(frozen.scalarOutputs(batch, keepActivations: keep), model.scalarOutputs(batch, keepActivations: keep))
                }
            }
            guard head == .lm else { continue }
            XCTAssertEqual(frozen.logits(batch), model.logits(batch))
            var g1 = SeededRandom(seed: 3), g2 = SeededRandom(seed: 3)
            let prompts: [[Int32]] = [[1, 5, 9], [4, 4]]
            XCTAssertEqual(frozen.generate(prompts: prompts, maxNewTokens: 5, temperature: 0.8, topP: 0.9, eos: -1, rng: &g1),
                           model.generate(prompts: prompts, maxNewTokens: 5, temperature: 0.8, topP: 0.9, eos: -1, rng: &g2))
        }
    }

    /// Backward on a frozen model throws (both heads); after makeTrainable it gives the original's gradients.
    func testFrozenBackwardThrowsUntilMadeTrainable() throws {
        let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 4)
        amplify(model, seed: 5)
        let frozen = model.copy()
        let batch = tinyBatch(), r = objectiveWeights(batch, seed: 6, skipFirst: true)
        _ = frozen.tokenLogProbs(batch, keepActivations: true)
        XCTAssertThrowsError(try frozen.backwardTokenLogProbs(r)) { XCTAssertEqual($0 as? LlamaError, .frozen("backwardTokenLogProbs")) }
        frozen.zeroGradients()  // nothing to clear: no effect, no crash
        frozen.makeTrainable()
        XCTAssertTrue(frozen.isTrainable)
        _ = frozen.tokenLogProbs(batch, keepActivations: true)
        try frozen.backwardTokenLogProbs(r)
        model.zeroGradients()
        _ = model.tokenLogProbs(batch, keepActivations: true)
        try model.backwardTokenLogProbs(r)
        for (a, b) in zip(frozen.parameters, model.parameters) { XCTAssertEqual(Array(a.grad), Array(b.grad), a.name) }

        let scorer = LlamaModel(config: tinyConfig(), head: .scalar, seed: 7).copy()
        _ = scorer.scalarOutputs(batch, keepActivations: true)
        XCTAssertThrowsError(try scorer.backwardScalarOutputs(r)) { XCTAssertEqual($0 as? LlamaError, .frozen("backwardScalarOutputs")) }
    }

    /// The frozen model holds its values only: half the trainable parameter bytes.
    func testFrozenModelHoldsValuesOnly() {
        let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 1)
        let values = 4 * model.parameters.reduce(0) { $0 + $1.count }
        XCTAssertEqual(model.parameterBytes, 2 * values)
        XCTAssertEqual(model.copy().parameterBytes, values)
        XCTAssertEqual(model.copy(trainable: true).parameterBytes, 2 * values)
        XCTAssertEqual(LlamaModel(config: tinyConfig(), head: .lm, seed: 1, trainable: false).parameterBytes, values)
    }
}
