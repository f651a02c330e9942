import Tensor
import Randomness

/// The weights of one transformer block (Hugging Face names in comments).
struct LayerParams {
    let ln1: Parameter  // input_layernorm.weight (C)
    let wq: Parameter   // self_attn.q_proj.weight (C, C)
    let wk: Parameter   // self_attn.k_proj.weight (KVD, C)
    let wv: Parameter   // self_attn.v_proj.weight (KVD, C)
    let wo: Parameter   // self_attn.o_proj.weight (C, C)
    let ln2: Parameter  // post_attention_layernorm.weight (C)
    let wg: Parameter   // mlp.gate_proj.weight (Hd, C)
    let wu: Parameter   // mlp.up_proj.weight (Hd, C)
    let wd: Parameter   // mlp.down_proj.weight (C, Hd)
}

/// A Llama-layout decoder-only transformer with an LM or scalar head, hand-written backward.
public final class LlamaModel {
    public let config: LlamaConfig
    public let head: HeadKind
    /// Every weight tensor, Hugging Face LlamaForCausalLM names, one arena for values and, when the model
    /// is trainable, one for gradients.
    public private(set) var parameters: [Parameter]

    let embed: Parameter          // model.embed_tokens.weight (V, C)
    let layers: [LayerParams]
    let normF: Parameter          // model.norm.weight (C)
    let lmHead: Parameter?        // lm_head.weight (V, C); nil when tied or scalar head
    let scoreW: Parameter?        // score.weight (1, C)
    let scoreB: Parameter?        // score.bias (1)
    let ropeCos: [Float]          // (maxSeqLen, headDim/2)
    let ropeSin: [Float]          // (maxSeqLen, headDim/2)

    /// Activations kept for backward, and a separate single-layer set for gradient-free forwards.
    var trainActs: Activations?
    var inferActs: Activations?
    /// Decode-step weights in CKernels' panels, repacked by every `generate` call; the allocation is kept
    /// because faulting in fresh pages for it (120 MB at d512) cost ~40 ms per call.
    var decodePanels: DecodeWeights?
    /// The last `generate` call's KV cache, reused by later calls it is large enough for: a fresh one
    /// (100 MB for the d512 benchmark) cost ~25 ms of page faults per call.
    var keptCache: KVCache?

    /// LoRA adapters by the identity of the block matrix they adapt (see LoRA.swift); usually empty.
    var adapters: [ObjectIdentifier: LoRAAdapter] = [:]
    /// The adapters' trainable factors (give these, not `parameters`, to the optimiser); empty without LoRA.
    public internal(set) var loraParameters: [Parameter] = []

    /// Activation recomputation: a kept forward keeps only each block's input, and backward recomputes a
    /// block's forward before differentiating it (one more block forward per block but the last, ~30 %
    /// more work for a training step). The recomputed activations are the forward's bit for bit, so the
    /// gradients are too (LlamaTests.RecomputeTests); only memory changes.
    public var recompute = false

    /// Number format of the block and LM-head matrix products (attention's small per-head products and
    /// everything else stay Float32, as do weights, gradients and optimiser state). Set by `usePrecision`.
    public private(set) var precision: Precision = .fp32

    /// Runs this model's products in `precision` from now on. Throws `LlamaError.precisionUnavailable`
    /// where the CPU cannot (bf16 without any bf16 kernel: neither AVX-512 BF16 nor AVX2): bf16 never silently
    /// falls back to fp32.
    public func usePrecision(_ precision: Precision) throws {
        if precision == .bf16, let reason = BF16Kernels.unavailableReason { throw LlamaError.precisionUnavailable(reason) }
        self.precision = precision
    }

    /// Largest LM-head logits buffer, bytes: longer batches compute logits in chunks of rows (and a
    /// training backward recomputes them), so (B*T, V) floats are never held at once.
    public var logitsBudgetBytes = 256 << 20

    /// Largest logits tile of a gradient-free forward, and of a training forward and backward under
    /// `recompute` (which then keeps no logits at all; see `HeadPlan`), in tiles of multiples of 64 rows: 16 MiB
    /// is 64 rows of SmolLM2's 49,152-token vocabulary, and 512 rows (the old chunk) up to a vocabulary of 8,192.
    public var headTileBytes = 16 << 20

    /// Builds a model with weights drawn from `seed`: matrices N(0, 0.02), norms 1, biases 0; with a nil
    /// seed every weight is zero, for a model whose weights are loaded or copied next (drawing SmolLM2's
    /// 135 M Gaussians only to overwrite them took ~4 s of each load).
    /// A model that is not `trainable` holds no gradients (forward passes and generation only) until
    /// `makeTrainable()`. The configuration must be valid (see `LlamaConfig.validate()`).
    public init(config: LlamaConfig, head: HeadKind, seed: UInt64?, trainable: Bool = true) {
        precondition(config.problems.isEmpty, "LlamaModel: " + config.problems.joined(separator: "; "))
        self.config = config
        self.head = head
        let params = Parameter.allocate(LlamaModel.parameterSpecs(config: config, head: head), gradients: trainable)
        parameters = params
        var byName: [String: Parameter] = [:]
        for p in params { byName[p.name] = p }
        embed = byName["model.embed_tokens.weight"]!
        layers = (0..<config.nLayers).map { l in
            let pre = "model.layers.\(l)."
            return LayerParams(ln1: byName[pre + "input_layernorm.weight"]!,
                               wq: byName[pre + "self_attn.q_proj.weight"]!, wk: byName[pre + "self_attn.k_proj.weight"]!,
                               wv: byName[pre + "self_attn.v_proj.weight"]!, wo: byName[pre + "self_attn.o_proj.weight"]!,
                               ln2: byName[pre + "post_attention_layernorm.weight"]!,
                               wg: byName[pre + "mlp.gate_proj.weight"]!, wu: byName[pre + "mlp.up_proj.weight"]!,
                               wd: byName[pre + "mlp.down_proj.weight"]!)
        }
        normF = byName["model.norm.weight"]!
        lmHead = byName["lm_head.weight"]
        scoreW = byName["score.weight"]
        scoreB = byName["score.bias"]
        (ropeCos, ropeSin) = ropeTables(maxSeqLen: config.maxSeqLen, headDim: config.headDim, base: config.ropeBase)
        guard let seed else { return }  // the arena starts zeroed
        var rng = SeededRandom(seed: seed)
        for p in params { LlamaModel.initialise(p, rng: &rng) }
    }

    /// Deep copy: same config, head and weights; no activations; gradients (zero) only when `trainable`
    /// (the default copy is a frozen reference); same precision.
    public func copy(trainable: Bool = false) -> LlamaModel {
        let m = LlamaModel(config: config, head: head, seed: nil, trainable: trainable)
        for (dst, src) in zip(m.parameters, parameters) { _ = dst.value.update(fromContentsOf: src.value) }
        m.precision = precision
        return m
    }

    /// Copies the transformer body of `other` and draws a fresh head from `seed`;
    /// with `head == other.head`, copies every weight (e.g. a value model from a reward model). Keeps its precision.
    public convenience init(bodyOf other: LlamaModel, head: HeadKind, seed: UInt64) {
        self.init(config: other.config, head: head, seed: seed)
        precision = other.precision
        var src: [String: Parameter] = [:]
        for p in other.parameters { src[p.name] = p }
        for p in parameters where head == other.head || p.name.hasPrefix("model.") {
            if let s = src[p.name] { _ = p.value.update(fromContentsOf: s.value) }
        }
    }

    /// Bytes of the activation arenas this model holds (they grow to the largest batch seen).
    public var activationBytes: Int { (trainActs?.bytes ?? 0) + (inferActs?.bytes ?? 0) }

    /// Bytes of the parameter arenas: values, plus gradients when trainable.
    public var parameterBytes: Int {
        (parameters + loraParameters).reduce(0) { $0 + $1.count * ($1.hasGradient ? 8 : 4) }
    }

    /// Sets every gradient to zero (a frozen model has none).
    public func zeroGradients() {
        parameters.first?.arena.grads?.update(repeating: 0)
        loraParameters.first?.arena.grads?.update(repeating: 0)
    }

    /// True when the model holds gradients, so `backward…` may run.
    public var isTrainable: Bool { parameters.first?.hasGradient ?? false }

    /// Allocates the gradients (zero) of a frozen model, as a trainer does before its first step; a
    /// trainable model is left as it is.
    public func makeTrainable() { parameters.first?.arena.enableGradients() }

    /// Names and shapes of the parameters for `config` and `head`, in storage order.
    public static func parameterSpecs(config c: LlamaConfig, head: HeadKind) -> [(name: String, shape: [Int])] {
        var s: [(name: String, shape: [Int])] = [("model.embed_tokens.weight", [c.vocabSize, c.dModel])]
        for l in 0..<c.nLayers {
            let pre = "model.layers.\(l)."
            s += [(pre + "input_layernorm.weight", [c.dModel]),
                  (pre + "self_attn.q_proj.weight", [c.dModel, c.dModel]),
                  (pre + "self_attn.k_proj.weight", [c.kvDim, c.dModel]),
                  (pre + "self_attn.v_proj.weight", [c.kvDim, c.dModel]),
                  (pre + "self_attn.o_proj.weight", [c.dModel, c.dModel]),
                  (pre + "post_attention_layernorm.weight", [c.dModel]),
                  (pre + "mlp.gate_proj.weight", [c.hidden, c.dModel]),
                  (pre + "mlp.up_proj.weight", [c.hidden, c.dModel]),
                  (pre + "mlp.down_proj.weight", [c.dModel, c.hidden])]
        }
        s.append(("model.norm.weight", [c.dModel]))
        switch head {
        case .lm: if !c.tiedEmbeddings { s.append(("lm_head.weight", [c.vocabSize, c.dModel])) }
        case .scalar: s += [("score.weight", [1, c.dModel]), ("score.bias", [1])]
        }
        return s
    }

    private static func initialise(_ p: Parameter, rng: inout SeededRandom) {
        if p.name.hasSuffix("norm.weight") {
            p.value.update(repeating: 1)
        } else if p.name == "score.bias" {
            p.value.update(repeating: 0)
        } else {
            for i in 0..<p.count { p.value[i] = 0.02 * rng.nextGaussian() }
        }
    }

    /// Pointer to a parameter's values (for an adapted matrix, W + scale B A as of the last forward).
    @inline(__always) func w(_ p: Parameter) -> UnsafeMutablePointer<Float> {
        if !adapters.isEmpty, let a = adapters[ObjectIdentifier(p)] { return a.effective }
        return p.value.baseAddress!
    }
    /// Pointer to a parameter's gradient (for an adapted matrix, that of the effective matrix).
    @inline(__always) func g(_ p: Parameter) -> UnsafeMutablePointer<Float> {
        if !adapters.isEmpty, let a = adapters[ObjectIdentifier(p)] { return a.effGrad }
        return p.grad.baseAddress!
    }
    /// The matrix used by the LM head: lm_head.weight, or the embedding when tied.
    var outputMatrix: Parameter { lmHead ?? embed }
}
