import XCTest
import Tensor
@testable import Llama

final class GradientTests: XCTestCase {
    func testLMHeadGradientsMatchFiniteDifferences() {
        for tied in [false, true] {
            let model = LlamaModel(config: tinyConfig(tied: tied), head: .lm, seed: 1)
            amplify(model, seed: 2)
            let batch = tinyBatch()
            let r = objectiveWeights(batch, seed: 3, skipFirst: true)
            let loss: () -> Double = {
                let lp = model.tokenLogProbs(batch, keepActivations: false)
                return zip(lp, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
            let worst = checkGradients(model, loss: loss, analytic: {
                _ = model.tokenLogProbs(batch, keepActivations: true)
                model.backwardTokenLogProbs(r)
            }, seed: 4)
            XCTAssertLessThan(worst, 2e-3, "tied: \(tied)")
        }
    }

    func testScalarHeadGradientsMatchFiniteDifferences() {
        let model = LlamaModel(config: tinyConfig(), head: .scalar, seed: 5)
        amplify(model, seed: 6)
        let batch = tinyBatch()
        let r = objectiveWeights(batch, seed: 7, skipFirst: false)
        let loss: () -> Double = {
            let out = model.scalarOutputs(batch, keepActivations: false)
            return zip(out, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        let worst = checkGradients(model, loss: loss, analytic: {
            _ = model.scalarOutputs(batch, keepActivations: true)
            model.backwardScalarOutputs(r)
        }, seed: 8)
        XCTAssertLessThan(worst, 2e-3)
    }

    func testPaddingDoesNotChangeResults() {
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
    func testGradientAccumulationAndInterleavedInference() {
        let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 12)
        amplify(model, seed: 13)
        let a = tinyBatch(), b = TokenBatch(sequences: [[3, 1, 4, 1, 5], [9, 2, 6]], pad: 0)
        let ra = objectiveWeights(a, seed: 14, skipFirst: true), rb = objectiveWeights(b, seed: 15, skipFirst: true)
        func grads() -> [Float] { Array(model.parameters[0].arena.grads) }
        model.zeroGradients()
        _ = model.tokenLogProbs(a, keepActivations: true)
        model.backwardTokenLogProbs(ra)
        let ga = grads()
        model.zeroGradients()
        _ = model.tokenLogProbs(b, keepActivations: true)
        _ = model.tokenLogProbs(a, keepActivations: false)
        model.backwardTokenLogProbs(rb)
        let gb = grads()
        model.zeroGradients()
        _ = model.tokenLogProbs(a, keepActivations: true)
        model.backwardTokenLogProbs(ra)
        _ = model.tokenLogProbs(b, keepActivations: true)
        model.backwardTokenLogProbs(rb)
        let both = grads()
        XCTAssertGreaterThan(gb.map(abs).max()!, 0.1)
        for j in both.indices { XCTAssertEqual(both[j], ga[j] + gb[j], accuracy: 1e-4) }
    }
}
