import XCTest
@testable import Tensor
import Randomness

/// The C decode kernels, every variant this CPU runs, against naive Double references on shapes that
/// exercise each tile, the row and column remainders and K not a multiple of the vector width.
final class DecodeKernelsTests: XCTestCase {
    override func tearDown() {
        DecodeKernels.use(DecodeKernels.supported[0])  // back to the best variant for later tests
    }

    func testEveryVariantIsListedAndSelectable() {
        XCTAssertEqual(DecodeKernels.supported.last, "baseline")
        for isa in DecodeKernels.supported {
            XCTAssertTrue(DecodeKernels.use(isa))
            XCTAssertEqual(DecodeKernels.isa, isa)
        }
        XCTAssertFalse(DecodeKernels.use("sse9"))
    }

    /// `parts` stacked and packed, times x (n, i), against a Double reference.
    private func checkPacked(parts: [[Float]], rows: [Int], x: [Float], n: Int, i: Int, label: String) {
        let o = rows.reduce(0, +), w = Array(parts.joined())
        let packed = PackedMatrix(rows: o, inC: i)
        let copies = parts.map { part -> UnsafeMutablePointer<Float> in  // separate allocations, as LoRA's
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(part.count, 1))
            p.initialize(from: part, count: part.count)
            return p
        }
        defer { copies.forEach { $0.deallocate() } }
        packed.pack(zip(copies, rows).map { (UnsafePointer($0), $1) })
        var out = [Float](repeating: .nan, count: n * o)
        packed.multiply(&out, x, n: n)
        var worst = 0.0
        for r in 0..<n {
            for c in 0..<o {
                let ref = (0..<i).reduce(0.0) { $0 + Double(x[r * i + $1]) * Double(w[c * i + $1]) }
                worst = max(worst, abs(Double(out[r * o + c]) - ref))
            }
        }
        XCTAssertLessThan(worst, 1e-4, label)
    }

    func testPackedMatmulMatchesNaiveInEveryVariant() {
        var rng = SeededRandom(seed: 3)
        // Row counts (1-9, 33) cover every leftover-row tile; part sizes that are not multiples of any panel
        // width put panels across part boundaries; inC 5, 67 leave a tail after the 8 x 8 pack blocks.
        let shapes: [(n: Int, i: Int, rows: [Int])] = [
            (1, 16, [1]), (3, 5, [7]), (4, 64, [4, 4]), (5, 67, [13, 2, 9]), (6, 8, [32]), (7, 24, [40, 24]),
            (8, 128, [48]), (9, 33, [50, 17]), (33, 256, [97, 64, 31]),
        ]
        for isa in DecodeKernels.supported {
            DecodeKernels.use(isa)
            for (n, i, rows) in shapes {
                let x = (0..<n * i).map { _ in rng.nextGaussian() }
                let parts = rows.map { r in (0..<r * i).map { _ in rng.nextGaussian() } }
                checkPacked(parts: parts, rows: rows, x: x, n: n, i: i, label: "\(isa) (\(n), \(i), \(rows))")
            }
        }
    }

    func testPackedMatrixKeepsItsPanelWidthWhenTheVariantChanges() {
        guard DecodeKernels.supported.count > 1 else { return }
        var rng = SeededRandom(seed: 6)
        let n = 5, i = 40, o = 70
        let x = (0..<n * i).map { _ in rng.nextGaussian() }, w = (0..<o * i).map { _ in rng.nextGaussian() }
        DecodeKernels.use(DecodeKernels.supported[0])
        let packed = PackedMatrix(rows: o, inC: i)
        w.withUnsafeBufferPointer { packed.pack([($0.baseAddress!, o)]) }
        var before = [Float](repeating: .nan, count: n * o), after = before
        packed.multiply(&before, x, n: n)
        DecodeKernels.use("baseline")  // a narrower panel width than the one packed
        packed.multiply(&after, x, n: n)
        XCTAssertEqual(before, after)  // the packing variant's kernel runs, whatever the current choice
    }

    func testDecodeAttentionMatchesNaiveInEveryVariant() {
        var rng = SeededRandom(seed: 4)
        Threads.set(2)
        for isa in DecodeKernels.supported {
            DecodeKernels.use(isa)
            for (n, hd, rep, groups) in [(1, 8, 1, 1), (7, 20, 2, 3), (37, 64, 3, 2), (130, 16, 1, 40)] {
                let stride = hd * 2 + 3  // rows of a wider cache, as in grouped KV layouts
                let q = (0..<groups * rep * hd).map { _ in rng.nextGaussian() }
                let k = (0..<n * stride).map { _ in rng.nextGaussian() }, v = (0..<n * stride).map { _ in rng.nextGaussian() }
                var att = [Float](repeating: .nan, count: groups * rep * 140)
                var y = [Float](repeating: .nan, count: groups * rep * hd)
                let scale = 1 / Float(hd).squareRoot()
                // Group i sees the first n - i positions, so items differ in length.
                let lengths = (0..<groups).map { max(1, n - $0) }
                q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
                    att.withUnsafeMutableBufferPointer { ap in y.withUnsafeMutableBufferPointer { yp in
                        let items = (0..<groups).map { i in
                            AttendItem(q: qp.baseAddress! + i * rep * hd, k: kp.baseAddress!, v: vp.baseAddress!,
                                       stride: stride, n: lengths[i], att: ap.baseAddress! + i * rep * 140,
                                       y: yp.baseAddress! + i * rep * hd)
                        }
                        attendDecode(items, hd: hd, rep: rep, scale: scale, ldAtt: 140)
                    } }
                } } }
                for i in 0..<groups {
                    for h in 0..<rep {
                        let qh = i * rep * hd + h * hd, len = lengths[i]
                        let s = (0..<len).map { t in
                            (0..<hd).reduce(0.0) { $0 + Double(q[qh + $1] * k[t * stride + $1]) } * Double(scale)
                        }
                        let e = s.map { Foundation.exp($0 - s.max()!) }, z = e.reduce(0, +)
                        let row = (i * rep + h) * 140
                        for t in 0..<len { XCTAssertEqual(Double(att[row + t]), e[t] / z, accuracy: 1e-5, "\(isa) p") }
                        for d in 0..<hd {
                            let ref = (0..<len).reduce(0.0) { $0 + e[$1] / z * Double(v[$1 * stride + d]) }
                            XCTAssertEqual(Double(y[qh + d]), ref, accuracy: 1e-4, "\(isa) (\(n), \(hd), \(rep)) y")
                        }
                    }
                }
            }
        }
    }

    func testPackedMatmulSplitsAcrossThreadsWithTheSameResult() {
        var rng = SeededRandom(seed: 5)
        let n = 32, i = 128, o = 1000  // above the one-core threshold; 1000 is not a multiple of the task width
        let x = (0..<n * i).map { _ in rng.nextGaussian() }, w = (0..<o * i).map { _ in rng.nextGaussian() }
        var one = [Float](repeating: .nan, count: n * o), two = one
        let packed = PackedMatrix(rows: o, inC: i)
        Threads.set(1)
        w.withUnsafeBufferPointer { packed.pack([($0.baseAddress!, o)]) }
        packed.multiply(&one, x, n: n)
        Threads.set(2)
        packed.multiply(&two, x, n: n)
        XCTAssertEqual(one, two)  // each output is one task's sums: bit-identical whatever the split
        XCTAssertFalse(one.contains { $0.isNaN })
    }
}
