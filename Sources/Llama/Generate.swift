import Tensor
import Randomness

/// Rotated keys and values of every block for a batch of sequences, head-major: one (S, hd) block per
/// (layer, sequence, KV head), so decode attention streams each head's rows contiguously (with the
/// position-major layout every 256-byte row sat 2 KB from the next, two rows per page, at d512).
final class KVCache {
    let layers: Int, batch: Int, maxLen: Int, kvHeads: Int, headDim: Int
    let k: UnsafeMutablePointer<Float>  // (L, B, G, S, hd)
    let v: UnsafeMutablePointer<Float>  // (L, B, G, S, hd)

    /// Room for `length` positions per sequence (at most the model's maxSeqLen).
    init(config: LlamaConfig, batch: Int, length: Int) {
        layers = config.nLayers
        self.batch = batch
        maxLen = min(length, config.maxSeqLen)
        kvHeads = config.nKVHeads
        headDim = config.headDim
        let n = Self.floats(config: config, batch: batch, length: length)  // fresh pages: touched only as positions fill
        k = allocateAligned(n)
        v = allocateAligned(n)
    }

    deinit { k.deallocate(); v.deallocate() }

    /// Floats of each of k and v for `batch` sequences of up to `length` positions.
    static func floats(config: LlamaConfig, batch: Int, length: Int) -> Int {
        max(1, config.nLayers * batch * min(length, config.maxSeqLen) * config.kvDim)
    }

    /// Offset of head g's (S, hd) block of (layer l, sequence b).
    @inline(__always) func block(_ l: Int, _ b: Int, _ g: Int) -> Int {
        ((l * batch + b) * kvHeads + g) * maxLen * headDim
    }

    /// Writes one position's k and v rows (KVD each, heads side by side) of sequence b in layer l.
    @inline(__always) func write(layer l: Int, seq b: Int, pos t: Int, k kRow: UnsafePointer<Float>,
                                 v vRow: UnsafePointer<Float>) {
        precondition(t < maxLen, "KVCache: position \(t) beyond its \(maxLen) positions")
        for g in 0..<kvHeads {
            let at = block(l, b, g) + t * headDim
            (k + at).update(from: kRow + g * headDim, count: headDim)
            (v + at).update(from: vRow + g * headDim, count: headDim)
        }
    }

    /// Copies k, v (B, T, KVD) rows at t < lengths[b] into layer `l`.
    func store(layer l: Int, k src: UnsafePointer<Float>, v vsrc: UnsafePointer<Float>, b B: Int, t T: Int, lengths: [Int]) {
        let kvDim = kvHeads * headDim
        for b in 0..<B {
            for t in 0..<lengths[b] {
                write(layer: l, seq: b, pos: t, k: src + (b * T + t) * kvDim, v: vsrc + (b * T + t) * kvDim)
            }
        }
    }
}

/// Buffers for one decoding step of up to `n` sequences, one token each.
final class DecodeScratch {
    let mem: UnsafeMutablePointer<Float>
    let x, xn, q, k, v, y, x2, h, logits, rstd, att, qkv, gu: UnsafeMutablePointer<Float>
    // x, xn, q, y, x2 (n, C); k, v (n, KVD); h (n, Hd); logits (n, V); rstd (n); att (n, H, S);
    // qkv (n, C + 2 KVD) and gu (n, 2 Hd) the stacked products' outputs

    /// Each buffer's floats, padded so every buffer starts on a 64-byte boundary.
    static func bufferSizes(config c: LlamaConfig, n: Int) -> [Int] {
        let sizes = [n * c.dModel, n * c.dModel, n * c.dModel, n * c.kvDim, n * c.kvDim, n * c.dModel,
                     n * c.dModel, n * c.hidden, n * c.vocabSize, n, n * c.nHeads * c.maxSeqLen,
                     n * (c.dModel + 2 * c.kvDim), n * 2 * c.hidden]
        return sizes.map { ($0 + 15) / 16 * 16 }
    }

    init(config c: LlamaConfig, n: Int) {
        let padded = Self.bufferSizes(config: c, n: n)
        mem = allocateAligned(padded.reduce(0, +))
        var ptrs: [UnsafeMutablePointer<Float>] = []
        var off = 0
        for s in padded { ptrs.append(mem + off); off += s }
        (x, xn, q, k, v, y, x2) = (ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], ptrs[5], ptrs[6])
        (h, logits, rstd, att, qkv, gu) = (ptrs[7], ptrs[8], ptrs[9], ptrs[10], ptrs[11], ptrs[12])
    }

    deinit { mem.deallocate() }
}

/// Every matrix a decoding step multiplies, in CKernels' panels; q/k/v and gate/up are stacked into one
/// product each. Packed by each `generate` call after its prefill (which also refreshes LoRA-adapted
/// matrices), since weights change between calls. In the model's precision: a bf16 model decodes with
/// bf16 panels (half the bytes a step streams), an fp32 one exactly as before.
final class DecodeWeights {
    struct Block { let qkv, o, gateUp, down: PackedMatrix }
    let blocks: [Block]
    let head: PackedMatrix
    let precision: Precision

    /// Shapes (rows, inC) of one block's qkv, o, gateUp, down and of the head.
    static func shapes(_ c: LlamaConfig) -> (block: [(Int, Int)], head: (Int, Int)) {
        let C = c.dModel, KVD = c.kvDim, Hd = c.hidden
        return ([(C + 2 * KVD, C), (C, C), (2 * Hd, C), (C, Hd)], (c.vocabSize, C))
    }

    /// Floats all panels take in `precision`.
    static func floats(config c: LlamaConfig, precision: Precision) -> Int {
        let (block, head) = shapes(c)
        return c.nLayers * block.map { PackedMatrix.floats(rows: $0.0, inC: $0.1, precision: precision) }.reduce(0, +)
            + PackedMatrix.floats(rows: head.0, inC: head.1, precision: precision)
    }

    init(config c: LlamaConfig, precision: Precision) {
        let (shape, headShape) = Self.shapes(c)
        self.precision = precision
        blocks = (0..<c.nLayers).map { _ in
            let m = shape.map { PackedMatrix(rows: $0.0, inC: $0.1, precision: precision) }
            return Block(qkv: m[0], o: m[1], gateUp: m[2], down: m[3])
        }
        head = PackedMatrix(rows: headShape.0, inC: headShape.1, precision: precision)
    }

    /// Packs `m`'s current weights.
    func pack(_ m: LlamaModel) {
        func parts(_ ps: [Parameter], _ inC: Int) -> [(UnsafePointer<Float>, Int)] {
            ps.map { (UnsafePointer(m.w($0)), $0.count / inC) }
        }
        let C = m.config.dModel, Hd = m.config.hidden
        for (b, p) in zip(blocks, m.layers) {
            b.qkv.pack(parts([p.wq, p.wk, p.wv], C))
            b.o.pack(parts([p.wo], C))
            b.gateUp.pack(parts([p.wg, p.wu], C))
            b.down.pack(parts([p.wd], Hd))
        }
        head.pack(parts([m.outputMatrix], C))
    }
}

extension LlamaModel {
    /// Positions a `generate` call's KV cache needs: the longest prompt plus the new tokens, within the window.
    func cacheLength(longestPrompt: Int, maxNewTokens: Int) -> Int {
        min(longestPrompt + maxNewTokens, config.maxSeqLen)
    }

    /// The previous call's cache, when it has room for `batch` sequences of `length` positions.
    func reusableCache(batch: Int, length: Int) -> KVCache? {
        keptCache.flatMap { $0.batch >= batch && $0.maxLen >= length ? $0 : nil }
    }

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
        // Only the positions this call can reach (a smaller cache faults in fewer fresh pages), in the
        // previous call's cache when that one has room.
        let length = cacheLength(longestPrompt: prompts.map(\.count).max()!, maxNewTokens: maxNewTokens)
        let cache = reusableCache(batch: B, length: length) ?? KVCache(config: c, batch: B, length: length)
        keptCache = cache
        let scratch = DecodeScratch(config: c, n: B)
        let batch = TokenBatch(sequences: prompts, pad: 0)
        let acts = Profile.time("prefill") { forwardBody(batch, keep: false, cache: cache) }
        for b in 0..<B {  // final-norm rows at each prompt's last token
            (scratch.xn + b * C).update(from: acts.xnF + (b * batch.seqLen + prompts[b].count - 1) * C, count: C)
        }
        let weights = decodePanels.flatMap { $0.precision == precision ? $0 : nil } ?? DecodeWeights(config: c, precision: precision)
        decodePanels = weights
        Profile.time("pack") { weights.pack(self) }
        weights.head.multiply(scratch.logits, scratch.xn, n: B)
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
                decodeStep(tokens: next, seqs: active, positions: active.map { pos[$0] }, cache: cache, weights: weights,
                           s: scratch)
            }
            for b in active { pos[b] += 1 }
        }
        return out
    }

    /// Feeds one token per listed sequence at its position; leaves logits (n, V) in the scratch.
    func decodeStep(tokens: [Int32], seqs: [Int], positions: [Int], cache: KVCache, weights: DecodeWeights,
                    s: DecodeScratch) {
        let c = config, n = tokens.count, C = c.dModel, KVD = c.kvDim, Hd = c.hidden, hd = c.headDim
        let H = c.nHeads
        for r in 0..<n { (s.x + r * C).update(from: w(embed) + Int(tokens[r]) * C, count: C) }
        for l in 0..<c.nLayers {
            let p = layers[l], pw = weights.blocks[l]
            rmsnormForward(s.xn, s.rstd, s.x, w(p.ln1), n: n, c: C, eps: c.normEps)
            Profile.time("decode qkv") { decodeQKV(pw.qkv, s: s, n: n) }
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
                cache.write(layer: l, seq: seqs[r], pos: positions[r], k: s.k + r * KVD, v: s.v + r * KVD)
            }
            Profile.time("decode attention") {
                decodeAttention(l, s: s, cache: cache, seqs: seqs, positions: positions)
            }
            Profile.time("decode o") { pw.o.multiply(s.x2, s.y, n: n) }
            for i in 0..<(n * C) { s.x2[i] += s.x[i] }
            rmsnormForward(s.xn, s.rstd, s.x2, w(p.ln2), n: n, c: C, eps: c.normEps)
            Profile.time("decode gate/up") {
                pw.gateUp.multiply(s.gu, s.xn, n: n)
                for r in 0..<n { swigluForward(s.h + r * Hd, s.gu + r * 2 * Hd, s.gu + r * 2 * Hd + Hd, n: Hd) }
            }
            Profile.time("decode down") { pw.down.multiply(s.x, s.h, n: n) }
            for i in 0..<(n * C) { s.x[i] += s.x2[i] }
        }
        rmsnormForward(s.xn, s.rstd, s.x, w(normF), n: n, c: C, eps: c.normEps)
        Profile.time("decode head") { weights.head.multiply(s.logits, s.xn, n: n) }
    }

    /// s.q, s.k, s.v from s.xn through the stacked q/k/v product.
    func decodeQKV(_ qkv: PackedMatrix, s: DecodeScratch, n: Int) {
        let C = config.dModel, KVD = config.kvDim, QKV = C + 2 * KVD
        qkv.multiply(s.qkv, s.xn, n: n)
        for r in 0..<n {
            (s.q + r * C).update(from: s.qkv + r * QKV, count: C)
            (s.k + r * KVD).update(from: s.qkv + r * QKV + C, count: KVD)
            (s.v + r * KVD).update(from: s.qkv + r * QKV + C + KVD, count: KVD)
        }
    }

    /// s.y (n, C) from s.q (n, C) over each sequence's cached keys and values up to its position.
    /// Work items are (sequence, KV group), split across the cores, each one call of the C kernel.
    func decodeAttention(_ l: Int, s: DecodeScratch, cache: KVCache, seqs: [Int], positions: [Int]) {
        let c = config, C = c.dModel, hd = c.headDim, G = c.nKVHeads
        let rep = c.nHeads / G, S = c.maxSeqLen
        var items: [AttendItem] = []
        items.reserveCapacity(seqs.count * G)
        for (r, b) in seqs.enumerated() {
            for g in 0..<G {
                let off = r * C + g * rep * hd
                items.append(AttendItem(q: s.q + off, k: cache.k + cache.block(l, b, g), v: cache.v + cache.block(l, b, g),
                                        stride: hd, n: positions[r] + 1, att: s.att + (r * c.nHeads + g * rep) * S,
                                        y: s.y + off))
            }
        }
        attendDecode(items, hd: hd, rep: rep, scale: 1 / Float(hd).squareRoot(), ldAtt: S)
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
        guard topP < 1 else {  // the whole distribution in index order: no order array (49k entries for SmolLM2)
            var total: Float = 0
            for j in 0..<V { total += logits[j] }
            let u = rng.nextFloat() * total
            var acc: Float = 0
            for j in 0..<V {
                acc += logits[j]
                if u < acc { return Int32(j) }
            }
            return Int32(V - 1)
        }
        var order = Array(0..<V)
        order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        var cum: Float = 0, limit = 0
        while limit < V { cum += logits[order[limit]]; limit += 1; if cum >= topP { break } }
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
