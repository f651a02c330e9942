import Tensor

/// Rotated keys and values of every block for a batch of sequences.
final class KVCache {
    let layers: Int, batch: Int, maxLen: Int, kvDim: Int
    let k: UnsafeMutablePointer<Float>  // (L, B, S, KVD)
    let v: UnsafeMutablePointer<Float>  // (L, B, S, KVD)

    init(config: LlamaConfig, batch: Int) {
        layers = config.nLayers
        self.batch = batch
        maxLen = config.maxSeqLen
        kvDim = config.kvDim
        let n = max(1, layers * batch * maxLen * kvDim)
        k = .allocate(capacity: n)
        v = .allocate(capacity: n)
    }

    deinit { k.deallocate(); v.deallocate() }

    /// Row (layer, sequence, position) of the key cache.
    @inline(__always) func kRow(_ l: Int, _ b: Int, _ t: Int) -> UnsafeMutablePointer<Float> {
        k + ((l * batch + b) * maxLen + t) * kvDim
    }
    @inline(__always) func vRow(_ l: Int, _ b: Int, _ t: Int) -> UnsafeMutablePointer<Float> {
        v + ((l * batch + b) * maxLen + t) * kvDim
    }

    /// Copies k, v (B, T, KVD) rows at t < lengths[b] into layer `l`.
    func store(layer l: Int, k src: UnsafePointer<Float>, v vsrc: UnsafePointer<Float>, b B: Int, t T: Int, lengths: [Int]) {
        for b in 0..<B {
            for t in 0..<lengths[b] {
                kRow(l, b, t).update(from: src + (b * T + t) * kvDim, count: kvDim)
                vRow(l, b, t).update(from: vsrc + (b * T + t) * kvDim, count: kvDim)
            }
        }
    }
}

/// Buffers for one decoding step of up to `n` sequences, one token each.
final class DecodeScratch {
    let mem: UnsafeMutablePointer<Float>
    let x, xn, q, k, v, y, x2, gate, up, h, logits, rstd, att, qkv: UnsafeMutablePointer<Float>
    // x, xn, q, y, x2 (n, C); k, v (n, KVD); gate, up, h (n, Hd); logits (n, V); rstd (n); att (n, H, S);
    // qkv (n, C + 2 KVD) the fused projection's output

    init(config c: LlamaConfig, n: Int) {
        let sizes = [n * c.dModel, n * c.dModel, n * c.dModel, n * c.kvDim, n * c.kvDim, n * c.dModel,
                     n * c.dModel, n * c.hidden, n * c.hidden, n * c.hidden, n * c.vocabSize, n,
                     n * c.nHeads * c.maxSeqLen, n * (c.dModel + 2 * c.kvDim)]
        mem = .allocate(capacity: sizes.reduce(0, +))
        var ptrs: [UnsafeMutablePointer<Float>] = []
        var off = 0
        for s in sizes { ptrs.append(mem + off); off += s }
        (x, xn, q, k, v, y, x2) = (ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], ptrs[5], ptrs[6])
        (gate, up, h, logits, rstd, att, qkv) = (ptrs[7], ptrs[8], ptrs[9], ptrs[10], ptrs[11], ptrs[12], ptrs[13])
    }

    deinit { mem.deallocate() }
}

extension LlamaModel {
    /// Batched sampling with a KV cache. Returns only the new tokens per prompt (EOS included if
    /// produced, then stop). temperature 0 = greedy; topP < 1 keeps the smallest nucleus reaching topP.
    /// A sequence also stops when it reaches maxSeqLen. Prompts must be non-empty and fit maxSeqLen.
    public func generate(prompts: [[Int32]], maxNewTokens: Int, temperature: Float, topP: Float, eos: Int32,
                         rng: inout SeededRandom) -> [[Int32]] {
        precondition(head == .lm, "generate needs an LM head")
        let c = config, B = prompts.count, V = c.vocabSize, C = c.dModel
        var out = [[Int32]](repeating: [], count: B)
        guard B > 0, maxNewTokens > 0 else { return out }
        for p in prompts {
            precondition(!p.isEmpty && p.count <= c.maxSeqLen,
                         "generate: prompt length \(p.count) must be in 1...\(c.maxSeqLen)")
        }
        let cache = KVCache(config: c, batch: B)
        let scratch = DecodeScratch(config: c, n: B)
        let batch = TokenBatch(sequences: prompts, pad: 0)
        let acts = Profile.time("prefill") { forwardBody(batch, keep: false, cache: cache) }
        for b in 0..<B {  // final-norm rows at each prompt's last token
            (scratch.xn + b * C).update(from: acts.xnF + (b * batch.seqLen + prompts[b].count - 1) * C, count: C)
        }
        matmulForward(scratch.logits, scratch.xn, w(outputMatrix), n: B, inC: C, outC: V)
        var active = Array(0..<B), pos = prompts.map(\.count)
        while true {
            var next: [Int32] = [], stillActive: [Int] = []
            for (r, b) in active.enumerated() {
                let tok = Profile.time("sample") {
                    sampleToken(scratch.logits + r * V, temperature: temperature, topP: topP, rng: &rng)
                }
                out[b].append(tok)
                if tok != eos && out[b].count < maxNewTokens && pos[b] + 1 < c.maxSeqLen {
                    stillActive.append(b)
                    next.append(tok)
                }
            }
            active = stillActive
            if active.isEmpty { break }
            Profile.time("decode step") {
                decodeStep(tokens: next, seqs: active, positions: active.map { pos[$0] }, cache: cache, s: scratch)
            }
            for b in active { pos[b] += 1 }
        }
        return out
    }

    /// Feeds one token per listed sequence at its position; leaves logits (n, V) in the scratch.
    func decodeStep(tokens: [Int32], seqs: [Int], positions: [Int], cache: KVCache, s: DecodeScratch) {
        let c = config, n = tokens.count, C = c.dModel, KVD = c.kvDim, Hd = c.hidden, hd = c.headDim
        let H = c.nHeads
        for r in 0..<n { (s.x + r * C).update(from: w(embed) + Int(tokens[r]) * C, count: C) }
        for l in 0..<c.nLayers {
            let p = layers[l]
            rmsnormForward(s.xn, s.rstd, s.x, w(p.ln1), n: n, c: C, eps: c.normEps)
            Profile.time("decode qkv") { decodeQKV(p, s: s, n: n) }
            ropeCos.withUnsafeBufferPointer { cs in
                ropeSin.withUnsafeBufferPointer { sn in
                    for r in 0..<n {
                        ropeRotate(s.q + r * C, heads: H, headDim: hd, pos: positions[r],
                                   cos: cs.baseAddress!, sin: sn.baseAddress!, inverse: false)
                        ropeRotate(s.k + r * KVD, heads: c.nKVHeads, headDim: hd, pos: positions[r],
                                   cos: cs.baseAddress!, sin: sn.baseAddress!, inverse: false)
                    }
                }
            }
            for r in 0..<n {
                cache.kRow(l, seqs[r], positions[r]).update(from: s.k + r * KVD, count: KVD)
                cache.vRow(l, seqs[r], positions[r]).update(from: s.v + r * KVD, count: KVD)
            }
            Profile.time("decode attention") {
                decodeAttention(l, s: s, cache: cache, seqs: seqs, positions: positions)
            }
            Profile.time("decode o") { decodeMatmul(s.x2, s.y, w(p.wo), n: n, inC: C, outC: C) }
            for i in 0..<(n * C) { s.x2[i] += s.x[i] }
            rmsnormForward(s.xn, s.rstd, s.x2, w(p.ln2), n: n, c: C, eps: c.normEps)
            Profile.time("decode gate/up") {
                decodeMatmul(s.gate, s.xn, w(p.wg), n: n, inC: C, outC: Hd)
                decodeMatmul(s.up, s.xn, w(p.wu), n: n, inC: C, outC: Hd)
            }
            Profile.time("decode swiglu") { swigluForward(s.h, s.gate, s.up, n: n * Hd) }
            Profile.time("decode down") { decodeMatmul(s.x, s.h, w(p.wd), n: n, inC: Hd, outC: C) }
            for i in 0..<(n * C) { s.x[i] += s.x2[i] }
        }
        rmsnormForward(s.xn, s.rstd, s.x, w(normF), n: n, c: C, eps: c.normEps)
        Profile.time("decode head") { decodeMatmul(s.logits, s.xn, w(outputMatrix), n: n, inC: C, outC: config.vocabSize) }
    }

    /// s.q, s.k, s.v from s.xn. q_proj, k_proj and v_proj are adjacent in the parameter arena, so one
    /// (C + 2 KVD, C) product replaces three: a few-row GEMM costs mostly packing and thread start-up,
    /// measured ~1.5x faster fused at 32 rows. Adapted (LoRA) matrices are not adjacent: three products.
    func decodeQKV(_ p: LayerParams, s: DecodeScratch, n: Int) {
        let C = config.dModel, KVD = config.kvDim, QKV = C + 2 * KVD
        let wq = w(p.wq), wk = w(p.wk), wv = w(p.wv)
        guard n > 16, wk == wq + C * C, wv == wk + KVD * C else {
            decodeMatmul(s.q, s.xn, wq, n: n, inC: C, outC: C)
            decodeMatmul(s.k, s.xn, wk, n: n, inC: C, outC: KVD)
            decodeMatmul(s.v, s.xn, wv, n: n, inC: C, outC: KVD)
            return
        }
        matmulForward(s.qkv, s.xn, wq, n: n, inC: C, outC: QKV)
        for r in 0..<n {
            (s.q + r * C).update(from: s.qkv + r * QKV, count: C)
            (s.k + r * KVD).update(from: s.qkv + r * QKV + C, count: KVD)
            (s.v + r * KVD).update(from: s.qkv + r * QKV + C + KVD, count: KVD)
        }
    }

    /// s.y (n, C) from s.q (n, C) over each sequence's cached keys and values up to its position.
    /// Work items are (sequence, KV group), split across the cores with single-threaded BLAS inside.
    func decodeAttention(_ l: Int, s: DecodeScratch, cache: KVCache, seqs: [Int], positions: [Int]) {
        let c = config, n = seqs.count, C = c.dModel, KVD = c.kvDim, hd = c.headDim, G = c.nKVHeads
        let rep = c.nHeads / G, S = c.maxSeqLen, scale = 1 / Float(hd).squareRoot()
        func attend(_ rg: Int) {
            let r = rg / G, g = rg % G, b = seqs[r], off = r * C + g * rep * hd
            attendGroup(q: s.q + off, k: cache.kRow(l, b, 0) + g * hd, v: cache.vRow(l, b, 0) + g * hd,
                        stride: KVD, n: positions[r] + 1, hd: hd, rep: rep, scale: scale,
                        att: s.att + (r * c.nHeads + g * rep) * S, ldAtt: S, y: s.y + off)
        }
        if n * c.nHeads * (positions.max()! + 1) * hd < 65_536 {  // too little work to wake a second core
            for rg in 0..<(n * G) { attend(rg) }
        } else {
            parallelChunks(n * G) { _, range in for rg in range { attend(rg) } }
        }
    }

    /// Few-row products read each weight once; larger batches go to BLAS.
    func decodeMatmul(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                      n: Int, inC: Int, outC: Int) {
        if n == 1 {
            gemv(trans: false, m: outC, n: inC, alpha: 1, weight, lda: inC, inp, beta: 0, out)
        } else if n <= 16 && BLASCore.isGeneric {
            matmulFewRows(out, inp, weight, n: n, inC: inC, outC: outC)
        } else {
            matmulForward(out, inp, weight, n: n, inC: inC, outC: outC)
        }
    }

    /// Draws one token from a row of logits (greedy when temperature is 0); modifies the row.
    func sampleToken(_ logits: UnsafeMutablePointer<Float>, temperature: Float, topP: Float,
                     rng: inout SeededRandom) -> Int32 {
        let V = config.vocabSize
        if temperature <= 0 {
            var best = 0
            for j in 1..<max(V, 1) where logits[j] > logits[best] { best = j }
            return Int32(best)
        }
        for j in 0..<V { logits[j] /= temperature }
        softmaxInPlace(logits, V)
        var order = Array(0..<V)
        var limit = V
        if topP < 1 {
            order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
            var cum: Float = 0
            limit = 0
            while limit < V { cum += logits[order[limit]]; limit += 1; if cum >= topP { break } }
        }
        var total: Float = 0
        for i in 0..<limit { total += logits[order[i]] }
        let u = rng.nextFloat() * total
        var acc: Float = 0
        for i in 0..<limit {
            acc += logits[order[i]]
            if u < acc { return Int32(order[i]) }
        }
        return Int32(order[limit - 1])
    }
}
