import XCTest
@testable import Tensor
import Randomness

final class KernelTests: XCTestCase {
    func testMatmulMatchesNaive() {
        var rng = SeededRandom(seed: 1)
        let n = 5, i = 7, o = 3
        let x = (0..<n * i).map { _ in rng.nextGaussian() }, w = (0..<o * i).map { _ in rng.nextGaussian() }
        var out = [Float](repeating: 0, count: n * o)
        matmulForward(&out, x, w, n: n, inC: i, outC: o)
        for r in 0..<n {
            for c in 0..<o {
                let ref = (0..<i).reduce(Float(0)) { $0 + x[r * i + $1] * w[c * i + $1] }
                XCTAssertEqual(out[r * o + c], ref, accuracy: 1e-5)
            }
        }
    }

    func testThreadsSetAndParameterArena() {
        Threads.set(2)
        XCTAssertEqual(Threads.count, 2)
        let ps = Parameter.allocate([("a", [2, 3]), ("b", [4])])
        XCTAssertEqual(ps.map(\.count), [6, 4])
        ps[1].value[0] = 7
        XCTAssertEqual(ps[0].arena.values[6], 7)  // one allocation, in order
        var hits = [Int](repeating: 0, count: 100)
        hits.withUnsafeMutableBufferPointer { h in parallelFor(100) { h[$0] += 1 } }
        XCTAssertEqual(hits, [Int](repeating: 1, count: 100))
    }

    func testRopeInverseUndoesRotation() {
        let (c, s) = ropeTables(maxSeqLen: 4, headDim: 4, base: 10_000)
        var x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        x.withUnsafeMutableBufferPointer { ropeRotate($0.baseAddress!, heads: 2, headDim: 4, pos: 3, cos: c, sin: s, inverse: false) }
        XCTAssertEqual(x[0], 1 * cos(3) - 3 * sin(3), accuracy: 1e-5)  // i = 0 pairs with i + half = 2
        x.withUnsafeMutableBufferPointer { ropeRotate($0.baseAddress!, heads: 2, headDim: 4, pos: 3, cos: c, sin: s, inverse: true) }
        for (a, b) in zip(x, [1, 2, 3, 4, 5, 6, 7, 8] as [Float]) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }
}
