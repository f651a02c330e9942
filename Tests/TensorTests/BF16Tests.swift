import XCTest
@testable import Tensor
import Randomness

/// CKernels' bfloat16 products, every kernel this CPU runs, against Double references over odd shapes,
/// every transpose combination the engine uses, leading dimensions wider than the matrices, alpha and beta.
/// On a CPU without AVX2 the product tests skip (no bf16 kernel runs there); rounding is tested anywhere.
final class BF16Tests: XCTestCase {
    override func tearDown() {
        if let best = BF16Kernels.supported.first { BF16Kernels.use(best) }
    }

    private func requireBF16() throws {
        if let reason = BF16Kernels.unavailableReason { throw XCTSkip("bf16 products not tested: \(reason)") }
    }

    /// Round to nearest, ties to even, on the bit patterns where it matters.
    func testRoundingIsToNearestEven() {
        XCTAssertEqual(BF16Kernels.round(1), 1)
        XCTAssertEqual(BF16Kernels.round(1 + 0x1p-8), 1)                  // tie, 1 is even
        XCTAssertEqual(BF16Kernels.round(1 + 3 * 0x1p-8), 1 + 0x1p-6)     // tie, rounds up to the even neighbour
        XCTAssertEqual(BF16Kernels.round(1 + 0x1p-8 + 0x1p-20), 1 + 0x1p-7)  // above the tie
        XCTAssertEqual(BF16Kernels.round(-2.5), -2.5)
        XCTAssertEqual(BF16Kernels.round(.infinity), .infinity)
        XCTAssertEqual(BF16Kernels.round(Float.greatestFiniteMagnitude), .infinity)  // past bf16's largest
        XCTAssertTrue(BF16Kernels.round(.nan).isNaN)
    }

    private struct Case { let ta: Bool, tb: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float }

    /// Runs one product; returns (worst error against the bf16-rounded operands' exact product, relative to
    /// the sum of |terms|; worst error against the Float32 operands' product, same scale).
    private func run(_ c: Case, rng: inout SeededRandom) -> (exact: Double, fp32: Double) {
        let lda = (c.ta ? c.m : c.k) + 3, ldb = (c.tb ? c.k : c.n) + 2, ldc = c.n + 5
        let a = (0..<(c.ta ? c.k : c.m) * lda).map { _ in rng.nextGaussian() }
        let b = (0..<(c.tb ? c.n : c.k) * ldb).map { _ in rng.nextGaussian() }
        let c0 = (0..<c.m * ldc).map { _ in c.beta == 0 ? Float.nan : rng.nextGaussian() }  // beta 0 must not read C
        var out = c0
        gemm(transA: c.ta, transB: c.tb, m: c.m, n: c.n, k: c.k, alpha: c.alpha, a, lda: lda, b, ldb: ldb,
             beta: c.beta, &out, ldc: ldc, precision: .bf16)
        var exact = 0.0, fp32 = 0.0
        for i in 0..<c.m {
            for j in 0..<c.n {
                var sRounded = 0.0, sFloat = 0.0, scale = 0.0
                for k in 0..<c.k {
                    let x = c.ta ? a[k * lda + i] : a[i * lda + k], y = c.tb ? b[j * ldb + k] : b[k * ldb + j]
                    sRounded += Double(BF16Kernels.round(x)) * Double(BF16Kernels.round(y))
                    sFloat += Double(x) * Double(y)
                    scale += abs(Double(x) * Double(y))
                }
                let prior = c.beta == 0 ? 0 : Double(c.beta) * Double(c0[i * ldc + j])
                let got = Double(out[i * ldc + j]), norm = abs(Double(c.alpha)) * scale + abs(prior) + 1e-30
                exact = max(exact, abs(got - (Double(c.alpha) * sRounded + prior)) / norm)
                fp32 = max(fp32, abs(got - (Double(c.alpha) * sFloat + prior)) / norm)
            }
            for j in c.n..<ldc { XCTAssertEqual(out[i * ldc + j].bitPattern, c0[i * ldc + j].bitPattern, "wrote past column n") }
        }
        return (exact, fp32)
    }

    /// Tolerances, relative to sum_k |a_ik b_kj|: 1e-5 against the exact product of the rounded operands
    /// (only the Float32 sums' rounding, ~K 2^-24, remains), 2^-7 against the Float32 operands (each
    /// bf16 operand is within 2^-9 relative, so each product within ~2^-8).
    func testProductsMatchReferencesInEveryKernel() throws {
        try requireBF16()
        var rng = SeededRandom(seed: 20)
        // M, N around the 16/32 tile edges and K around the 32-value step; 1 x 1 x 1 and K = 0 at the ends.
        let shapes = [(1, 1, 1), (5, 7, 3), (33, 17, 65), (32, 32, 32), (47, 70, 100), (100, 31, 33), (3, 130, 257), (4, 9, 0)]
        for kernel in BF16Kernels.supported {
            XCTAssertTrue(BF16Kernels.use(kernel))
            for (i, (m, n, k)) in shapes.enumerated() {
                for (ta, tb) in [(false, true), (false, false), (true, false), (true, true)] {
                    let c = Case(ta: ta, tb: tb, m: m, n: n, k: k, alpha: i % 2 == 0 ? 1 : 0.5, beta: i % 3 == 0 ? 1 : 0)
                    let (exact, fp32) = run(c, rng: &rng)
                    let label = "\(kernel) ta=\(ta) tb=\(tb) (\(m), \(n), \(k))"
                    XCTAssertLessThan(exact, 1e-5, label)
                    XCTAssertLessThan(fp32, 0x1p-7, label)
                }
            }
        }
    }

    /// Each output sums its terms on one thread in one order: the thread count changes nothing.
    func testResultsDoNotDependOnThreadCount() throws {
        try requireBF16()
        var rng = SeededRandom(seed: 21)
        let (m, n, k) = (300, 260, 190)
        let a = (0..<m * k).map { _ in rng.nextGaussian() }, b = (0..<n * k).map { _ in rng.nextGaussian() }
        let saved = Threads.count
        defer { Threads.set(saved) }
        var outs: [[Float]] = []
        for t in [1, 2, 3] {
            Threads.set(t)
            var out = [Float](repeating: 0, count: m * n)
            gemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a, lda: k, b, ldb: k, beta: 0, &out, ldc: n,
                 precision: .bf16)
            outs.append(out)
        }
        XCTAssertEqual(outs[0].map(\.bitPattern), outs[1].map(\.bitPattern))
        XCTAssertEqual(outs[0].map(\.bitPattern), outs[2].map(\.bitPattern))
    }

    func testKernelSwitchRefusesUnknownOrUnsupported() {
        XCTAssertFalse(BF16Kernels.use("tpu"))
        for kernel in BF16Kernels.supported {
            XCTAssertTrue(BF16Kernels.use(kernel))
            XCTAssertEqual(BF16Kernels.kernel, kernel)
        }
        XCTAssertEqual(BF16Kernels.available, !BF16Kernels.supported.isEmpty)
    }
}
