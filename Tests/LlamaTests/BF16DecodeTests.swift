import XCTest
import Tensor
@testable import Llama
import Randomness

/// A bf16 model decodes with bf16 panels: its decoding step's logits agree with its own bf16 full forward
/// (the same rounded operands, other summation orders), and an fp32 model still decodes with fp32 panels.
final class BF16DecodeTests: XCTestCase {
    /// Tolerance 0.02 on the amplified tiny model's O(1-10) logits: both sides round the same operands to
    /// bf16, but may sum in other orders (AMX groups k differently from the panels' pairs), and a last-bit
    /// fp32 difference upstream may move an activation across a bf16 rounding boundary on one side only.
    /// The same step with fp32 panels must differ: the bf16 panels ran.
    func testDecodeStepMatchesTheBF16Forward() throws {
        try XCTSkipUnless(BF16Kernels.available, BF16Kernels.unavailableReason ?? "")
        let config = LlamaConfig(vocabSize: 37, dModel: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, hidden: 96, maxSeqLen: 16)
        let model = LlamaModel(config: config, head: .lm, seed: 1)
        amplify(model, seed: 2)
        let fp32 = decodedLogits(model)
        try model.usePrecision(.bf16)
        let bf16 = decodedLogits(model)
        var worst: Float = 0, moved: Float = 0
        for (b, seq) in Self.prompts.enumerated() {
            let t = seq.count, V = config.vocabSize
            let full = model.logits(TokenBatch(sequences: [seq + [Self.next[b]]], pad: 0))
            for j in 0..<V {
                worst = max(worst, abs(bf16[b * V + j] - full[t * V + j]))
                moved = max(moved, abs(bf16[b * V + j] - fp32[b * V + j]))
            }
        }
        XCTAssertLessThan(worst, 0.02)
        XCTAssertGreaterThan(moved, 0.02, "bf16 decoding gave fp32's logits: the bf16 panels did not run")
    }

    static let prompts: [[Int32]] = [[1, 2, 3, 4], [5], [6, 7, 8, 9, 10, 11]]
    static let next: [Int32] = [12, 13, 14]

    /// Logits of one decoding step after a prefill of `prompts`, with panels in the model's precision.
    private func decodedLogits(_ model: LlamaModel) -> [Float] {
        let config = model.config
        let cache = KVCache(config: config, batch: 3, length: 8), scratch = DecodeScratch(config: config, n: 3)
        _ = model.forwardBody(TokenBatch(sequences: Self.prompts, pad: 0), keep: false, cache: cache)
        let weights = DecodeWeights(config: config, precision: model.precision)
        weights.pack(model)
        model.decodeStep(tokens: Self.next, seqs: [0, 1, 2], positions: Self.prompts.map(\.count), cache: cache, weights: weights,
                         s: scratch)
        return Array(UnsafeBufferPointer(start: scratch.logits, count: 3 * config.vocabSize))
    }

    /// generate() keeps panels in the model's precision and replaces them when the precision changes.
    func testGenerateUsesPanelsOfTheModelsPrecision() throws {
        try XCTSkipUnless(BF16Kernels.available, BF16Kernels.unavailableReason ?? "")
        let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 3)
        var rng = SeededRandom(seed: 1)
        let fp32 = model.generate(prompts: [[1, 2, 3]], maxNewTokens: 4, temperature: 0, topP: 1, eos: -1, rng: &rng)
        XCTAssertEqual(model.decodePanels?.precision, .fp32)
        try model.usePrecision(.bf16)
        _ = model.generate(prompts: [[1, 2, 3]], maxNewTokens: 4, temperature: 0, topP: 1, eos: -1, rng: &rng)
        XCTAssertEqual(model.decodePanels?.precision, .bf16)
        try model.usePrecision(.fp32)
        XCTAssertEqual(model.generate(prompts: [[1, 2, 3]], maxNewTokens: 4, temperature: 0, topP: 1, eos: -1, rng: &rng), fp32)
        XCTAssertEqual(model.decodePanels?.precision, .fp32)
    }
}
