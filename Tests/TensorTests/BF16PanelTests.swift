import XCTest
@testable import Tensor
import Randomness

/// bf16 decode panels (`PackedMatrix(precision: .bf16)`): against a Double reference of the bf16-rounded
/// operands, and each output row the same bits whatever rows and threads share the call.
final class BF16PanelTests: XCTestCase {
    private var threads = Threads.count

    override func setUpWithError() throws {
        if let reason = BF16Kernels.unavailableReason { throw XCTSkip("bf16 panels not tested: \(reason)") }
        threads = Threads.count
    }

    override func tearDown() { Threads.set(threads) }

    private func packed(_ parts: [[Float]], rows: [Int], inC: Int) -> PackedMatrix {
        let m = PackedMatrix(rows: rows.reduce(0, +), inC: inC, precision: .bf16)
        let pointers = parts.map { p -> UnsafeMutablePointer<Float> in
            let q = UnsafeMutablePointer<Float>.allocate(capacity: p.count)
            q.initialize(from: p, count: p.count)
            return q
        }
        defer { pointers.forEach { $0.deallocate() } }
        m.pack(zip(pointers, rows).map { (UnsafePointer($0), $1) })
        return m
    }

    /// Row counts 1-9 and 17 cover every row tile (8, 4, 2, 1); parts that are not multiples of 32 rows put
    /// panels across part boundaries and leave a partial last panel; odd and short inC pad the last pair.
    func testPanelsMatchTheRoundedReference() {
        var rng = SeededRandom(seed: 11)
        let shapes: [(n: Int, i: Int, rows: [Int])] = [
            (1, 2, [1]), (2, 5, [7]), (3, 33, [40, 24]), (4, 64, [13, 2, 9]), (5, 67, [32]), (8, 576, [97, 64, 31]),
            (9, 96, [50, 17]), (17, 1536, [40]),
        ]
        for (n, i, rows) in shapes {
            let x = (0..<n * i).map { _ in rng.nextGaussian() }
            let parts = rows.map { r in (0..<r * i).map { _ in rng.nextGaussian() } }
            let w = parts.flatMap { $0 }, total = rows.reduce(0, +)
            let m = packed(parts, rows: rows, inC: i)
            var out = [Float](repeating: .nan, count: n * total)
            m.multiply(&out, x, n: n)
            var worst = 0.0
            for r in 0..<n {
                for j in 0..<total {
                    var s = 0.0, scale = 1e-30
                    for k in 0..<i {
                        let t = Double(BF16Kernels.round(x[r * i + k])) * Double(BF16Kernels.round(w[j * i + k]))
                        s += t
                        scale += abs(t)
                    }
                    worst = max(worst, abs(Double(out[r * total + j]) - s) / scale)
                }
            }
            XCTAssertLessThan(worst, 1e-5, "(\(n), \(i), \(rows))")
        }
    }

    /// Row r of a 9-row call equals the same row multiplied alone, on one thread and on two: a sequence's
    /// decoding does not depend on which other sequences are still active.
    func testRowsDoNotDependOnTheirNeighboursOrThreads() {
        var rng = SeededRandom(seed: 12)
        let n = 9, i = 576, rows = 700
        let x = (0..<n * i).map { _ in rng.nextGaussian() }
        let m = packed([(0..<rows * i).map { _ in rng.nextGaussian() }], rows: [rows], inC: i)
        var all = [Float](repeating: 0, count: n * rows)
        m.multiply(&all, x, n: n)
        for threads in [1, 2] {
            Threads.set(threads)
            for r in 0..<n {
                var one = [Float](repeating: 0, count: rows)
                Array(x[r * i..<(r + 1) * i]).withUnsafeBufferPointer { m.multiply(&one, $0.baseAddress!, n: 1) }
                XCTAssertEqual(one, Array(all[r * rows..<(r + 1) * rows]), "row \(r), \(threads) threads")
            }
        }
    }
}
