import Foundation
import Tensor

/// How the LM head holds logits for one forward (and its backward).
///
/// Streaming (logits never held for a whole chunk) keeps the old path's *chunks* (the rows whose weight
/// gradient one product sums: all rows when they fit `logitsBudgetBytes`) and only tiles what is held at
/// once, in multiples of 64 rows and 64 vocabulary columns, each softmax element computed as before. With
/// the bf16 kernels (CKernels, one fixed order per output) that is the kept path bit for bit. With OpenBLAS
/// it is on some cores' kernels (Prescott, Sandybridge, SkylakeX, Cooperlake) but not on others (Haswell and
/// Zen change last bits: their results depend on a product's row and column counts). Stored Results cite
/// fp32 node hashes whose numbers must not move, so the fp32 head streams only where no stored node can
/// run: under `recompute`, which enters the node hash when true (no checked-in recipe sets it), and in
/// bf16 (no stored node uses it). Everything else keeps the old path unchanged. `LMHeadStreamingTests`.
struct HeadPlan: Equatable {
    /// Rows of the batch (B * T).
    var rows = 0
    /// Rows per chunk of the old path: the weight gradient sums each chunk's rows in one product.
    var chunkRows = 1
    /// Forward keeps every row's probabilities for backward (one chunk, kept forward, not streamed).
    var kept = false
    /// Logits are never held for a whole chunk: row tiles over the whole vocabulary (forward, and the input
    /// gradient in backward), then vocabulary tiles over a whole chunk (the weight gradient).
    var streamed = false
    /// Rows per forward product (and per input-gradient tile when streamed).
    var rowTile = 1
    /// Vocabulary columns per weight-gradient tile when streamed (a multiple of 64, or the whole vocabulary).
    var vocabTile = 64
    /// Log-probs as the kept path computed them (x_t - m - log s) rather than x_t - logsumexp.
    var keptFormula = false

    /// Floats of the logits buffer.
    func bufferFloats(vocab: Int) -> Int { streamed ? max(rowTile * vocab, chunkRows * vocabTile) : rowTile * vocab }
}

extension LlamaModel {
    /// The head's plan for a (B, T) forward: training under `recompute` streams; gradient-free passes of a
    /// bf16 model or one with `recompute` hold at most `headTileBytes`; everything else holds chunks as before.
    func headPlan(b: Int, t: Int, keep: Bool) -> HeadPlan {
        let n = max(1, b * t), V = config.vocabSize
        let budgetRows = max(1, logitsBudgetBytes / (4 * V)), tileRows = max(64, headTileBytes / (4 * V) / 64 * 64)
        var p = HeadPlan(rows: b * t)
        guard keep else {
            // A log-sum-exp needs no keeping; 512-row GEMMs run at full speed.
            p.chunkRows = min(n, budgetRows, 512, recompute || precision == .bf16 ? tileRows : .max)
            p.rowTile = p.chunkRows
            return p
        }
        p.chunkRows = min(n, budgetRows)
        p.keptFormula = p.chunkRows >= n
        guard recompute else {
            p.kept = p.keptFormula
            p.rowTile = p.chunkRows
            return p
        }
        p.streamed = true
        p.rowTile = min(n, tileRows)
        p.vocabTile = min(V, max(64, headTileBytes / (4 * p.chunkRows) / 64 * 64))
        return p
    }

    /// Log-probs of the next tokens of rows [r0, r1), whose logits are in `logits` (rows from r0); keeps the
    /// probabilities in place when the plan keeps them.
    func headLogProbs(_ acts: Activations, _ out: UnsafeMutablePointer<Float>, _ logits: UnsafeMutablePointer<Float>, r0: Int, r1: Int) {
        let T = acts.t, V = config.vocabSize, plan = acts.head
        parallelRows(r1 - r0, cost: V) { i in
            let r = r0 + i, row = logits + i * V
            guard r % T + 1 < acts.lengths[r / T] else { return }
            let target = Int(acts.tokens[r + 1])
            if plan.kept {
                out[r + 1] = softmaxInPlace(row, V, logProbAt: target)
            } else if plan.keptFormula {  // softmaxInPlace's value, the row left as it is
                let m = maxValue(row, V)
                out[r + 1] = row[target] - m - logf(sumExpShift(row, V, shift: m))
            } else {
                out[r + 1] = row[target] - logSumExp(row, V)
            }
        }
    }

    /// Streamed head backward of one chunk [c0, c1): d(xnF) by row tiles, then the output matrix's gradient by
    /// vocabulary tiles, each product and each softmax element computed as the kept path computes it.
    func streamedHeadBackward(_ acts: Activations, _ dLogProbs: [Float], c0: Int, c1: Int) {
        let plan = acts.head, C = config.dModel, V = config.vocabSize, W = w(outputMatrix)
        for a0 in stride(from: c0, to: c1, by: plan.rowTile) {
            let a1 = min(c1, a0 + plan.rowTile)
            matmulForward(acts.logits, acts.xnF + a0 * C, W, n: a1 - a0, inC: C, outC: V, precision: precision)
            parallelRows(a1 - a0, cost: V) { i in
                headRowGradient(acts, dLogProbs, row: acts.logits + i * V, r: a0 + i, v0: 0, width: V)
            }
            matmulBackward(dinp: acts.dxn + a0 * C, dweight: nil, dout: acts.logits, inp: acts.xnF + a0 * C, weight: W,
                           n: a1 - a0, inC: C, outC: V, accumulateInput: false, precision: precision)
        }
        for v0 in stride(from: 0, to: V, by: plan.vocabTile) {
            let width = min(V - v0, plan.vocabTile), rows = c1 - c0
            matmulForward(acts.logits, acts.xnF + c0 * C, W + v0 * C, n: rows, inC: C, outC: width, precision: precision)
            parallelRows(rows, cost: width) { i in
                headRowGradient(acts, dLogProbs, row: acts.logits + i * width, r: c0 + i, v0: v0, width: width)
            }
            gemm(transA: true, transB: false, m: width, n: C, k: rows, alpha: 1, acts.logits, lda: width,
                 acts.xnF + c0 * C, ldb: C, beta: 1, g(outputMatrix) + v0 * C, ldc: C, precision: precision)
        }
    }

    /// d(logits) of row r over columns [v0, v0 + width), in place over its logits: d * (onehot - p). The whole
    /// row (v0 0, width V) also records the row's max and 1 / sum for the vocabulary tiles that follow.
    private func headRowGradient(_ acts: Activations, _ dLogProbs: [Float], row: UnsafeMutablePointer<Float>, r: Int,
                                 v0: Int, width: Int) {
        let T = acts.t, V = config.vocabSize
        guard r % T + 1 < acts.lengths[r / T] else {
            row.update(repeating: 0, count: width)
            return
        }
        if width == V {
            acts.rowMax[r] = maxValue(row, V)
            acts.rowInvSum[r] = 1 / expShiftInPlace(row, V, shift: acts.rowMax[r])
        } else {  // exp8 on the columns softmaxInPlace's vector loop covers, expf on its scalar tail
            let vectorEnd = min(width, max(0, V / 8 * 8 - v0))
            _ = expShiftInPlace(row, vectorEnd / 8 * 8, shift: acts.rowMax[r])
            for j in vectorEnd / 8 * 8..<width { row[j] = expf(row[j] - acts.rowMax[r]) }
        }
        let d = dLogProbs[r + 1]
        scale(row, width, by: acts.rowInvSum[r])
        scale(row, width, by: -d)
        let target = Int(acts.tokens[r + 1]) - v0
        if target >= 0 && target < width { row[target] += d }
    }
}
