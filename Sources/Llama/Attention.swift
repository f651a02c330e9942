import Tensor

/// Causal grouped-query attention for one query row over `n` keys (positions 0..<n).
/// q (hd), keys/values rows of hd at stride `stride`; att (n) gets probabilities; y (hd) the output.
@inline(__always)
func attendRow(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int,
               n: Int, hd: Int, scale: Float, att: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>) {
    for j in 0..<n { att[j] = dot(q, k + j * stride, hd) * scale }
    softmaxInPlace(att, n)
    y.update(repeating: 0, count: hd)
    for j in 0..<n { axpy(att[j], v + j * stride, y, hd) }
}

extension LlamaModel {
    /// y (B, T, C), att (B, H, T, T) from q (B, T, C), k, v (B, T, KVD). Rows at t >= length are zero.
    func attentionForward(_ a: LayerActs, b B: Int, t T: Int, lengths: [Int]) {
        let c = config, H = c.nHeads, hd = c.headDim, C = c.dModel, KVD = c.kvDim
        let rep = H / c.nKVHeads, scale = 1 / Float(hd).squareRoot()
        parallelFor(B * H) { bh in
            let b = bh / H, h = bh % H, g = h / rep, len = lengths[b]
            let att = a.att + bh * T * T
            let kBase = a.k + b * T * KVD + g * hd, vBase = a.v + b * T * KVD + g * hd
            for i in 0..<T {
                let row = att + i * T, y = a.y + (b * T + i) * C + h * hd
                if i >= len {
                    row.update(repeating: 0, count: T)
                    y.update(repeating: 0, count: hd)
                    continue
                }
                attendRow(q: a.q + (b * T + i) * C + h * hd, k: kBase, v: vBase, stride: KVD,
                          n: i + 1, hd: hd, scale: scale, att: row, y: y)
                (row + i + 1).update(repeating: 0, count: T - i - 1)
            }
        }
    }

    /// dq (B, T, C), dk, dv (B, T, KVD), overwritten, from dy (B, T, C).
    /// Work is split over (batch, KV head) so that each worker owns its dk/dv rows.
    func attentionBackward(_ a: LayerActs, acts: Activations, b B: Int, t T: Int, lengths: [Int]) {
        let c = config, H = c.nHeads, hd = c.headDim, C = c.dModel, KVD = c.kvDim
        let G = c.nKVHeads, rep = H / G, scale = 1 / Float(hd).squareRoot()
        let dq = acts.dq, dk = acts.dk, dv = acts.dv, dy = acts.dy
        parallelFor(B * G) { bg in
            let b = bg / G, g = bg % G, len = lengths[b]
            for j in 0..<T {
                (dk + (b * T + j) * KVD + g * hd).update(repeating: 0, count: hd)
                (dv + (b * T + j) * KVD + g * hd).update(repeating: 0, count: hd)
            }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: max(T, 1)) { buf in
                let dAtt = buf.baseAddress!  // (T) one row of d(scores)
                for h in (g * rep)..<((g + 1) * rep) {
                    for i in 0..<T {
                        let dqi = dq + (b * T + i) * C + h * hd
                        dqi.update(repeating: 0, count: hd)
                        if i >= len { continue }
                        let att = a.att + ((b * H + h) * T + i) * T
                        let dyi = dy + (b * T + i) * C + h * hd, qi = a.q + (b * T + i) * C + h * hd
                        var s: Float = 0
                        for j in 0...i {
                            let vj = a.v + (b * T + j) * KVD + g * hd
                            dAtt[j] = dot(dyi, vj, hd)
                            s += att[j] * dAtt[j]
                            axpy(att[j], dyi, dv + (b * T + j) * KVD + g * hd, hd)
                        }
                        for j in 0...i {
                            let ds = att[j] * (dAtt[j] - s) * scale
                            axpy(ds, a.k + (b * T + j) * KVD + g * hd, dqi, hd)
                            axpy(ds, qi, dk + (b * T + j) * KVD + g * hd, hd)
                        }
                    }
                }
            }
        }
    }
}
