import XCTest
import Tensor
@testable import Llama
import Randomness

final class LoRATests: XCTestCase {
    /// A model with adapters on `targets`, B drawn non-zero so that every factor's gradient is non-trivial.
    func adapted(_ targets: [String]) -> LlamaModel {
        let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 1)
        amplify(model, seed: 2)
        model.attachLoRA(LoRAConfig(rank: 3, alpha: 6, targets: targets), seed: 3)
        var rng = SeededRandom(seed: 4)
        for p in model.loraParameters where p.name.hasSuffix("lora_B.weight") {
            for j in 0..<p.count { p.value[j] = 0.3 * rng.nextGaussian() }
        }
        return model
    }

    func testAttachingLeavesOutputsUnchangedAndNamesFollowPEFT() throws {
        let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 1)
        amplify(model, seed: 2)
        let before = model.tokenLogProbs(tinyBatch(), keepActivations: false)
        model.attachLoRA(LoRAConfig(rank: 2, alpha: 4), seed: 3)  // B = 0: W_eff = W
        XCTAssertEqual(model.tokenLogProbs(tinyBatch(), keepActivations: false), before)
        XCTAssertEqual(model.loraParameters.count, 2 * 2 * 2)  // 2 layers x (q, v) x (A, B)
        XCTAssertEqual(model.loraParameters[0].name, "model.layers.0.self_attn.q_proj.lora_A.weight")
        XCTAssertEqual(model.loraParameters[0].shape, [2, 16])
        XCTAssertEqual(model.loraParameters[3].name, "model.layers.0.self_attn.v_proj.lora_B.weight")
        XCTAssertEqual(model.loraParameters[3].shape, [8, 2])
    }

    /// d/dA and d/dB of a log-probability objective against central finite differences, every target.
    func testFactorGradientsMatchFiniteDifferences() throws {
        let model = adapted(LoRAConfig.allTargets)
        let batch = tinyBatch(), r = objectiveWeights(batch, seed: 5, skipFirst: true)
        model.zeroGradients()
        _ = model.tokenLogProbs(batch, keepActivations: true)
        try model.backwardTokenLogProbs(r)
        let base = model.parameters.first { $0.name == "model.layers.0.self_attn.q_proj.weight" }!
        XCTAssertEqual(base.grad.map(abs).max(), 0, "the adapted base matrix gets no gradient")
        var rng = SeededRandom(seed: 6)
        let h: Float = 1e-2
        for p in model.loraParameters {
            var dir = (0..<p.count).map { _ in rng.nextGaussian() }
            let norm = dir.reduce(0) { $0 + $1 * $1 }.squareRoot()
            dir = dir.map { $0 / norm }  // a unit step, as checkGradients takes
            let analytic = zip(p.grad, dir).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let saved = Array(p.value)
            func loss(_ step: Float) -> Double {
                for j in 0..<p.count { p.value[j] = saved[j] + step * dir[j] }
                return zip(model.tokenLogProbs(batch, keepActivations: false), r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
            let fd = (loss(h) - loss(-h)) / (2 * Double(h))
            p.setValue(saved)
            XCTAssertLessThan(abs(fd - analytic) / max(1, abs(analytic)), 2e-3, "\(p.name): fd \(fd) vs analytic \(analytic)")
        }
    }

    /// Merging folds scale * B A into the base weights: same outputs, no adapters left, and
    /// gradient-free generation through adapters agrees with the merged model.
    func testMergeKeepsOutputs() throws {
        let model = adapted(["q_proj", "o_proj", "down_proj"])
        let batch = tinyBatch()
        let withAdapters = model.tokenLogProbs(batch, keepActivations: false)
        var r1 = SeededRandom(seed: 1)
        let genAdapted = model.generate(prompts: [[1, 2, 3]], maxNewTokens: 4, temperature: 0, topP: 1, eos: -1, rng: &r1)
        model.mergeLoRA()
        XCTAssertTrue(model.loraParameters.isEmpty)
        let merged = model.tokenLogProbs(batch, keepActivations: false)
        for i in merged.indices { XCTAssertEqual(merged[i], withAdapters[i], accuracy: 1e-5) }
        var r2 = SeededRandom(seed: 1)
        XCTAssertEqual(model.generate(prompts: [[1, 2, 3]], maxNewTokens: 4, temperature: 0, topP: 1, eos: -1, rng: &r2),
                       genAdapted)
    }
}
