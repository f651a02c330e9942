import COpenBLAS
import Foundation

// Float32 kernels over raw buffers, llm.c style: each layer a forward/backward pair; backward
// functions accumulate (+=) into gradients so that callers can sum several contributions.

/// Dot product of two length-`n` vectors, eight lanes at a time.
@inline(__always)
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i + 16 <= n {
        acc0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        acc1 += ra.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
            * rb.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
        i += 16
    }
    var s = (acc0 + acc1).sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

/// y += alpha * x over `n` values.
@inline(__always)
public func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
    let va = SIMD8<Float>(repeating: alpha)
    while i + 8 <= n {
        let v = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            + va * rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        ry.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { y[i] += alpha * x[i]; i += 1 }
}

// MARK: - Linear layer (no bias): out = inp @ W^T, W in PyTorch (out, in) layout

/// out (N, O) = inp (N, I) @ weight (O, I)^T; with `accumulate`, adds to out.
public func matmulForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                          _ weight: UnsafePointer<Float>, n: Int, inC: Int, outC: Int, accumulate: Bool = false) {
    guard n > 0 else { return }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(outC), Int32(inC),
                1, inp, Int32(inC), weight, Int32(inC), accumulate ? 1 : 0, out, Int32(outC))
}

/// dinp (N, I) += dout (N, O) @ weight (O, I) (skipped when nil; overwritten unless `accumulateInput`);
/// dweight (O, I) += dout^T @ inp.
public func matmulBackward(dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?,
                           dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                           n: Int, inC: Int, outC: Int, accumulateInput: Bool = true) {
    guard n > 0 else { return }
    if let dinp {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(inC), Int32(outC),
                    1, dout, Int32(outC), weight, Int32(inC), accumulateInput ? 1 : 0, dinp, Int32(inC))
    }
    if let dweight {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outC), Int32(inC), Int32(n),
                    1, dout, Int32(outC), inp, Int32(inC), 1, dweight, Int32(inC))
    }
}

// MARK: - RMSNorm: out = x / sqrt(mean(x^2) + eps) * weight

/// out (N, C), rstd (N) from inp (N, C) and weight (C).
public func rmsnormForward(_ out: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>,
                           _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, n: Int, c: Int, eps: Float) {
    parallelRows(n, cost: c) { i in
        let x = inp + i * c, y = out + i * c
        let r = 1 / (dot(x, x, c) / Float(c) + eps).squareRoot()
        rstd[i] = r
        for j in 0..<c { y[j] = x[j] * r * weight[j] }
    }
}

/// dinp (N, C) += ..., dweight (C) += ... given dout (N, C), inp (N, C), weight (C), rstd (N).
public func rmsnormBackward(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
                            dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                            rstd: UnsafePointer<Float>, n: Int, c: Int) {
    for i in 0..<n {  // dweight is shared across rows: serial, O(N C)
        let x = inp + i * c, dy = dout + i * c, r = rstd[i]
        for j in 0..<c { dweight[j] += dy[j] * x[j] * r }
    }
    parallelRows(n, cost: c) { i in
        let x = inp + i * c, dy = dout + i * c, dx = dinp + i * c, r = rstd[i]
        var s: Float = 0  // sum_j w_j dy_j x_j
        for j in 0..<c { s += weight[j] * dy[j] * x[j] }
        let k = s * r * r * r / Float(c)
        for j in 0..<c { dx[j] += weight[j] * dy[j] * r - k * x[j] }
    }
}

// MARK: - SwiGLU: h = silu(gate) * up

/// h (N) = silu(gate) * up, elementwise over `n` values.
public func swigluForward(_ h: UnsafeMutablePointer<Float>, _ gate: UnsafePointer<Float>,
                          _ up: UnsafePointer<Float>, n: Int) {
    parallelRows(n, cost: 1) { i in
        let g = gate[i], s = 1 / (1 + expf(-g))
        h[i] = g * s * up[i]
    }
}

/// dgate (N), dup (N) overwritten from dh (N).
public func swigluBackward(dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>,
                           dh: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, n: Int) {
    parallelRows(n, cost: 1) { i in
        let g = gate[i], s = 1 / (1 + expf(-g)), silu = g * s
        dup[i] = dh[i] * silu
        dgate[i] = dh[i] * up[i] * (s * (1 + g * (1 - s)))
    }
}

// MARK: - Rotary position embedding, Hugging Face "rotate_half" convention

/// cos/sin tables (maxSeqLen, headDim/2): angle = pos * base^(-2i/headDim).
public func ropeTables(maxSeqLen: Int, headDim: Int, base: Float) -> (cos: [Float], sin: [Float]) {
    let half = headDim / 2
    var c = [Float](repeating: 0, count: maxSeqLen * half), s = c
    for p in 0..<maxSeqLen {
        for i in 0..<half {
            let invFreq = pow(Double(base), -Double(2 * i) / Double(headDim))
            let a = Double(p) * invFreq
            c[p * half + i] = Float(cos(a))
            s[p * half + i] = Float(sin(a))
        }
    }
    return (c, s)
}

/// Rotates, in place, `heads` heads of `headDim` values at `x` for position `pos`:
/// out[i] = x[i] cos - x[i+half] sin, out[i+half] = x[i+half] cos + x[i] sin.
/// With `inverse`, applies the transpose (the backward pass).
@inline(__always)
public func ropeRotate(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, pos: Int,
                       cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, inverse: Bool) {
    let half = headDim / 2
    let c = cos + pos * half, s = sin + pos * half
    let sign: Float = inverse ? -1 : 1
    for h in 0..<heads {
        let v = x + h * headDim
        for i in 0..<half {
            let a = v[i], b = v[i + half], si = sign * s[i]
            v[i] = a * c[i] - b * si
            v[i + half] = b * c[i] + a * si
        }
    }
}

// MARK: - Softmax and log-softmax over rows

/// Returns log(sum(exp(x))) of a row of `n` values.
@inline(__always)
public func logSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var m = -Float.infinity
    for i in 0..<n { m = max(m, x[i]) }
    var s: Float = 0
    for i in 0..<n { s += expf(x[i] - m) }
    return m + logf(s)
}

/// Overwrites a row of `n` logits by their softmax probabilities.
@inline(__always)
public func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    var m = -Float.infinity
    for i in 0..<n { m = max(m, x[i]) }
    var s: Float = 0
    for i in 0..<n { let e = expf(x[i] - m); x[i] = e; s += e }
    let inv = 1 / s
    for i in 0..<n { x[i] *= inv }
}

/// Runs `body(row)` over `n` rows, in parallel when the work (`n * cost`) is worth it.
@inline(__always)
public func parallelRows(_ n: Int, cost: Int, _ body: (Int) -> Void) {
    if n * cost < 32_768 || Threads.count == 1 {
        for i in 0..<n { body(i) }
    } else {
        parallelFor(n, body)
    }
}
