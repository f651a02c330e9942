import RecipeSpec

/// Which preference loss a DPO-family update minimises.
public enum DPOLossKind: String, Sendable, CaseIterable, ParameterChoice {
    /// DPO (Unpacking Eq. 3): −log σ(β·h), h = (log π/π_ref)(y_c) − (log π/π_ref)(y_r).
    case sigmoid
    /// IPO (Azar et al. 2023): (h − 1/(2β))², h on sequence log-ratios.
    case ipo
    /// Conservative DPO: labels flipped with probability ε, −(1−ε) log σ(βh) − ε log σ(−βh).
    case conservative
    /// SimPO (Meng et al. 2024): reference-free, length-normalised, −log σ(β/|y_c| log π(y_c) − β/|y_r| log π(y_r) − γ).
    case simpo
}

/// The DPO-family loss options: one documented switch for every DPO-based trainer.
public struct DPOLossOptions: ParameterSet, Equatable {
    public var kind: DPOLossKind = .sigmoid
    public var beta: Double = 0.1
    public var labelSmoothing: Double = 0.1
    public var simpoGamma: Double = 0.5

    public static let fields: [ParameterField<Self>] = [
        .init("kind", \.kind, doc: "The loss variant; `sigmoid` is DPO as in both papers."),
        .init("beta", \.beta, range: .positive,
              doc: "β: strength of the implicit KL constraint (0.1 for Tülu 2+DPO, which Unpacking App. F.1 follows)."),
        .init("label_smoothing", \.labelSmoothing, range: ValueRange(min: 0, max: 0.5),
              doc: "ε for `conservative`: assumed probability that a label is flipped (cDPO; 0 gives DPO)."),
        .init("simpo_gamma", \.simpoGamma, doc: "γ for `simpo`: target reward margin (SimPO paper range 0.3–1.6; neither PrefLab paper sets it)."),
    ]

    public init() {}

    public init(kind: DPOLossKind = .sigmoid, beta: Double = 0.1, labelSmoothing: Double = 0.1, simpoGamma: Double = 0.5) {
        self.kind = kind
        self.beta = beta
        self.labelSmoothing = labelSmoothing
        self.simpoGamma = simpoGamma
    }
}

/// Low-rank adapters for DPO: the recipe's `lora:` map (the engine's `LoRAConfig` is made from it).
public struct LoRASettings: ParameterSet, Equatable {
    public var rank: Int = 8
    /// nil: the rank (scale 1).
    public var alpha: Double? = nil
    public var targets = LoRATargets(names: LoRATargets.defaults)

    public static let fields: [ParameterField<Self>] = [
        .init("rank", \.rank, range: .atLeastOne, required: true, doc: "Rank r of each adapter."),
        .init("alpha", \.alpha, range: .positive, doc: "Scale numerator: the update is (alpha / rank) B A; default the rank."),
        .init("targets", \.targets, doc: "Which block matrices get adapters, by their Hugging Face short names."),
    ]

    public init() {}

    public init(rank: Int, alpha: Double? = nil, targets: [String] = LoRATargets.defaults) {
        self.rank = rank
        self.alpha = alpha
        self.targets = LoRATargets(names: targets)
    }

    /// The scale numerator in effect.
    public var effectiveAlpha: Double { alpha ?? Double(rank) }
}

/// The block matrices LoRA adapts, by Hugging Face short name (the engine's `LoRAConfig.allTargets`).
public struct LoRATargets: ParameterNames, Equatable {
    public static let known = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    /// The LoRA paper's choice.
    public static let defaults = ["q_proj", "v_proj"]
    public var names: [String]
    public init(names: [String]) { self.names = names }
}

// Each property's doc is its `fields` entry.
/// DPO settings; defaults follow Unpacking App. F.1 (which follows Tülu 2+DPO / Zephyr).
public struct DPOParameters: ParameterSet, Equatable {
    public var loss: DPOLossOptions = DPOLossOptions()
    public var learningRate: Double = 5e-7
    public var epochs: Int = 3
    public var batchSize: Int = 32
    public var microBatch: Int = 8
    public var warmupFraction: Double = 0.1
    public var maxGradNorm: Double = 1.0
    public var seed: UInt64 = 0
    public var lora: LoRASettings? = nil

    public init() {}

    public static let fields: [ParameterField<Self>] = [
        .init("loss", \.loss, doc: "The loss and β (β = 0.1, Tülu 2+DPO; `kind` selects DPO, IPO, conservative DPO or SimPO)."),
        .init("learning_rate", \.learningRate, range: .positive, doc: "Peak learning rate: 5e-7 (App. F.1)."),
        .init("epochs", \.epochs, range: .atLeastOne, doc: "Passes over the preferences: 3 (App. F.1)."),
        .init("batch_size", \.batchSize, range: .atLeastOne, doc: "Pairs per optimiser step: 32 (Tülu 2+DPO effective batch; the paper text does not restate it)."),
        .init("micro_batch", \.microBatch, range: .atLeastOne, doc: "Pairs per forward/backward pass (memory only)."),
        .init("warmup_fraction", \.warmupFraction, range: .unit, doc: "Linear warmup over 10% of steps, then linear cooldown to 0 (App. F.1)."),
        .init("max_grad_norm", \.maxGradNorm, range: .nonNegative, doc: "Global gradient-norm clip (Unpacking Table 9 value); 0 disables."),
        .init("seed", \.seed, range: .nonNegative, doc: "Seed of the data order (and of the LoRA factors' initial A)."),
        .init("lora", \.lora, doc: "{ rank, alpha (default rank), targets (default [q_proj, v_proj]) }: train low-rank adapters, merged into the weights at the end; absent: full fine-tuning (saves optimiser memory, not compute)."),
    ]
}
