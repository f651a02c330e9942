import XCTest
import Tensor
@testable import Llama

final class GradientTests: XCTestCase {
    func testLMHeadGradientsMatchFiniteDifferences() throws {
        for tied in [false, true] {
            let model = LlamaModel(config: tinyConfig(tied: tied), head: .lm, seed: 1)
            amplify(model, seed: 2)
            let batch = tinyBatch()
            let r = objectiveWeights(batch, seed: 3, skipFirst: true)
            let loss: () -> Double = {
                let lp = model.tokenLogProbs(batch, keepActivations: false)
                return zip(lp, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
            let worst = try checkGradients(model, loss: loss, analytic: {
                _ = model.tokenLogProbs(batch, keepActivations: true)
                try model.backwardTokenLogProbs(r)
            }, seed: 4)
            XCTAssertLessThan(worst, 2e-3, "tied: \(tied)")
        }
    }

    /// A logits budget of a few rows (chunked head; backward recomputes the logits) gives the same
    /// log-probabilities and gradients as one chunk, and still matches finite differences.
    func testChunkedLMHeadMatchesOneChunk() throws {
        let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 1)
        amplify(model, seed: 2)
        let batch = tinyBatch()  // 21 rows: chunks of 5 leave a last chunk of 1
        let r = objectiveWeights(batch, seed: 3, skipFirst: true)
        func run() throws -> (lp: [Float], grads: [Float]) {
            model.zeroGradients()
            let lp = model.tokenLogProbs(batch, keepActivations: true)
            try model.backwardTokenLogProbs(r)
            return (lp, Array(model.parameters[0].arena.grads!))
        }
        let whole = try run()
        model.logitsBudgetBytes = 5 * 4 * model.config.vocabSize
        let chunked = try run()
        XCTAssertEqual(model.trainActs!.headRows, 5)
        XCTAssertFalse(model.trainActs!.headKept)
        for i in whole.lp.indices { XCTAssertEqual(chunked.lp[i], whole.lp[i], accuracy: 1e-6) }
        for i in whole.grads.indices { XCTAssertEqual(chunked.grads[i], whole.grads[i], accuracy: 1e-5) }
        let free = model.tokenLogProbs(batch, keepActivations: false)  // log-sum-exp path, 512-row chunks
        for i in whole.lp.indices { XCTAssertEqual(free[i], whole.lp[i], accuracy: 1e-5) }
        let worst = try checkGradients(model, loss: {
            zip(model.tokenLogProbs(batch, keepActivations: false), r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }, analytic: {
            _ = model.tokenLogProbs(batch, keepActivations: true)
            try model.backwardTokenLogProbs(r)
        }, seed: 4)
        XCTAssertLessThan(worst, 2e-3)
    }

    func testScalarHeadGradientsMatchFiniteDifferences() throws {
        let model = LlamaModel(config: tinyConfig(), head: .scalar, seed: 5)
        amplify(model, seed: 6)
        let batch = tinyBatch()
        let r = objectiveWeights(batch, seed: 7, skipFirst: false)
        let loss: () -> Double = {
            let out = model.scalarOutputs(batch, keepActivations: false)
            return zip(out, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        let worst = try checkGradients(model, loss: loss, analytic: {
            _ = model.scalarOutputs(batch, keepActivations: true)
            try model.backwardScalarOutputs(r)
        }, seed: 8)
        XCTAssertLessThan(worst, 2e-3)
    }

    func testPaddingDoesNotChangeResults() throws {
        let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 9)
        amplify(model, seed: 10)
        let batch = tinyBatch()
        let lp = model.tokenLogProbs(batch, keepActivations: false)
        let alone = model.tokenLogProbs(TokenBatch(sequences: [[4, 4, 0, 11]], pad: 3), keepActivations: false)
        for t in 0..<4 { XCTAssertEqual(lp[7 + t], alone[t], accuracy: 1e-5) }
        for t in 4..<7 { XCTAssertEqual(lp[7 + t], 0) }
        XCTAssertEqual(lp[0], 0)
    }

    /// Two forward/backward pairs accumulate the sum of their gradients, and a gradient-free forward
    /// in between does not disturb the kept activations.
    func testGradientAccumulationAndInterleavedInference() throws {
        let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 12)
        amplify(model, seed: 13)
        let a = tinyBatch(), b = TokenBatch(sequences: [[3, 1, 4, 1, 5], [9, 2, 6]], pad: 0)
        let ra = objectiveWeights(a, seed: 14, skipFirst: true), rb = objectiveWeights(b, seed: 15, skipFirst: true)
        func grads() -> [Float] { Array(model.parameters[0].arena.grads!) }
        model.zeroGradients()
        _ = model.tokenLogProbs(a, keepActivations: true)
        try model.backwardTokenLogProbs(ra)
        let ga = grads()
        model.zeroGradients()
        _ = model.tokenLogProbs(b, keepActivations: true)
        _ = model.tokenLogProbs(a, keepActivations: false)
        try model.backwardTokenLogProbs(rb)
        let gb = grads()
        model.zeroGradients()
        _ = model.tokenLogProbs(a, keepActivations: true)
        try model.backwardTokenLogProbs(ra)
        _ = model.tokenLogProbs(b, keepActivations: true)
        try model.backwardTokenLogProbs(rb)
        let both = grads()
        XCTAssertGreaterThan(gb.map(abs).max()!, 0.1)
        for j in both.indices { XCTAssertEqual(both[j], ga[j] + gb[j], accuracy: 1e-4) }
    }
}
