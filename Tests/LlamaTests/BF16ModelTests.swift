import XCTest
import Tensor
@testable import Llama

/// `precision: bf16` on the golden tiny model: log-probs and gradients within stated tolerances of the
/// float64 reference the fp32 engine matches to 1e-4 (GoldenTests), and the fp32 path untouched by the switch.
/// Skipped, with the reason, on a CPU without a bf16 kernel (no AVX2).
final class BF16ModelTests: XCTestCase {
    private func requireBF16() throws {
        if let reason = BF16Kernels.unavailableReason { throw XCTSkip("bf16 model not tested: \(reason)") }
    }

    /// Worst absolute difference, and the reference's largest magnitude (the scale tolerances are stated in).
    private func gap(_ a: [Float], _ b: [Double]) -> (worst: Double, scale: Double) {
        (zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0, b.map(abs).max() ?? 0)
    }

    /// Tolerances: log-probs within 0.05 nats (bf16 keeps 8 bits of mantissa: each product's inputs are
    /// within 2^-9 relative, and the tiny model's logits are O(1)); every gradient tensor within 5 % of its
    /// largest reference entry.
    func testLogProbsAndGradientsNearReference() throws {
        try requireBF16()
        let g = try GoldenTests.loadGolden()
        let batch = TokenBatch(sequences: g.sequences, pad: 0)
        for (c, tied) in [(g.untied, false), (g.tied, true)] {
            let m = try GoldenTests.model(g, c, head: .lm, tied: tied)
            try m.usePrecision(.bf16)
            let (lp, _) = gap(m.tokenLogProbs(batch, keepActivations: true), c.logProbs!)
            XCTAssertLessThan(lp, 0.05, "log-probs tied=\(tied)")
            XCTAssertGreaterThan(lp, 0, "bf16 left the log-probs exactly as fp32: the bf16 products did not run")
            m.zeroGradients()
            try m.backwardTokenLogProbs(g.lmObjective)  // throws once frozen models refuse backward
            for p in m.parameters {
                let (worst, scale) = gap(Array(p.grad), c.grads[p.name]!)
                XCTAssertLessThanOrEqual(worst, 0.05 * scale, "grad \(p.name) tied=\(tied)")
            }
        }
    }

    /// Switching to bf16 and back leaves fp32 results bit for bit as a model that never switched; copies
    /// keep the precision; bf16 runs twice give the same bits.
    func testPrecisionSwitchIsExactAndCopied() throws {
        try requireBF16()
        let g = try GoldenTests.loadGolden()
        let batch = TokenBatch(sequences: g.sequences, pad: 0)
        let plain = try GoldenTests.model(g, g.untied, head: .lm, tied: false)
        let switched = try GoldenTests.model(g, g.untied, head: .lm, tied: false)
        let fp32 = plain.tokenLogProbs(batch, keepActivations: false)
        try switched.usePrecision(.bf16)
        let bf16 = switched.tokenLogProbs(batch, keepActivations: false)
        XCTAssertEqual(switched.copy().precision, .bf16)
        XCTAssertEqual(switched.copy().tokenLogProbs(batch, keepActivations: false).map(\.bitPattern), bf16.map(\.bitPattern))
        try switched.usePrecision(.fp32)
        XCTAssertEqual(switched.tokenLogProbs(batch, keepActivations: false).map(\.bitPattern), fp32.map(\.bitPattern))
    }

    /// Where the CPU lacks bf16, asking for it is an error that says why, never a silent fp32 run.
    func testUnavailableBF16IsRefused() throws {
        let m = LlamaModel(config: tinyConfig(), head: .lm, seed: 1)
        if BF16Kernels.available {
            XCTAssertNoThrow(try m.usePrecision(.bf16))
        } else {
            XCTAssertThrowsError(try m.usePrecision(.bf16)) { XCTAssertTrue("\($0)".contains("AVX2")) }
            XCTAssertEqual(m.precision, .fp32)
        }
    }
}
