import Tensor

/// Rows per causal block: a block of queries only multiplies the keys up to its last row.
let attentionBlock = 64

extension LlamaModel {
    /// y (B, T, C), att (B, H, T, T) from q (B, T, C), k, v (B, T, KVD). Rows at t >= length: y = 0,
    /// att undefined. Work is split over (batch, head); each head's products are single-threaded GEMMs.
    func attentionForward(_ a: LayerActs, b B: Int, t T: Int, lengths: [Int]) {
        let c = config, H = c.nHeads, hd = c.headDim, C = c.dModel, KVD = c.kvDim
        let rep = H / c.nKVHeads, scale = 1 / Float(hd).squareRoot()
        parallelChunks(B * H) { _, range in
            for bh in range {
                let b = bh / H, h = bh % H, g = h / rep, len = lengths[b]
                let att = a.att + bh * T * T                   // (T, T)
                let q = a.q + b * T * C + h * hd               // (T, hd) at stride C
                let k = a.k + b * T * KVD + g * hd, v = a.v + b * T * KVD + g * hd  // (T, hd) at stride KVD
                let y = a.y + b * T * C + h * hd               // (T, hd) at stride C
                for r0 in stride(from: 0, to: len, by: attentionBlock) {
                    let r1 = min(r0 + attentionBlock, len)
                    gemm(transA: false, transB: true, m: r1 - r0, n: r1, k: hd, alpha: scale,
                         q + r0 * C, lda: C, k, ldb: KVD, beta: 0, att + r0 * T, ldc: T)
                }
                for i in 0..<len {
                    let row = att + i * T
                    softmaxInPlace(row, i + 1)
                    (row + i + 1).update(repeating: 0, count: T - i - 1)
                }
                for r0 in stride(from: 0, to: len, by: attentionBlock) {
                    let r1 = min(r0 + attentionBlock, len)
                    gemm(transA: false, transB: false, m: r1 - r0, n: hd, k: r1, alpha: 1,
                         att + r0 * T, lda: T, v, ldb: KVD, beta: 0, y + r0 * C, ldc: C)
                }
                for i in len..<T { (y + i * C).update(repeating: 0, count: hd) }
            }
        }
    }

    /// dq (B, T, C), dk, dv (B, T, KVD), overwritten, from dy (B, T, C).
    /// Work is split over (batch, KV head) so that each worker owns its dk/dv rows.
    func attentionBackward(_ a: LayerActs, acts: Activations, b B: Int, t T: Int, lengths: [Int]) {
        let c = config, H = c.nHeads, hd = c.headDim, C = c.dModel, KVD = c.kvDim
        let G = c.nKVHeads, rep = H / G, scale = 1 / Float(hd).squareRoot()
        parallelChunks(B * G, maxWorkers: acts.scratchWorkers) { worker, range in
            let dS = acts.attScratch + worker * T * T  // (T, T) d(scores), then d(pre-softmax scores)
            for bg in range {
                let b = bg / G, g = bg % G, len = lengths[b]
                let k = a.k + b * T * KVD + g * hd, v = a.v + b * T * KVD + g * hd
                let dk = acts.dk + b * T * KVD + g * hd, dv = acts.dv + b * T * KVD + g * hd
                for j in 0..<T {
                    (dk + j * KVD).update(repeating: 0, count: hd)
                    (dv + j * KVD).update(repeating: 0, count: hd)
                }
                for h in (g * rep)..<((g + 1) * rep) {
                    let att = a.att + (b * H + h) * T * T
                    let q = a.q + b * T * C + h * hd, dq = acts.dq + b * T * C + h * hd
                    let dy = acts.dy + b * T * C + h * hd
                    for r0 in stride(from: 0, to: len, by: attentionBlock) {
                        let r1 = min(r0 + attentionBlock, len)
                        gemm(transA: false, transB: true, m: r1 - r0, n: r1, k: hd, alpha: 1,
                             dy + r0 * C, lda: C, v, ldb: KVD, beta: 0, dS + r0 * T, ldc: T)
                        // dv[0:r1] += att[r0:r1, 0:r1]^T @ dy[r0:r1]
                        gemm(transA: true, transB: false, m: r1, n: hd, k: r1 - r0, alpha: 1,
                             att + r0 * T, lda: T, dy + r0 * C, ldb: C, beta: 1, dv, ldc: KVD)
                    }
                    for i in 0..<len {  // softmax backward; att is 0 above the diagonal
                        let n = min((i / attentionBlock + 1) * attentionBlock, len)
                        let arow = att + i * T, drow = dS + i * T
                        let s = dot(arow, drow, i + 1)
                        for j in 0..<n { drow[j] = arow[j] * (drow[j] - s) }
                    }
                    for r0 in stride(from: 0, to: len, by: attentionBlock) {
                        let r1 = min(r0 + attentionBlock, len)
                        gemm(transA: false, transB: false, m: r1 - r0, n: hd, k: r1, alpha: scale,
                             dS + r0 * T, lda: T, k, ldb: KVD, beta: 0, dq + r0 * C, ldc: C)
                        gemm(transA: true, transB: false, m: r1, n: hd, k: r1 - r0, alpha: scale,
                             dS + r0 * T, lda: T, q + r0 * C, ldb: C, beta: 1, dk, ldc: KVD)
                    }
                    for i in len..<T { (dq + i * C).update(repeating: 0, count: hd) }
                }
            }
        }
    }
}
