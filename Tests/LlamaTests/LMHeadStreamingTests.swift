import XCTest
import Tensor
@testable import Llama
import Randomness

/// The streamed LM head (`HeadPlan`: no logits kept under `recompute`, small tiles for gradient-free passes):
/// bf16 log-probs and gradients are the kept path's bit for bit; fp32 ones are within 1e-5 of the largest
/// entry (bit for bit with some OpenBLAS cores' kernels, not with Haswell's or Zen's, so `recompute`, which
/// selects it, enters the node hash). Stored Results never run it: nothing else changed path.
final class LMHeadStreamingTests: XCTestCase {
    /// A vocabulary that is not a multiple of 8 (exp8's scalar tail) and batches of unequal lengths.
    static let odd = LlamaConfig(vocabSize: 1003, dModel: 32, nLayers: 2, nHeads: 4, nKVHeads: 2, hidden: 48, maxSeqLen: 40)
    /// SmolLM2's vocabulary and a 4 x 128 batch: the default tiles (85 rows, 8,192 columns) at real sizes.
    static let wideVocab = LlamaConfig(vocabSize: 49_152, dModel: 64, nLayers: 1, nHeads: 4, nKVHeads: 2, hidden: 64,
                                       maxSeqLen: 128, tiedEmbeddings: true)

    static func batch(_ c: LlamaConfig, seed: UInt64) -> TokenBatch {
        var rng = SeededRandom(seed: seed)
        let lengths = [c.maxSeqLen, c.maxSeqLen / 2, c.maxSeqLen - 3, 5]
        return TokenBatch(sequences: lengths.map { n in (0..<n).map { _ in Int32(rng.nextInt(c.vocabSize)) } }, pad: 0)
    }

    /// Log-probs of a kept forward and every gradient after its backward.
    private func step(_ model: LlamaModel, _ batch: TokenBatch, seed: UInt64) throws -> (logProbs: [Float], grads: [String: [Float]]) {
        model.zeroGradients()
        let lp = model.tokenLogProbs(batch, keepActivations: true)
        try model.backwardTokenLogProbs(objectiveWeights(batch, seed: seed, skipFirst: true))
        var grads: [String: [Float]] = [:]
        for p in model.parameters { grads[p.name] = Array(p.grad) }
        return (lp, grads)
    }

    /// Equal bits (`exact`), or within 1e-5 of the largest magnitude of `want`.
    private func assertSame(_ got: [Float]?, _ want: [Float], exact: Bool, _ label: String) {
        guard let got, got.count == want.count else { return XCTFail("\(label): \(got?.count ?? -1) values, want \(want.count)") }
        if exact { return XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern), label) }
        let scale = want.map(abs).max() ?? 0, worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-5 * scale, label)
    }

    /// `reference` (kept or chunked head) against a streamed copy with `tileBytes`, two steps each.
    private func assertStreamedMatches(_ reference: LlamaModel, tileBytes: Int, _ batch: TokenBatch, _ label: String) throws {
        let exact = reference.precision == .bf16
        let streamed = reference.copy(trainable: true)
        streamed.recompute = true
        streamed.headTileBytes = tileBytes
        streamed.logitsBudgetBytes = reference.logitsBudgetBytes
        for s in 0..<2 {
            let want = try step(reference, batch, seed: UInt64(40 + s)), got = try step(streamed, batch, seed: UInt64(40 + s))
            XCTAssertTrue(streamed.trainActs!.head.streamed, label)
            assertSame(got.logProbs, want.logProbs, exact: exact, "\(label) step \(s): log-probs")
            for (name, g) in want.grads {
                assertSame(got.grads[name], g, exact: exact, "\(label) step \(s): \(name)")
                XCTAssertTrue(g.contains { $0 != 0 }, "\(label): \(name) has a gradient")
            }
        }
        assertSame(streamed.tokenLogProbs(batch, keepActivations: false), reference.tokenLogProbs(batch, keepActivations: false),
                   exact: exact, "\(label): gradient-free log-probs")
    }

    func testStreamedHeadMatchesTheKeptHead() throws {
        for (i, (config, tied)) in [(Self.odd, false), (Self.odd, true)].enumerated() {
            let c = LlamaConfig(vocabSize: config.vocabSize, dModel: config.dModel, nLayers: config.nLayers, nHeads: config.nHeads,
                                nKVHeads: config.nKVHeads, hidden: config.hidden, maxSeqLen: config.maxSeqLen, tiedEmbeddings: tied)
            let kept = LlamaModel(config: c, head: .lm, seed: UInt64(50 + i))
            amplify(kept, seed: UInt64(60 + i))
            let batch = Self.batch(c, seed: UInt64(i))
            // 64-row tiles (64, 64, 32); vocabulary tiles of 64 columns over the 160-row chunk, the last one 43 wide.
            try assertStreamedMatches(kept, tileBytes: 4 * 160 * 64, batch, "case \(i) kept")
            XCTAssertTrue(kept.trainActs!.head.kept)
            kept.logitsBudgetBytes = 4 * c.vocabSize * 50  // the old chunked path: 50-row chunks recomputed in backward
            try assertStreamedMatches(kept, tileBytes: 4 * 160 * 64, batch, "case \(i) chunked")
            XCTAssertFalse(kept.trainActs!.head.kept)
        }
    }

    func testDefaultTilesAtSmolLM2VocabularyMatch() throws {
        let kept = LlamaModel(config: Self.wideVocab, head: .lm, seed: 70)
        let batch = Self.batch(Self.wideVocab, seed: 71)
        try assertStreamedMatches(kept, tileBytes: kept.headTileBytes, batch, "wide vocabulary")
        let plan = kept.copy(trainable: true)
        plan.recompute = true
        let p = plan.headPlan(b: 4, t: 128, keep: true)
        XCTAssertEqual([p.rowTile, p.vocabTile, p.chunkRows], [64, 8192, 512])
        // Neither the training arena nor the gradient-free one holds 512 rows of logits any more.
        let logits = 512 * 49_152 * 4
        XCTAssertLessThan(plan.activationBytes(batch: 4, seqLen: 128, training: true),
                          kept.activationBytes(batch: 4, seqLen: 128, training: true) - logits * 3 / 4)
        XCTAssertLessThan(plan.activationBytes(batch: 4, seqLen: 128, training: false), logits / 2)
        XCTAssertGreaterThan(kept.activationBytes(batch: 4, seqLen: 128, training: false), logits)  // fp32 without recompute: as before
    }

    func testBF16StreamedHeadIsBitIdentical() throws {
        try XCTSkipUnless(BF16Kernels.available, BF16Kernels.unavailableReason ?? "")
        let kept = LlamaModel(config: Self.odd, head: .lm, seed: 80)
        amplify(kept, seed: 81)
        try kept.usePrecision(.bf16)
        try assertStreamedMatches(kept, tileBytes: 4 * 160 * 64, Self.batch(Self.odd, seed: 82), "bf16")
    }
}
