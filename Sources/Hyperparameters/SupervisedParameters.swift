import RecipeSpec

// Each property's doc is its `fields` entry: the one declaration the schema, validation, `preflab stages`
// and the trainer share.

/// SFT settings. Neither paper trains SFT itself (Unpacking starts from Tülu 2 SFT, D2PO from OPT SFT
/// models), so these defaults are PrefLab's choices for small models, not paper values.
public struct SFTParameters: ParameterSet, Equatable {
    public var learningRate: Double = 1e-4
    public var epochs: Int = 2
    public var batchSize: Int = 16
    public var microBatch: Int = 16
    public var warmupFraction: Double = 0.03
    public var maxGradNorm: Double = 1.0
    public var seed: UInt64 = 0

    public init() {}

    public static let fields: [ParameterField<Self>] = [
        .init("learning_rate", \.learningRate, range: .positive, doc: "Peak learning rate (D2PO App. A.1 uses 1e-4 for its small-model initialisations)."),
        .init("epochs", \.epochs, range: .atLeastOne, doc: "Passes over the demonstrations."),
        .init("batch_size", \.batchSize, range: .atLeastOne, doc: "Examples per optimiser step."),
        .init("micro_batch", \.microBatch, range: .atLeastOne, doc: "Examples per forward/backward pass (memory only; gradients are accumulated over the batch)."),
        .init("warmup_fraction", \.warmupFraction, range: .unit, doc: "Fraction of steps with linear warmup (then linear decay to 0)."),
        .init("max_grad_norm", \.maxGradNorm, range: .nonNegative, doc: "Global gradient-norm clip (Unpacking Table 9 value); 0 disables."),
        .init("seed", \.seed, range: .nonNegative, doc: "Seed of the data order."),
    ]
}

/// Reward-model settings; defaults from Unpacking App. F ("Reward model hyperparameters").
public struct RewardModelParameters: ParameterSet, Equatable {
    public var learningRate: Double = 1e-5
    public var floorFraction: Double = 0.1
    public var warmupFraction: Double = 0.03
    public var epochs: Int = 1
    public var batchSize: Int = 512
    public var microBatch: Int = 8
    public var maxGradNorm: Double = 1.0
    public var seed: UInt64 = 0

    public init() {}

    public static let fields: [ParameterField<Self>] = [
        .init("learning_rate", \.learningRate, range: .positive, doc: "Peak learning rate: 1e-5 (App. F)."),
        .init("floor_fraction", \.floorFraction, range: .unit, doc: "Final learning rate as a fraction of the peak: 1e-6 / 1e-5 = 0.1 (App. F)."),
        .init("warmup_fraction", \.warmupFraction, range: .unit, doc: "Warmup over the first 3% of steps (App. F)."),
        .init("epochs", \.epochs, range: .atLeastOne, doc: "One epoch, to avoid overfitting (App. F)."),
        .init("batch_size", \.batchSize, range: .atLeastOne, doc: "Pairs per optimiser step: 512 (App. F)."),
        .init("micro_batch", \.microBatch, range: .atLeastOne, doc: "Pairs per forward/backward pass (memory only)."),
        .init("max_grad_norm", \.maxGradNorm, range: .nonNegative, doc: "Global gradient-norm clip (Unpacking Table 9 value); 0 disables."),
        .init("seed", \.seed, range: .nonNegative, doc: "Seed of the data order."),
    ]
}
