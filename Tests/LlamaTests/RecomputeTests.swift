import XCTest
import Tensor
@testable import Llama
import Randomness

/// Activation recomputation changes memory only: the gradients are the kept forward's bit for bit. This is
/// why a trainer stage's `recompute` stays out of the node hash.
final class RecomputeTests: XCTestCase {
    /// A wider model and longer batch than `tinyConfig`, so the parallel kernels and blocked attention run.
    static let wide = LlamaConfig(vocabSize: 64, dModel: 64, nLayers: 3, nHeads: 4, nKVHeads: 2, hidden: 96, maxSeqLen: 80)

    static func batch(_ config: LlamaConfig, seed: UInt64) -> TokenBatch {
        var rng = SeededRandom(seed: seed)
        let lengths = [config.maxSeqLen, config.maxSeqLen / 2, config.maxSeqLen - 3, 5]
        return TokenBatch(sequences: lengths.map { n in (0..<n).map { _ in Int32(rng.nextInt(config.vocabSize)) } }, pad: 0)
    }

    /// Gradients of every parameter (LoRA factors included) after one forward and backward.
    private func gradients(_ model: LlamaModel, _ batch: TokenBatch, seed: UInt64) throws -> [String: [Float]] {
        model.zeroGradients()
        let r = objectiveWeights(batch, seed: seed, skipFirst: model.head == .lm)
        if model.head == .lm {
            _ = model.tokenLogProbs(batch, keepActivations: true)
            try model.backwardTokenLogProbs(r)
        } else {
            _ = model.scalarOutputs(batch, keepActivations: true)
            try model.backwardScalarOutputs(r)
        }
        var out: [String: [Float]] = [:]
        for p in model.parameters + model.loraParameters { out[p.name] = Array(p.grad) }
        return out
    }

    func testRecomputedGradientsAreBitIdentical() throws {
        let cases: [(LlamaConfig, HeadKind, Bool)] = [(tinyConfig(), .lm, false), (tinyConfig(tied: true), .lm, false),
                                                       (tinyConfig(), .scalar, false), (Self.wide, .lm, false),
                                                       (Self.wide, .scalar, false), (Self.wide, .lm, true)]
        for (i, (config, head, lora)) in cases.enumerated() {
            let kept = LlamaModel(config: config, head: head, seed: UInt64(10 + i))
            amplify(kept, seed: UInt64(20 + i))
            let redone = kept.copy(trainable: true)
            if lora {
                kept.attachLoRA(LoRAConfig(rank: 4, alpha: 8, targets: LoRAConfig.allTargets), seed: 3)
                redone.attachLoRA(LoRAConfig(rank: 4, alpha: 8, targets: LoRAConfig.allTargets), seed: 3)
                for (a, b) in zip(kept.loraParameters, redone.loraParameters) {  // B != 0, so adapters matter
                    for j in 0..<a.count where a.name.contains("lora_B") { a.value[j] = 0.1 * Float(j % 7 - 3); b.value[j] = a.value[j] }
                }
            }
            redone.recompute = true
            let batch = config == Self.wide ? Self.batch(config, seed: UInt64(i)) : tinyBatch()
            for step in 0..<2 {  // the second step reuses the arenas
                let want = try gradients(kept, batch, seed: UInt64(30 + step)), got = try gradients(redone, batch, seed: UInt64(30 + step))
                XCTAssertEqual(want.keys.sorted(), got.keys.sorted())
                for (name, g) in want {
                    XCTAssertEqual(got[name], g, "case \(i) step \(step): \(name)")
                    // With LoRA the adapted matrices' gradients go to their factors (the base's stay 0).
                    let adapted = lora && name.hasSuffix("proj.weight")
                    XCTAssertTrue(g.contains { $0 != 0 } || adapted || name == "score.bias", "case \(i): \(name) has a gradient")
                }
            }
        }
    }

    /// The kept forward gives the same outputs, and the arena holds block inputs instead of every block.
    func testRecomputeKeepsLessAndComputesTheSame() {
        let model = LlamaModel(config: Self.wide, head: .lm, seed: 7)
        let other = model.copy(trainable: true)
        other.recompute = true
        let batch = Self.batch(Self.wide, seed: 8)
        XCTAssertEqual(other.tokenLogProbs(batch, keepActivations: true), model.tokenLogProbs(batch, keepActivations: true))
        XCTAssertLessThan(other.activationBytes, model.activationBytes * 2 / 3)
        other.recompute = false  // switching back lays the arena out for every block again
        XCTAssertEqual(other.tokenLogProbs(batch, keepActivations: true), model.tokenLogProbs(batch, keepActivations: true))
        XCTAssertEqual(other.activationBytes, model.activationBytes)
    }
}
