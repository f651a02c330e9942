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
                          _ weight: UnsafePointer<Float>, n: Int, inC: Int, outC: Int, accumulate: Bool = false,
                          precision: Precision = .fp32) {
    gemm(transA: false, transB: true, m: n, n: outC, k: inC, alpha: 1, inp, lda: inC, weight, ldb: inC,
         beta: accumulate ? 1 : 0, out, ldc: outC, precision: precision)
}

/// dinp (N, I) += dout (N, O) @ weight (O, I) (skipped when nil; overwritten unless `accumulateInput`);
/// dweight (O, I) += dout^T @ inp.
public func matmulBackward(dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?,
                           dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                           n: Int, inC: Int, outC: Int, accumulateInput: Bool = true, precision: Precision = .fp32) {
    guard n > 0 else { return }
    if let dinp {
        gemm(transA: false, transB: false, m: n, n: inC, k: outC, alpha: 1, dout, lda: outC, weight, ldb: inC,
             beta: accumulateInput ? 1 : 0, dinp, ldc: inC, precision: precision)
    }
    if let dweight {
        gemm(transA: true, transB: false, m: outC, n: inC, k: n, alpha: 1, dout, lda: outC, inp, ldb: inC,
             beta: 1, dweight, ldc: inC, precision: precision)
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
    let chunks = (n + 4095) / 4096
    parallelRows(chunks, cost: 4096) { c in
        var i = c * 4096
        let end = min(n, i + 4096)
        let rg = UnsafeRawPointer(gate), ru = UnsafeRawPointer(up), rh = UnsafeMutableRawPointer(h)
        while i + 8 <= end {
            let g = rg.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let u = ru.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            rh.storeBytes(of: g / (1 + exp8(-g)) * u, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < end { h[i] = gate[i] / (1 + expf(-gate[i])) * up[i]; i += 1 }
    }
}

/// dgate (N), dup (N) overwritten from dh (N).
public func swigluBackward(dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>,
                           dh: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, n: Int) {
    let chunks = (n + 4095) / 4096
    parallelRows(chunks, cost: 4096) { c in
        var i = c * 4096
        let end = min(n, i + 4096)
        let rg = UnsafeRawPointer(gate), ru = UnsafeRawPointer(up), rd = UnsafeRawPointer(dh)
        let rdg = UnsafeMutableRawPointer(dgate), rdu = UnsafeMutableRawPointer(dup)
        while i + 8 <= end {
            let g = rg.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let u = ru.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let d = rd.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let s = 1 / (1 + exp8(-g))
            rdu.storeBytes(of: d * g * s, toByteOffset: i * 4, as: SIMD8<Float>.self)
            rdg.storeBytes(of: d * u * (s * (1 + g * (1 - s))), toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < end {
            let g = gate[i], s = 1 / (1 + expf(-g))
            dup[i] = dh[i] * g * s
            dgate[i] = dh[i] * up[i] * (s * (1 + g * (1 - s)))
            i += 1
        }
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

// MARK: - Vectorised exp, softmax and log-softmax over rows

/// e^x for eight lanes (Cephes expf polynomial; relative error about 2e-7; inputs clamped to +-87).
/// Written with compares, adds and bit casts only: the stdlib's SIMD `clamped`, `rounded(.down)` and
/// Float-to-Int32 conversion compiled to per-lane calls (floorf, outlined min/max), 14x slower.
@inline(__always)
public func exp8(_ v: SIMD8<Float>) -> SIMD8<Float> {
    let lo = SIMD8<Float>(repeating: -87.3), hi = SIMD8<Float>(repeating: 88.3)
    var x = v.replacing(with: lo, where: v .< lo).replacing(with: hi, where: v .> hi)
    // Adding 1.5 * 2^23 rounds x / ln 2 to the nearest integer n, which then sits in the low mantissa bits.
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let big = x * 1.44269504088896341 + magic
    let n = big - magic
    x = x - n * 0.693359375 + n * 2.12194440e-4
    var y = SIMD8<Float>(repeating: 1.9875691500e-4)
    y = y * x + 1.3981999507e-3
    y = y * x + 8.3334519073e-3
    y = y * x + 4.1665795894e-2
    y = y * x + 1.6666665459e-1
    y = y * x + 5.0000001201e-1
    y = y * x * x + x + 1
    let bits = (unsafeBitCast(big, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23  // 2^n
    return y * unsafeBitCast(bits, to: SIMD8<Float>.self)
}

/// Largest of `n` values.
@inline(__always)
public func maxValue(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var m = -Float.infinity
    var i = 0
    if n >= 8 {
        var mv = SIMD8<Float>(repeating: -.infinity)
        let r = UnsafeRawPointer(x)
        while i + 8 <= n {  // replacing(where:) rather than pointwiseMax, which stayed an outlined call
            let v = r.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            mv = mv.replacing(with: v, where: v .> mv)
            i += 8
        }
        m = mv.max()
    }
    while i < n { m = max(m, x[i]); i += 1 }
    return m
}

/// x[i] = exp(x[i] - shift) in place; returns the sum of the new values.
@inline(__always)
public func expShiftInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
    var acc = SIMD8<Float>()
    var i = 0
    let r = UnsafeMutableRawPointer(x), sv = SIMD8<Float>(repeating: shift)
    while i + 8 <= n {
        let e = exp8(r.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - sv)
        r.storeBytes(of: e, toByteOffset: i * 4, as: SIMD8<Float>.self)
        acc += e
        i += 8
    }
    var s = acc.sum()
    while i < n { x[i] = expf(x[i] - shift); s += x[i]; i += 1 }
    return s
}

/// Sum of exp(x[i] - shift), leaving x unchanged.
@inline(__always)
public func sumExpShift(_ x: UnsafePointer<Float>, _ n: Int, shift: Float) -> Float {
    var acc = SIMD8<Float>()
    var i = 0
    let r = UnsafeRawPointer(x), sv = SIMD8<Float>(repeating: shift)
    while i + 8 <= n { acc += exp8(r.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - sv); i += 8 }
    var s = acc.sum()
    while i < n { s += expf(x[i] - shift); i += 1 }
    return s
}

/// x *= alpha over `n` values.
@inline(__always)
public func scale(_ x: UnsafeMutablePointer<Float>, _ n: Int, by alpha: Float) {
    var i = 0
    let r = UnsafeMutableRawPointer(x)
    while i + 8 <= n {
        r.storeBytes(of: r.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * alpha,
                     toByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { x[i] *= alpha; i += 1 }
}

/// Returns log(sum(exp(x))) of a row of `n` values.
@inline(__always)
public func logSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    let m = maxValue(x, n)
    return m + logf(sumExpShift(x, n, shift: m))
}

/// Overwrites a row of `n` logits by their softmax probabilities.
@inline(__always)
public func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    let m = maxValue(x, n)
    let s = expShiftInPlace(x, n, shift: m)
    scale(x, n, by: 1 / s)
}

/// Overwrites a row by its softmax and returns log softmax at `target` (one exp pass).
@inline(__always)
public func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int, logProbAt target: Int) -> Float {
    let m = maxValue(x, n), xt = x[target]
    let s = expShiftInPlace(x, n, shift: m)
    scale(x, n, by: 1 / s)
    return xt - m - logf(s)
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

// MARK: - General GEMM and BLAS threading

/// Runs `body(worker, range)` over contiguous chunks of 0..<n, one chunk per worker, with OpenBLAS
/// single-threaded inside (many small GEMMs side by side beat one multithreaded GEMM at a time).
public func parallelChunks(_ n: Int, maxWorkers: Int = .max, _ body: (_ worker: Int, _ range: Range<Int>) -> Void) {
    let workers = min(Threads.count, n, maxWorkers)
    if workers <= 1 {
        body(0, 0..<n)
        return
    }
    openblas_set_num_threads(1)
    defer { openblas_set_num_threads(Int32(Threads.count)) }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            body(w, (n * w / workers)..<(n * (w + 1) / workers))
        }
    }
}
