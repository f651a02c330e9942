import Tensor
import Randomness

/// Low-rank adapters (LoRA, Hu et al. 2021) on a model's block matrices: W_eff = W + (alpha / rank) B A,
/// A (rank, in), B (out, rank). Only A and B train; the base weights stay as loaded.
public struct LoRAConfig: Codable, Sendable, Equatable {
    /// Rank r of each adapter.
    public var rank: Int
    /// Scale numerator: the update is (alpha / rank) B A.
    public var alpha: Float
    /// Which block matrices get adapters, by their Hugging Face short names.
    public var targets: [String]

    /// The matrices adapted when a config names none (the LoRA paper's choice).
    public static let defaultTargets = ["q_proj", "v_proj"]

    /// Every matrix of a block.
    public static let allTargets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

    public init(rank: Int, alpha: Float, targets: [String] = LoRAConfig.defaultTargets) {
        self.rank = rank
        self.alpha = alpha
        self.targets = targets
    }

    /// The LoRA scale alpha / rank.
    public var scale: Float { alpha / Float(rank) }

    private enum CodingKeys: String, CodingKey { case rank, alpha, targets }

    /// `rank` is required; `alpha` defaults to the rank (scale 1), `targets` to q_proj and v_proj.
    /// A non-positive rank or alpha, or an unknown target, is refused with the known names.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rank = try c.decode(Int.self, forKey: .rank)
        alpha = try c.decodeIfPresent(Float.self, forKey: .alpha) ?? Float(rank)
        targets = try c.decodeIfPresent([String].self, forKey: .targets) ?? Self.defaultTargets
        func refuse(_ key: CodingKeys, _ message: String) -> DecodingError {
            .dataCorruptedError(forKey: key, in: c, debugDescription: message)
        }
        guard rank > 0 else { throw refuse(.rank, "LoRA rank must be positive, got \(rank)") }
        guard alpha > 0 else { throw refuse(.alpha, "LoRA alpha must be positive, got \(alpha)") }
        guard !targets.isEmpty else { throw refuse(.targets, "LoRA needs at least one target matrix") }
        if let bad = targets.first(where: { !Self.allTargets.contains($0) }) {
            throw refuse(.targets, "unknown LoRA target '\(bad)'; known: \(Self.allTargets.joined(separator: ", "))")
        }
    }
}

/// One adapter: its two trainable factors and the buffers standing in for the base matrix in passes.
final class LoRAAdapter {
    let base: Parameter   // the frozen matrix (out, in)
    let a: Parameter      // (rank, in)
    let b: Parameter      // (out, rank)
    let scale: Float
    let effective: UnsafeMutablePointer<Float>  // (out, in) W + scale B A, refreshed before each forward
    let effGrad: UnsafeMutablePointer<Float>    // (out, in) gradient w.r.t. the effective matrix

    init(base: Parameter, a: Parameter, b: Parameter, scale: Float) {
        self.base = base
        self.a = a
        self.b = b
        self.scale = scale
        effective = allocateAligned(base.count)
        effGrad = allocateAligned(base.count)
        effGrad.initialize(repeating: 0, count: base.count)
    }

    deinit { effective.deallocate(); effGrad.deallocate() }

    var outC: Int { base.shape[0] }
    var inC: Int { base.shape[1] }
    var rank: Int { a.shape[0] }

    /// effective = W + scale B A.
    func refresh() {
        effective.update(from: base.value.baseAddress!, count: base.count)
        gemm(transA: false, transB: false, m: outC, n: inC, k: rank, alpha: scale, b.value.baseAddress!, lda: rank,
             a.value.baseAddress!, ldb: inC, beta: 1, effective, ldc: inC)
    }

    /// dA += scale B^T dW_eff, dB += scale dW_eff A^T; then clears dW_eff (it is consumed once per backward).
    func foldGradient() {
        gemm(transA: true, transB: false, m: rank, n: inC, k: outC, alpha: scale, b.value.baseAddress!, lda: rank,
             effGrad, ldb: inC, beta: 1, a.grad.baseAddress!, ldc: inC)
        gemm(transA: false, transB: true, m: outC, n: rank, k: inC, alpha: scale, effGrad, lda: inC,
             a.value.baseAddress!, ldb: inC, beta: 1, b.grad.baseAddress!, ldc: rank)
        effGrad.update(repeating: 0, count: base.count)
    }
}

extension LlamaModel {
    /// Adds adapters to every block's `config.targets` matrices: A ~ N(0, 1/in) from `seed`, B = 0, so the
    /// model's outputs are unchanged until B trains. Names follow PEFT: `<matrix>.lora_A.weight`, `.lora_B.weight`.
    public func attachLoRA(_ lora: LoRAConfig, seed: UInt64) {
        precondition(adapters.isEmpty, "attachLoRA: adapters are already attached (mergeLoRA first)")
        precondition(lora.rank > 0, "attachLoRA: rank must be positive")
        let unknown = Set(lora.targets).subtracting(LoRAConfig.allTargets)
        precondition(unknown.isEmpty, "attachLoRA: unknown targets \(unknown.sorted()); known: \(LoRAConfig.allTargets)")
        var specs: [(name: String, shape: [Int])] = []
        var bases: [Parameter] = []
        for p in layers {
            let byShort = ["q_proj": p.wq, "k_proj": p.wk, "v_proj": p.wv, "o_proj": p.wo,
                           "gate_proj": p.wg, "up_proj": p.wu, "down_proj": p.wd]
            for t in LoRAConfig.allTargets where lora.targets.contains(t) {
                let base = byShort[t]!, name = base.name.replacingOccurrences(of: ".weight", with: "")
                specs.append((name + ".lora_A.weight", [lora.rank, base.shape[1]]))
                specs.append((name + ".lora_B.weight", [base.shape[0], lora.rank]))
                bases.append(base)
            }
        }
        let params = Parameter.allocate(specs)
        var rng = SeededRandom(seed: seed)
        for (i, base) in bases.enumerated() {
            let a = params[2 * i], b = params[2 * i + 1]
            let std = 1 / Float(base.shape[1]).squareRoot()
            for j in 0..<a.count { a.value[j] = std * rng.nextGaussian() }
            adapters[ObjectIdentifier(base)] = LoRAAdapter(base: base, a: a, b: b, scale: lora.scale)
        }
        loraParameters = params
    }

    /// W += scale B A for every adapter, then removes the adapters: the model is a plain model again.
    public func mergeLoRA() {
        for adapter in adapters.values {
            adapter.refresh()
            adapter.base.value.baseAddress!.update(from: adapter.effective, count: adapter.base.count)
        }
        adapters = [:]
        loraParameters = []
    }

    /// Recomputes each adapted matrix before a pass reads it (the factors may have changed since).
    func refreshLoRA() {
        for adapter in adapters.values { adapter.refresh() }
    }

    /// Turns the gradients of the effective matrices into the factors' gradients.
    func foldLoRAGradients() {
        for adapter in adapters.values { adapter.foldGradient() }
    }
}
