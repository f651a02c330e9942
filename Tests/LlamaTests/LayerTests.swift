import XCTest
import Tensor
@testable import Llama
import Randomness

final class LayerTests: XCTestCase {
    /// Causal grouped-query attention backward vs finite differences, with padded rows.
    func testAttentionBackward() throws {
        let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 1)
        let batch = tinyBatch(), B = batch.batchSize, T = batch.seqLen, C = 16, KVD = 8
        let acts = Activations(config: model.config, keeping: .full)
        acts.prepare(b: B, t: T, lmHead: true)
        let a = acts.layers[0]
        var rng = SeededRandom(seed: 2)
        var q = (0..<B * T * C).map { _ in rng.nextGaussian() }
        var k = (0..<B * T * KVD).map { _ in rng.nextGaussian() }
        var v = (0..<B * T * KVD).map { _ in rng.nextGaussian() }
        var r = (0..<B * T * C).map { _ in rng.nextGaussian() }
        for row in 0..<(B * T) where row % T >= batch.lengths[row / T] {  // padded rows carry no loss
            for j in 0..<C { r[row * C + j] = 0 }
        }
        func loss(_ q: [Float], _ k: [Float], _ v: [Float]) -> Double {
            a.q.update(from: q, count: q.count); a.k.update(from: k, count: k.count); a.v.update(from: v, count: v.count)
            model.attentionForward(a, b: B, t: T, lengths: batch.lengths)
            return (0..<(B * T * C)).reduce(0.0) { $0 + Double(a.y[$1]) * Double(r[$1]) }
        }
        _ = loss(q, k, v)
        acts.dy.update(from: r, count: r.count)
        model.attentionBackward(a, acts: acts, b: B, t: T, lengths: batch.lengths)
        let dq = Array(UnsafeBufferPointer(start: acts.dq, count: q.count))
        let dk = Array(UnsafeBufferPointer(start: acts.dk, count: k.count))
        let dv = Array(UnsafeBufferPointer(start: acts.dv, count: v.count))
        let q0 = q, k0 = k, v0 = v
        fd(&q, dq, "dq") { loss($0, k0, v0) }
        fd(&k, dk, "dk") { loss(q0, $0, v0) }
        fd(&v, dv, "dv") { loss(q0, k0, $0) }
    }

    func fd(_ x: inout [Float], _ analytic: [Float], _ what: String, loss: ([Float]) -> Double) {
        let h: Float = 1e-2
        for i in x.indices {
            let saved = x[i]
            x[i] = saved + h
            let up = loss(x)
            x[i] = saved - h
            let down = loss(x)
            x[i] = saved
            let fd = (up - down) / (2 * Double(h))
            XCTAssertEqual(Double(analytic[i]), fd, accuracy: 2e-3 * max(1, abs(fd)), "\(what)[\(i)]")
        }
    }

    /// A small model fits ten fixed sequences to near-zero loss (Adam written out here: Optim is another target).
    func testOverfitsTenSequences() throws {
        let config = LlamaConfig(vocabSize: 23, dModel: 24, nLayers: 2, nHeads: 4, nKVHeads: 2, hidden: 48, maxSeqLen: 16)
        let model = LlamaModel(config: config, head: .lm, seed: 11)
        var rng = SeededRandom(seed: 12)
        let seqs: [[Int32]] = (0..<10).map { i in (0..<(6 + i % 5)).map { _ in Int32(rng.nextInt(23)) } }
        let batch = TokenBatch(sequences: seqs, pad: 0)
        let counted = seqs.reduce(0) { $0 + $1.count - 1 }
        var dLP = [Float](repeating: 0, count: batch.batchSize * batch.seqLen)
        for b in 0..<10 { for t in 1..<seqs[b].count { dLP[b * batch.seqLen + t] = -1 / Float(counted) } }
        // Adam by hand (Optim is another target): enough to show the whole backward drives loss to zero.
        var m = [Float](repeating: 0, count: model.parameters.reduce(0) { $0 + $1.count }), v = m
        var loss: Float = 0, first: Float = 0
        for step in 1...60 {
            model.zeroGradients()
            let lp = model.tokenLogProbs(batch, keepActivations: true)
            loss = -lp.reduce(0, +) / Float(counted)
            if step == 1 { first = loss }
            try model.backwardTokenLogProbs(dLP)
            let vals = model.parameters[0].arena.values, grads = model.parameters[0].arena.grads!
            for j in 0..<m.count {
                m[j] = 0.9 * m[j] + 0.1 * grads[j]
                v[j] = 0.99 * v[j] + 0.01 * grads[j] * grads[j]
                let mh = m[j] / (1 - pow(0.9, Float(step))), vh = v[j] / (1 - pow(0.99, Float(step)))
                vals[j] -= 2e-2 * mh / (vh.squareRoot() + 1e-8)
            }
        }
        XCTAssertGreaterThan(first, 2.5)  // about log(23) at initialisation
        print("overfit loss", first, "->", loss)
        XCTAssertLessThan(loss, 0.02)
    }
}

/// Blocked-GEMM attention against a row-by-row reference on sequences longer than one block.
final class LongAttentionTests: XCTestCase {
    func testBlockedAttentionMatchesRowwiseReference() throws {
        let config = LlamaConfig(vocabSize: 5, dModel: 16, nLayers: 1, nHeads: 4, nKVHeads: 2, hidden: 8, maxSeqLen: 200)
        let model = LlamaModel(config: config, head: .lm, seed: 1)
        let B = 2, T = 150, C = 16, KVD = 8, H = 4, hd = 4, lengths = [150, 97]
        let acts = Activations(config: config, keeping: .full)
        acts.prepare(b: B, t: T, lmHead: true)
        let a = acts.layers[0]
        var rng = SeededRandom(seed: 3)
        for i in 0..<(B * T * C) { a.q[i] = rng.nextGaussian(); acts.dy[i] = rng.nextGaussian() }
        for i in 0..<(B * T * KVD) { a.k[i] = rng.nextGaussian(); a.v[i] = rng.nextGaussian() }
        model.attentionForward(a, b: B, t: T, lengths: lengths)
        model.attentionBackward(a, acts: acts, b: B, t: T, lengths: lengths)
        var refY = [Float](repeating: 0, count: B * T * C), refDq = refY
        var refDk = [Float](repeating: 0, count: B * T * KVD), refDv = refDk
        var att = [Float](repeating: 0, count: T), dAtt = att
        let scale = 1 / Float(hd).squareRoot()
        for b in 0..<B {
            for h in 0..<H {
                let g = h / 2
                for i in 0..<lengths[b] {
                    let qi = a.q + (b * T + i) * C + h * hd, dyi = acts.dy + (b * T + i) * C + h * hd
                    func kRow(_ j: Int) -> UnsafeMutablePointer<Float> { a.k + (b * T + j) * KVD + g * hd }
                    func vRow(_ j: Int) -> UnsafeMutablePointer<Float> { a.v + (b * T + j) * KVD + g * hd }
                    for j in 0...i { att[j] = dot(qi, kRow(j), hd) * scale }
                    att.withUnsafeMutableBufferPointer { softmaxInPlace($0.baseAddress!, i + 1) }
                    var s: Float = 0
                    for j in 0...i {
                        for d in 0..<hd { refY[(b * T + i) * C + h * hd + d] += att[j] * vRow(j)[d] }
                        dAtt[j] = dot(dyi, vRow(j), hd)
                        s += att[j] * dAtt[j]
                        for d in 0..<hd { refDv[(b * T + j) * KVD + g * hd + d] += att[j] * dyi[d] }
                    }
                    for j in 0...i {
                        let ds = att[j] * (dAtt[j] - s) * scale
                        for d in 0..<hd {
                            refDq[(b * T + i) * C + h * hd + d] += ds * kRow(j)[d]
                            refDk[(b * T + j) * KVD + g * hd + d] += ds * qi[d]
                        }
                    }
                }
            }
        }
        func maxDiff(_ p: UnsafeMutablePointer<Float>, _ r: [Float]) -> Float {
            r.indices.reduce(0) { max($0, abs(p[$1] - r[$1])) }
        }
        XCTAssertLessThan(maxDiff(a.y, refY), 1e-5)
        XCTAssertLessThan(maxDiff(acts.dq, refDq), 1e-4)
        XCTAssertLessThan(maxDiff(acts.dk, refDk), 1e-4)
        XCTAssertLessThan(maxDiff(acts.dv, refDv), 1e-4)
        XCTAssertGreaterThan(refDk.map(abs).max()!, 0.1)
    }
}
