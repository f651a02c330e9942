import Tensor

extension LlamaModel {
    /// LM head. Returns (B, T): [b, t] = log p(tokens[b,t] | tokens[b,<t]) for 1 <= t < lengths[b];
    /// 0 at t = 0 and at padding. With `keepActivations`, a later `backwardTokenLogProbs` may follow.
    /// Logits are made a tile of rows at a time (`HeadPlan`), so the (B*T, V) buffer never exceeds
    /// logitsBudgetBytes (nor headTileBytes for gradient-free passes and under `recompute`).
    public func tokenLogProbs(_ batch: TokenBatch, keepActivations: Bool) -> [Float] {
        precondition(head == .lm, "tokenLogProbs needs an LM head; this model has a \(head) head")
        let acts = Profile.time("forward body") { forwardBody(batch, keep: keepActivations, cache: nil) }
        let n = batch.batchSize * batch.seqLen, V = config.vocabSize
        var out = [Float](repeating: 0, count: n)
        acts.headKept = acts.head.kept
        for r0 in stride(from: 0, to: n, by: acts.head.rowTile) {
            let r1 = min(n, r0 + acts.head.rowTile)
            Profile.time("head matmul") {
                matmulForward(acts.logits, acts.xnF + r0 * config.dModel, w(outputMatrix), n: r1 - r0,
                              inC: config.dModel, outC: V, precision: precision)
            }
            Profile.time("head softmax") { out.withUnsafeMutableBufferPointer { headLogProbs(acts, $0.baseAddress!, acts.logits, r0: r0, r1: r1) } }
        }
        return out
    }

    /// LM head, no gradient. Returns (B, T, V) next-token logits; rows at padding are 0.
    public func logits(_ batch: TokenBatch) -> [Float] {
        precondition(head == .lm, "logits needs an LM head; this model has a \(head) head")
        let acts = forwardBody(batch, keep: false, cache: nil)
        let B = batch.batchSize, T = batch.seqLen, V = config.vocabSize
        var out = [Float](repeating: 0, count: B * T * V)
        matmulForward(&out, acts.xnF, w(outputMatrix), n: B * T, inC: config.dModel, outC: V, precision: precision)
        for r in 0..<(B * T) where r % T >= batch.lengths[r / T] {
            for j in 0..<V { out[r * V + j] = 0 }
        }
        return out
    }

    /// Scalar head. Returns (B, T): the head's value at every position; 0 at padding.
    public func scalarOutputs(_ batch: TokenBatch, keepActivations: Bool) -> [Float] {
        precondition(head == .scalar, "scalarOutputs needs a scalar head; this model has an LM head")
        let acts = forwardBody(batch, keep: keepActivations, cache: nil)
        let B = batch.batchSize, T = batch.seqLen, C = config.dModel
        let sw = w(scoreW!), bias = w(scoreB!)[0]
        var out = [Float](repeating: 0, count: B * T)
        for r in 0..<(B * T) where r % T < batch.lengths[r / T] {
            out[r] = dot(acts.xnF + r * C, sw, C) + bias
        }
        return out
    }

    /// Embedding, blocks and final norm; leaves xnF (B, T, C) in the returned activations.
    /// With a cache, also writes each block's rotated keys and values for positions < length.
    func forwardBody(_ batch: TokenBatch, keep: Bool, cache: KVCache?) -> Activations {
        let c = config, B = batch.batchSize, T = batch.seqLen, C = c.dModel
        precondition(batch.tokens.count == B * T && batch.lengths.count == B, "TokenBatch: inconsistent shape")
        precondition(T <= c.maxSeqLen, "sequence length \(T) exceeds the model's maxSeqLen \(c.maxSeqLen)")
        for r in 0..<(B * T) where r % T < batch.lengths[r / T] {
            let tok = batch.tokens[r]
            precondition(tok >= 0 && Int(tok) < c.vocabSize, "token id \(tok) outside vocabulary 0..<\(c.vocabSize)")
        }
        if !adapters.isEmpty { refreshLoRA() }
        let acts: Activations
        if keep {
            let keeping = activationKeeping(training: true)
            acts = trainActs.flatMap { $0.keeping == keeping ? $0 : nil } ?? Activations(config: c, keeping: keeping)
            trainActs = acts
        } else {
            acts = inferActs ?? Activations(config: c, keeping: .inference)
            inferActs = acts
        }
        acts.prepare(b: B, t: T, lmHead: head == .lm, head: headPlan(b: B, t: T, keep: keep))
        acts.tokens = batch.tokens
        acts.lengths = batch.lengths
        embeddingForward(acts.layers[0].xin, batch)
        for l in 0..<c.nLayers {
            let next = l + 1 < c.nLayers ? acts.layers[l + 1].xin : acts.xout
            blockForward(l, acts.layers[l], out: next, b: B, t: T, lengths: batch.lengths, cache: cache)
        }
        rmsnormForward(acts.xnF, acts.rstdF, acts.xout, w(normF), n: B * T, c: C, eps: c.normEps)
        return acts
    }

    /// out (B, T, C): embedding rows for real tokens, zeros at padding.
    func embeddingForward(_ out: UnsafeMutablePointer<Float>, _ batch: TokenBatch) {
        let C = config.dModel, T = batch.seqLen, e = w(embed)
        for r in 0..<(batch.batchSize * T) {
            if r % T < batch.lengths[r / T] {
                (out + r * C).update(from: e + Int(batch.tokens[r]) * C, count: C)
            } else {
                (out + r * C).update(repeating: 0, count: C)
            }
        }
    }

    /// One transformer block: out (B, T, C) = block(a.xin); out may alias a.xin.
    func blockForward(_ l: Int, _ a: LayerActs, out: UnsafeMutablePointer<Float>, b B: Int, t T: Int,
                      lengths: [Int], cache: KVCache?) {
        let c = config, p = layers[l], n = B * T, C = c.dModel, KVD = c.kvDim, Hd = c.hidden
        rmsnormForward(a.xn1, a.rstd1, a.xin, w(p.ln1), n: n, c: C, eps: c.normEps)
        matmulForward(a.q, a.xn1, w(p.wq), n: n, inC: C, outC: C, precision: precision)
        matmulForward(a.k, a.xn1, w(p.wk), n: n, inC: C, outC: KVD, precision: precision)
        matmulForward(a.v, a.xn1, w(p.wv), n: n, inC: C, outC: KVD, precision: precision)
        ropeCos.withUnsafeBufferPointer { cs in
            ropeSin.withUnsafeBufferPointer { sn in
                parallelRows(n, cost: C) { r in
                    ropeRotate(a.q + r * C, heads: c.nHeads, headDim: c.headDim, pos: r % T,
                               cos: cs.baseAddress!, sin: sn.baseAddress!, inverse: false)
                    ropeRotate(a.k + r * KVD, heads: c.nKVHeads, headDim: c.headDim, pos: r % T,
                               cos: cs.baseAddress!, sin: sn.baseAddress!, inverse: false)
                }
            }
        }
        if let cache { cache.store(layer: l, k: a.k, v: a.v, b: B, t: T, lengths: lengths) }
        Profile.time("attention fwd") { attentionForward(a, b: B, t: T, lengths: lengths) }
        a.x2.update(from: a.xin, count: n * C)
        matmulForward(a.x2, a.y, w(p.wo), n: n, inC: C, outC: C, accumulate: true, precision: precision)
        rmsnormForward(a.xn2, a.rstd2, a.x2, w(p.ln2), n: n, c: C, eps: c.normEps)
        matmulForward(a.gate, a.xn2, w(p.wg), n: n, inC: C, outC: Hd, precision: precision)
        matmulForward(a.up, a.xn2, w(p.wu), n: n, inC: C, outC: Hd, precision: precision)
        swigluForward(a.h, a.gate, a.up, n: n * Hd)
        if out != a.x2 { out.update(from: a.x2, count: n * C) }
        matmulForward(out, a.h, w(p.wd), n: n, inC: Hd, outC: C, accumulate: true, precision: precision)
    }
}
