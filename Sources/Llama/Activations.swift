import Tensor

/// Pointers to one block's activations inside an `Activations` arena.
struct LayerActs {
    var xin: UnsafeMutablePointer<Float>    // (B, T, C) block input (residual stream)
    var rstd1: UnsafeMutablePointer<Float>  // (B, T)
    var xn1: UnsafeMutablePointer<Float>    // (B, T, C) input_layernorm output
    var q: UnsafeMutablePointer<Float>      // (B, T, C) queries after RoPE
    var k: UnsafeMutablePointer<Float>      // (B, T, KVD) keys after RoPE
    var v: UnsafeMutablePointer<Float>      // (B, T, KVD)
    var att: UnsafeMutablePointer<Float>    // (B, H, T, T) attention probabilities (causal, 0 above diagonal)
    var y: UnsafeMutablePointer<Float>      // (B, T, C) attention output before o_proj
    var x2: UnsafeMutablePointer<Float>     // (B, T, C) residual after attention
    var rstd2: UnsafeMutablePointer<Float>  // (B, T)
    var xn2: UnsafeMutablePointer<Float>    // (B, T, C) post_attention_layernorm output
    var gate: UnsafeMutablePointer<Float>   // (B, T, Hd)
    var up: UnsafeMutablePointer<Float>     // (B, T, Hd)
    var h: UnsafeMutablePointer<Float>      // (B, T, Hd) silu(gate) * up
}

/// How much of a forward an `Activations` arena keeps.
enum ActivationKeeping: Equatable {
    /// One block's buffers, reused by every block: gradient-free passes.
    case inference
    /// Every block's buffers, for backward.
    case full
    /// Every block's input, one block's other buffers (reused), and backward scratch: backward recomputes
    /// each block's forward from its kept input before differentiating it (activation recomputation).
    case recompute
}

/// Activations of one forward, allocated once and grown only when a larger batch arrives (llm.c style).
final class Activations {
    let config: LlamaConfig
    let keeping: ActivationKeeping
    /// Whether backward may run on these activations.
    var full: Bool { keeping != .inference }
    private var arena: UnsafeMutablePointer<Float>
    private var capacity: Int

    private(set) var b = 0, t = 0
    private(set) var scratchWorkers = 1  // workers attScratch was sized for
    var tokens: [Int32] = []          // (B, T) of the last forward
    var lengths: [Int] = []           // (B)
    var layers: [LayerActs] = []      // nLayers entries (all equal when !full)
    var xout: UnsafeMutablePointer<Float>   // (B, T, C) final residual stream
    var rstdF: UnsafeMutablePointer<Float>  // (B, T)
    var xnF: UnsafeMutablePointer<Float>    // (B, T, C) model.norm output
    var logits: UnsafeMutablePointer<Float> // LM head chunk or tile (HeadPlan.bufferFloats): probabilities when headKept
    private(set) var head = HeadPlan()      // how the LM head holds logits for this batch
    var headRows: Int { head.chunkRows }    // rows of logits per LM-head chunk
    var headKept = false                    // logits hold every row's probabilities from the last forward
    var rowMax: UnsafeMutablePointer<Float>     // (B, T) a streamed head's softmax max per row
    var rowInvSum: UnsafeMutablePointer<Float>  // (B, T) and 1 / its sum of exponentials
    // Backward scratch (full only).
    var dres: UnsafeMutablePointer<Float>   // (B, T, C) gradient of the residual stream
    var dxn: UnsafeMutablePointer<Float>    // (B, T, C)
    var dq: UnsafeMutablePointer<Float>     // (B, T, C)
    var dk: UnsafeMutablePointer<Float>     // (B, T, KVD)
    var dv: UnsafeMutablePointer<Float>     // (B, T, KVD)
    var dy: UnsafeMutablePointer<Float>     // (B, T, C)
    var dgate: UnsafeMutablePointer<Float>  // (B, T, Hd)
    var dup: UnsafeMutablePointer<Float>    // (B, T, Hd)
    var dh: UnsafeMutablePointer<Float>     // (B, T, Hd)
    var attScratch: UnsafeMutablePointer<Float>  // (workers, T, T) per-worker attention backward rows
    var blockOut: UnsafeMutablePointer<Float>    // (B, T, C) a recomputed block's output (recompute only)

    init(config: LlamaConfig, keeping: ActivationKeeping) {
        self.config = config
        self.keeping = keeping
        capacity = 1
        arena = allocateAligned(1)
        xout = arena; rstdF = arena; xnF = arena; logits = arena; rowMax = arena; rowInvSum = arena
        dres = arena; dxn = arena; dq = arena; dk = arena; dv = arena; dy = arena
        dgate = arena; dup = arena; dh = arena; attScratch = arena; blockOut = arena
    }

    deinit { arena.deallocate() }

    /// Bytes held by the arena.
    var bytes: Int { capacity * MemoryLayout<Float>.stride }

    /// Floats a (B, T) batch needs, without allocating them (the memory check's estimate is the layout itself).
    func floatsNeeded(b: Int, t: Int, lmHead: Bool, head: HeadPlan) -> Int {
        layout(b: b, t: t, lmHead: lmHead, base: nil, head: head)
    }

    /// Lays out buffers for a (B, T) batch, growing the arena if needed; the head holds every row's logits
    /// unless `head` says otherwise.
    func prepare(b: Int, t: Int, lmHead: Bool, head: HeadPlan? = nil) {
        let n = max(1, b * t), head = head ?? HeadPlan(rows: b * t, chunkRows: n, rowTile: n)
        self.head = head
        headKept = false
        let need = layout(b: b, t: t, lmHead: lmHead, base: nil, head: head)
        if need > capacity {
            arena.deallocate()
            capacity = need
            arena = allocateAligned(need)
        }
        _ = layout(b: b, t: t, lmHead: lmHead, base: arena, head: head)
        self.b = b
        self.t = t
        scratchWorkers = Threads.count
    }

    /// Computes offsets; with a base, also assigns the pointers. Returns the floats needed.
    private func layout(b: Int, t: Int, lmHead: Bool, base: UnsafeMutablePointer<Float>?, head: HeadPlan) -> Int {
        let c = config, n = b * t, C = c.dModel, KVD = c.kvDim, Hd = c.hidden
        var off = 0
        func take(_ count: Int) -> UnsafeMutablePointer<Float> {
            defer { off += (count + 15) / 16 * 16 }  // 64-byte alignment of every buffer
            return (base ?? UnsafeMutablePointer(bitPattern: 64)!) + (base == nil ? 0 : off)
        }
        var ls: [LayerActs] = []
        for _ in 0..<(keeping == .full ? c.nLayers : 1) {
            ls.append(LayerActs(xin: take(n * C), rstd1: take(n), xn1: take(n * C), q: take(n * C),
                                k: take(n * KVD), v: take(n * KVD), att: take(b * c.nHeads * t * t),
                                y: take(n * C), x2: take(n * C), rstd2: take(n), xn2: take(n * C),
                                gate: take(n * Hd), up: take(n * Hd), h: take(n * Hd)))
        }
        // Recompute: the shared block's buffers serve every block, each block's input has its own.
        let inputs = keeping == .recompute ? (1..<c.nLayers).map { _ in take(n * C) } : []
        let xo = take(n * C), rf = take(n), xnf = take(n * C), lg = take(lmHead ? head.bufferFloats(vocab: c.vocabSize) : n)
        let stats = head.streamed ? [take(n), take(n)] : [lg, lg]
        var scratch: [UnsafeMutablePointer<Float>] = []
        if full {
            for size in [n * C, n * C, n * C, n * KVD, n * KVD, n * C, n * Hd, n * Hd, n * Hd, Threads.count * t * t] {
                scratch.append(take(size))
            }
        }
        let out = keeping == .recompute ? take(n * C) : lg
        guard base != nil else { return off }
        switch keeping {
        case .full: layers = ls
        case .inference: layers = Array(repeating: ls[0], count: c.nLayers)
        case .recompute:
            layers = [ls[0]] + inputs.map { var a = ls[0]; a.xin = $0; return a }
            blockOut = out
        }
        xout = xo; rstdF = rf; xnF = xnf; logits = lg; rowMax = stats[0]; rowInvSum = stats[1]
        if full {
            dres = scratch[0]; dxn = scratch[1]; dq = scratch[2]; dk = scratch[3]; dv = scratch[4]
            dy = scratch[5]; dgate = scratch[6]; dup = scratch[7]; dh = scratch[8]
            attScratch = scratch[9]
        }
        return off
    }
}
