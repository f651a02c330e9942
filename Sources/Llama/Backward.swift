import Tensor

extension LlamaModel {
    /// Accumulates parameter gradients of sum(dLogProbs * logProbs) from the last kept forward.
    /// dLogProbs is (B, T) like the forward's result; entries at t = 0 and at padding are ignored.
    /// Throws `LlamaError.frozen` on a model without gradients.
    public func backwardTokenLogProbs(_ dLogProbs: [Float]) throws {
        precondition(head == .lm, "backwardTokenLogProbs needs an LM head")
        guard isTrainable else { throw LlamaError.frozen("backwardTokenLogProbs") }
        guard let acts = trainActs, acts.b > 0 || acts.t > 0 else {
            preconditionFailure("backwardTokenLogProbs: no forward with keepActivations: true before it")
        }
        let B = acts.b, T = acts.t, n = B * T
        precondition(dLogProbs.count == n, "backwardTokenLogProbs: \(dLogProbs.count) values for a (\(B), \(T)) batch")
        Profile.time("head bwd") { headBackward(acts, dLogProbs) }
        Profile.time("blocks bwd") { backwardBody(acts) }
    }

    /// dlogits = d * (onehot - p) chunk by chunk (recomputing p when the forward could not keep it),
    /// then d(xnF) into acts.dxn and the output matrix's gradient; a streamed head tiles each chunk.
    private func headBackward(_ acts: Activations, _ dLogProbs: [Float]) {
        let T = acts.t, V = config.vocabSize, C = config.dModel, n = acts.b * T
        let W = w(outputMatrix), chunk = acts.headKept ? n : acts.headRows
        for r0 in stride(from: 0, to: n, by: chunk) {
            let r1 = min(n, r0 + chunk)
            if acts.head.streamed {
                streamedHeadBackward(acts, dLogProbs, c0: r0, c1: r1)
                continue
            }
            if !acts.headKept {
                matmulForward(acts.logits, acts.xnF + r0 * C, W, n: r1 - r0, inC: C, outC: V, precision: precision)
            }
            parallelRows(r1 - r0, cost: V) { i in
                let r = r0 + i, row = acts.logits + i * V, t = r % T
                guard t + 1 < acts.lengths[r / T] else {
                    row.update(repeating: 0, count: V)
                    return
                }
                if !acts.headKept { softmaxInPlace(row, V) }
                let d = dLogProbs[r + 1]
                scale(row, V, by: -d)
                row[Int(acts.tokens[r + 1])] += d
            }
            matmulBackward(dinp: acts.dxn + r0 * C, dweight: g(outputMatrix), dout: acts.logits, inp: acts.xnF + r0 * C,
                           weight: W, n: r1 - r0, inC: C, outC: V, accumulateInput: false, precision: precision)
        }
    }

    /// Accumulates parameter gradients of sum(dOutputs * outputs) from the last kept scalar forward.
    /// Throws `LlamaError.frozen` on a model without gradients.
    public func backwardScalarOutputs(_ dOutputs: [Float]) throws {
        precondition(head == .scalar, "backwardScalarOutputs needs a scalar head")
        guard isTrainable else { throw LlamaError.frozen("backwardScalarOutputs") }
        guard let acts = trainActs, acts.b > 0 || acts.t > 0 else {
            preconditionFailure("backwardScalarOutputs: no forward with keepActivations: true before it")
        }
        let B = acts.b, T = acts.t, C = config.dModel, n = B * T
        precondition(dOutputs.count == n, "backwardScalarOutputs: \(dOutputs.count) values for a (\(B), \(T)) batch")
        let sw = w(scoreW!), dsw = g(scoreW!), dsb = g(scoreB!)
        for r in 0..<n {
            let dxn = acts.dxn + r * C
            guard r % T < acts.lengths[r / T] else {
                dxn.update(repeating: 0, count: C)
                continue
            }
            let d = dOutputs[r]
            dsb[0] += d
            axpy(d, acts.xnF + r * C, dsw, C)
            for j in 0..<C { dxn[j] = d * sw[j] }
        }
        backwardBody(acts)
    }

    /// Backward from acts.dxn (gradient at model.norm's output) down to the embedding.
    func backwardBody(_ acts: Activations) {
        let c = config, B = acts.b, T = acts.t, n = B * T, C = c.dModel
        acts.dres.update(repeating: 0, count: n * C)
        rmsnormBackward(dinp: acts.dres, dweight: g(normF), dout: acts.dxn, inp: acts.xout, weight: w(normF),
                        rstd: acts.rstdF, n: n, c: C)
        for l in stride(from: c.nLayers - 1, through: 0, by: -1) {
            // The shared block buffers still hold the last block's forward; earlier blocks are redone.
            if acts.keeping == .recompute && l < c.nLayers - 1 {
                Profile.time("recompute fwd") {
                    blockForward(l, acts.layers[l], out: acts.blockOut, b: B, t: T, lengths: acts.lengths, cache: nil)
                }
            }
            blockBackward(l, acts.layers[l], acts: acts)
        }
        embeddingBackward(acts)
        if !adapters.isEmpty { foldLoRAGradients() }
    }

    /// dE[token] += dres for real tokens.
    func embeddingBackward(_ acts: Activations) {
        let C = config.dModel, T = acts.t, dE = g(embed)
        for r in 0..<(acts.b * T) where r % T < acts.lengths[r / T] {
            axpy(1, acts.dres + r * C, dE + Int(acts.tokens[r]) * C, C)
        }
    }

    /// Block backward: on entry acts.dres holds d(out); on exit d(xin). Accumulates weight gradients.
    func blockBackward(_ l: Int, _ a: LayerActs, acts: Activations) {
        let c = config, p = layers[l], B = acts.b, T = acts.t, n = B * T
        let C = c.dModel, KVD = c.kvDim, Hd = c.hidden
        // out = x2 + down(h): d(x2) = dres, d(down) = dres.
        matmulBackward(dinp: acts.dh, dweight: g(p.wd), dout: acts.dres, inp: a.h, weight: w(p.wd),
                       n: n, inC: Hd, outC: C, accumulateInput: false, precision: precision)
        swigluBackward(dgate: acts.dgate, dup: acts.dup, dh: acts.dh, gate: a.gate, up: a.up, n: n * Hd)
        matmulBackward(dinp: acts.dxn, dweight: g(p.wg), dout: acts.dgate, inp: a.xn2, weight: w(p.wg),
                       n: n, inC: C, outC: Hd, accumulateInput: false, precision: precision)
        matmulBackward(dinp: acts.dxn, dweight: g(p.wu), dout: acts.dup, inp: a.xn2, weight: w(p.wu),
                       n: n, inC: C, outC: Hd, precision: precision)
        rmsnormBackward(dinp: acts.dres, dweight: g(p.ln2), dout: acts.dxn, inp: a.x2, weight: w(p.ln2),
                        rstd: a.rstd2, n: n, c: C)
        // x2 = xin + o_proj(y): d(xin) = dres, d(o) = dres.
        matmulBackward(dinp: acts.dy, dweight: g(p.wo), dout: acts.dres, inp: a.y, weight: w(p.wo),
                       n: n, inC: C, outC: C, accumulateInput: false, precision: precision)
        Profile.time("attention bwd") { attentionBackward(a, acts: acts, b: B, t: T, lengths: acts.lengths) }
        ropeCos.withUnsafeBufferPointer { cs in
            ropeSin.withUnsafeBufferPointer { sn in
                parallelRows(n, cost: C) { r in
                    ropeRotate(acts.dq + r * C, heads: c.nHeads, headDim: c.headDim, pos: r % T,
                               cos: cs.baseAddress!, sin: sn.baseAddress!, inverse: true)
                    ropeRotate(acts.dk + r * KVD, heads: c.nKVHeads, headDim: c.headDim, pos: r % T,
                               cos: cs.baseAddress!, sin: sn.baseAddress!, inverse: true)
                }
            }
        }
        matmulBackward(dinp: acts.dxn, dweight: g(p.wq), dout: acts.dq, inp: a.xn1, weight: w(p.wq),
                       n: n, inC: C, outC: C, accumulateInput: false, precision: precision)
        matmulBackward(dinp: acts.dxn, dweight: g(p.wk), dout: acts.dk, inp: a.xn1, weight: w(p.wk),
                       n: n, inC: C, outC: KVD, precision: precision)
        matmulBackward(dinp: acts.dxn, dweight: g(p.wv), dout: acts.dv, inp: a.xn1, weight: w(p.wv),
                       n: n, inC: C, outC: KVD, precision: precision)
        rmsnormBackward(dinp: acts.dres, dweight: g(p.ln1), dout: acts.dxn, inp: a.xin, weight: w(p.ln1),
                        rstd: a.rstd1, n: n, c: C)
    }
}
