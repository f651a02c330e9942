import XCTest
import Llama
@testable import Preference
import Tensor

/// A short DPO run with `precision: bf16` against the same run in fp32: the loss curves stay within a stated
/// band and both learn. Skipped, with the reason, on a CPU without a bf16 kernel (no AVX2).
final class BF16DPOTests: XCTestCase {
    /// Band: every step's loss within 0.05 of fp32's (the loss starts at log 2 = 0.693 and falls below 0.2),
    /// the final margins within 15 % of each other. Measured on an AMX Xeon (6 Dec 2026): worst step gap
    /// 0.0005, final loss 0.1173 vs 0.1174, margin 2.5032 vs 2.5036.
    func testDPOLossCurveStaysWithinABandOfFP32() throws {
        if let reason = BF16Kernels.unavailableReason { throw XCTSkip("bf16 DPO not tested: \(reason)") }
        let pairs = Toy.countPairs(count: 64, seed: 4)
        var p = DPOTrainer.Parameters()
        p.learningRate = 3e-3
        p.batchSize = 16
        func run(_ precision: Precision) throws -> (losses: [Double], margin: Double) {
            let policy = Toy.sftPolicy.copy()
            try policy.model.usePrecision(precision)  // the reference is a copy: bf16 too
            var losses: [Double] = []
            let out = try DPOTrainer(p).train(policy: policy, pairs: pairs, control: TrainingControl(reporter: { _, _, v in
                losses.append(v["loss"] ?? .nan)
            }))
            return (losses, out.lastValues["margin"] ?? .nan)
        }
        let fp32 = try run(.fp32), bf16 = try run(.bf16)
        XCTAssertEqual(fp32.losses.count, bf16.losses.count)
        let gaps = zip(fp32.losses, bf16.losses).map { abs($0 - $1) }
        XCTAssertLessThan(gaps.max() ?? .infinity, 0.05, "loss curves fp32 \(fp32.losses) bf16 \(bf16.losses)")
        XCTAssertGreaterThan(gaps.max() ?? 0, 0, "identical curves: the bf16 products did not run")
        XCTAssertLessThan(bf16.losses.last!, bf16.losses.first! - 0.2, "bf16 DPO learns")
        XCTAssertEqual(bf16.margin, fp32.margin, accuracy: 0.15 * abs(fp32.margin))
        print("DPO bf16 vs fp32: worst loss gap \(gaps.max()!), final loss \(bf16.losses.last!) vs \(fp32.losses.last!), margin \(bf16.margin) vs \(fp32.margin)")
    }
}
