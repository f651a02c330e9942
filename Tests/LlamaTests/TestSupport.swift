import XCTest
import Tensor
@testable import Llama
import Randomness

/// The tiny configuration every gradient test uses.
func tinyConfig(tied: Bool = false) -> LlamaConfig {
    LlamaConfig(vocabSize: 17, dModel: 16, nLayers: 2, nHeads: 4, nKVHeads: 2, hidden: 24, maxSeqLen: 12,
                ropeBase: 10_000, normEps: 1e-5, tiedEmbeddings: tied)
}

/// Three sequences of lengths 7, 4 and 5 (T = 7, right-padded).
func tinyBatch() -> TokenBatch {
    TokenBatch(sequences: [[1, 5, 9, 2, 16, 3, 7], [4, 4, 0, 11], [8, 13, 2, 6, 10]], pad: 0)
}

/// Rescales every weight so that gradients are far from zero (0.02-std weights give vanishing signals).
func amplify(_ model: LlamaModel, seed: UInt64) {
    var rng = SeededRandom(seed: seed)
    for p in model.parameters {
        for j in 0..<p.count {
            p.value[j] = p.name.hasSuffix("norm.weight") ? 1 + 0.3 * rng.nextGaussian() : 0.4 * rng.nextGaussian()
        }
    }
}

/// Fixed random weights for a (B, T) objective, zero where the model's output is not defined.
func objectiveWeights(_ batch: TokenBatch, seed: UInt64, skipFirst: Bool) -> [Float] {
    var rng = SeededRandom(seed: seed)
    var r = [Float](repeating: 0, count: batch.batchSize * batch.seqLen)
    for b in 0..<batch.batchSize {
        for t in 0..<batch.lengths[b] where !(skipFirst && t == 0) { r[b * batch.seqLen + t] = rng.nextGaussian() }
    }
    return r
}

/// Checks, tensor by tensor, the analytic directional derivative against a central finite difference
/// of `loss` along a random direction; returns the worst relative error.
func checkGradients(_ model: LlamaModel, loss: () -> Double, analytic: () throws -> Void, seed: UInt64,
                    file: StaticString = #filePath, line: UInt = #line) rethrows -> Double {
    model.zeroGradients()
    try analytic()
    var rng = SeededRandom(seed: seed)
    var worst = 0.0
    let h = Float(1e-2)
    for p in model.parameters {
        var dir = (0..<p.count).map { _ in rng.nextGaussian() }
        let norm = dir.reduce(0) { $0 + $1 * $1 }.squareRoot()
        dir = dir.map { $0 / norm }
        var an = 0.0
        for j in 0..<p.count { an += Double(p.grad[j]) * Double(dir[j]) }
        let saved = Array(p.value)
        for j in 0..<p.count { p.value[j] = saved[j] + h * dir[j] }
        let up = loss()
        for j in 0..<p.count { p.value[j] = saved[j] - h * dir[j] }
        let down = loss()
        p.setValue(saved)
        let fd = (up - down) / (2 * Double(h))
        let err = abs(fd - an) / max(1, abs(an))
        worst = max(worst, err)
        XCTAssertLessThan(err, 2e-3, "\(p.name): finite difference \(fd) vs analytic \(an)", file: file, line: line)
    }
    print("worst relative gradient error:", worst)
    return worst
}
