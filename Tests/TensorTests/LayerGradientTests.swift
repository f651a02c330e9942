import XCTest
@testable import Tensor
import Randomness

/// Central finite differences of `loss` at every entry of `x`; compares with `analytic`.
func assertFiniteDifferences(_ x: inout [Float], analytic: [Float], _ what: String, h: Float = 1e-2,
                             tol: Double = 2e-3, loss: ([Float]) -> Double,
                             file: StaticString = #filePath, line: UInt = #line) {
    for i in x.indices {
        let saved = x[i]
        x[i] = saved + h
        let up = loss(x)
        x[i] = saved - h
        let down = loss(x)
        x[i] = saved
        let fd = (up - down) / (2 * Double(h))
        XCTAssertEqual(Double(analytic[i]), fd, accuracy: tol * max(1, abs(fd)), "\(what)[\(i)]", file: file, line: line)
    }
}

func randomArray(_ n: Int, _ rng: inout SeededRandom, scale: Float = 1, offset: Float = 0) -> [Float] {
    (0..<n).map { _ in offset + scale * rng.nextGaussian() }
}

func weighted(_ out: [Float], _ r: [Float]) -> Double { zip(out, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }

/// Each layer's backward against finite differences of sum(r * forward(x)).
final class LayerGradientTests: XCTestCase {
    func testMatmulBackward() {
        var rng = SeededRandom(seed: 1)
        let n = 3, i = 5, o = 4
        var x = randomArray(n * i, &rng), w = randomArray(o * i, &rng)
        let r = randomArray(n * o, &rng)
        func fwd(_ x: [Float], _ w: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: n * o)
            matmulForward(&out, x, w, n: n, inC: i, outC: o)
            return out
        }
        var dx = [Float](repeating: 0, count: n * i), dw = [Float](repeating: 0, count: o * i)
        matmulBackward(dinp: &dx, dweight: &dw, dout: r, inp: x, weight: w, n: n, inC: i, outC: o)
        let w0 = w, x0 = x
        assertFiniteDifferences(&x, analytic: dx, "dinp") { weighted(fwd($0, w0), r) }
        assertFiniteDifferences(&w, analytic: dw, "dweight") { weighted(fwd(x0, $0), r) }
    }

    func testRMSNormBackward() {
        var rng = SeededRandom(seed: 2)
        let n = 3, c = 6
        var x = randomArray(n * c, &rng), w = randomArray(c, &rng, scale: 0.3, offset: 1)
        let r = randomArray(n * c, &rng)
        func fwd(_ x: [Float], _ w: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: n * c), rstd = [Float](repeating: 0, count: n)
            rmsnormForward(&out, &rstd, x, w, n: n, c: c, eps: 1e-5)
            return out
        }
        var out = [Float](repeating: 0, count: n * c), rstd = [Float](repeating: 0, count: n)
        rmsnormForward(&out, &rstd, x, w, n: n, c: c, eps: 1e-5)
        var dx = [Float](repeating: 0, count: n * c), dw = [Float](repeating: 0, count: c)
        rmsnormBackward(dinp: &dx, dweight: &dw, dout: r, inp: x, weight: w, rstd: rstd, n: n, c: c)
        let w0 = w, x0 = x
        assertFiniteDifferences(&x, analytic: dx, "dinp", h: 1e-3) { weighted(fwd($0, w0), r) }
        assertFiniteDifferences(&w, analytic: dw, "dweight", h: 1e-3) { weighted(fwd(x0, $0), r) }
    }

    func testSwiGLUBackward() {
        var rng = SeededRandom(seed: 3)
        let n = 10
        var gate = randomArray(n, &rng, scale: 2), up = randomArray(n, &rng)
        let r = randomArray(n, &rng)
        func fwd(_ g: [Float], _ u: [Float]) -> [Float] {
            var h = [Float](repeating: 0, count: n)
            swigluForward(&h, g, u, n: n)
            return h
        }
        var dg = [Float](repeating: 0, count: n), du = [Float](repeating: 0, count: n)
        swigluBackward(dgate: &dg, dup: &du, dh: r, gate: gate, up: up, n: n)
        let g0 = gate, u0 = up
        assertFiniteDifferences(&gate, analytic: dg, "dgate", h: 1e-3) { weighted(fwd($0, u0), r) }
        assertFiniteDifferences(&up, analytic: du, "dup", h: 1e-3) { weighted(fwd(g0, $0), r) }
    }

    func testRopeBackwardIsTransposedRotation() {
        var rng = SeededRandom(seed: 4)
        let (c, s) = ropeTables(maxSeqLen: 8, headDim: 6, base: 10_000)
        var x = randomArray(12, &rng)
        let r = randomArray(12, &rng)
        func fwd(_ x: [Float]) -> [Float] {
            var y = x
            y.withUnsafeMutableBufferPointer { ropeRotate($0.baseAddress!, heads: 2, headDim: 6, pos: 5, cos: c, sin: s, inverse: false) }
            return y
        }
        var dx = r
        dx.withUnsafeMutableBufferPointer { ropeRotate($0.baseAddress!, heads: 2, headDim: 6, pos: 5, cos: c, sin: s, inverse: true) }
        assertFiniteDifferences(&x, analytic: dx, "dx") { weighted(fwd($0), r) }
    }

    func testSoftmaxAndLogSumExp() {
        var x: [Float] = [1, 2, 3, 1000]
        XCTAssertEqual(logSumExp(x, 3), log(exp(1) + exp(2) + exp(3)), accuracy: 1e-5)
        XCTAssertEqual(logSumExp(x, 4), 1000, accuracy: 1e-3)  // no overflow
        softmaxInPlace(&x, 3)
        XCTAssertEqual(x[2], exp(3) / (exp(1) + exp(2) + exp(3)), accuracy: 1e-6)
    }
}

final class ExpTests: XCTestCase {
    func testVectorisedExpMatchesExpf() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let v = exp8(SIMD8<Float>(repeating: x))[3]
            worst = max(worst, abs(v - expf(x)) / expf(x))
            x += 0.0137
        }
        XCTAssertLessThan(worst, 1e-6)
        XCTAssertEqual(exp8(SIMD8<Float>(repeating: -1000))[0], 0, accuracy: 1e-37)
    }
}
