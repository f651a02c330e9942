import RecipeSpec

/// Contrastive Distillation's two scoring models, as stage fields of every kind that computes R*.
///
/// Other tasks are built from their name alone; this one's R* is the mean log-likelihood of a
/// response under `scorer_large` minus under `scorer_small` (two policies trained on the same
/// corpus, e.g. `sft` stages of different sizes over one `tokenizer` stage).
public enum ScorerFields {
    public static let fields = [
        FieldSchema("scorer_large", .stageRef(accepts: [.policy]), optional: true,
                    doc: "Contrastive Distillation only: the larger scoring model of R*."),
        FieldSchema("scorer_small", .stageRef(accepts: [.policy]), optional: true,
                    doc: "Contrastive Distillation only: the smaller scoring model of R*."),
        FieldSchema("gold_reward_model", .stageRef(accepts: [.rewardModel]), optional: true,
                    doc: "Task reward_model_gold only: the reward model that is R* (D2PO's realistic setting)."),
        FieldSchema("gold_prompts", .stageRef(accepts: [.prompts]), optional: true,
                    doc: "Task reward_model_gold only: the real prompts (one in ten held out by hash)."),
    ]

    /// The tasks whose R* is built from the stage's inputs, and the fields each needs.
    static let needs: [String: [String]] = [
        "contrastive_distillation": ["scorer_large", "scorer_small"],
        "reward_model_gold": ["gold_reward_model", "gold_prompts"],
    ]

    /// A task named here needs its fields; no task takes another's (the kinds with these fields check it).
    public static let check: @Sendable (ResolvedStage) -> [StageProblem] = { problems($0, needs: needs) }

    /// `task_prompts`: only the prompts of reward_model_gold come from inputs (Contrastive Distillation's
    /// prompts are its corpus; its scorers are not needed to draw them).
    public static let promptsCheck: @Sendable (ResolvedStage) -> [StageProblem] = {
        problems($0, needs: needs.filter { $0.key == "reward_model_gold" })
    }

    static func problems(_ stage: ResolvedStage, needs: [String: [String]]) -> [StageProblem] {
        guard let task = stage.config["task"]?.string else { return [] }
        let set = fields.map(\.name).filter { stage.config[$0].map { !$0.value.isNull } ?? false }
        let wanted = needs[task] ?? []
        if let missing = wanted.first(where: { !set.contains($0) }) {
            return [StageProblem(key: "task", "task '\(task)' needs " + wanted.map { "'\($0)'" }.joined(separator: " and ")
                + (task == "contrastive_distillation" ? " (two policies trained on the same corpus) to compute its reward"
                    : " (a reward_model stage and a prompt set) to compute its reward") + "; '\(missing)' is not set")]
        }
        if let field = set.first(where: { !wanted.contains($0) }) {
            let owner = Self.needs.first { $0.value.contains(field) }?.key ?? "?"
            return [StageProblem(key: field, "'\(field)' is only used by task '\(owner)', not '\(task)'")]
        }
        return []
    }
}

/// Optional measurement of judges' accuracy on the rollouts of online training (D2PO Figs 5, 6).
///
/// Both fields have no default, so a stage that does not probe keeps its node hash.
public enum ProbeFields {
    public static let fields = [
        FieldSchema("probe_every", .int, optional: true,
                    doc: "Report judges' accuracy vs R* on each step's rollouts every this many steps (Figs 5, 6); needs 'task'."),
        FieldSchema("probe_reward_model", .stageRef(accepts: [.rewardModel]), optional: true,
                    doc: "A reward model kept frozen and probed as the static RM (default: the stage's own static RM)."),
    ]
}

/// Where `dataset` and `prompt_set` stages find the catalogue, relative to the working directory.
let catalogField = FieldSchema("catalog", .string, default: .string("Recipes/datasets"),
                               doc: "Folder of the dataset catalogue (one YAML entry per dataset, docs/datasets.md).")

/// The node hash also covers the contents of the entry and the files it reads (the kind's fingerprint); this
/// field forces a new node when nothing in those files changed (a loader fix, say).
let revisionField = FieldSchema("revision", .int, default: .int(0),
                                doc: "Bump to recompute the node with unchanged files (the entry's and its data files' contents are already part of the node hash).")

/// Activation recomputation for the embedded trainers (`LlamaModel.recompute`): keeps each block's input
/// instead of all its activations and redoes the block's forward in backward (bit-identical gradients,
/// LlamaTests.RecomputeTests), and streams the LM head in tiles instead of keeping its logits, which with some
/// OpenBLAS cores' kernels (Haswell, Zen) changes last bits (`HeadPlan`). So `true` enters the node hash;
/// absent means false and writing false resolves as absent: nodes hashed before keep their hashes.
public enum RecomputeField {
    public static let field = FieldSchema("recompute", .bool, optional: true, absentMeans: .bool(false),
                                          doc: "true: keep only each block's input and recompute the block in backward, and keep no LM-head logits (less memory, ~30 % more time; last-bit differences with some BLAS kernels, so true enters the node hash; embedded engine).")

    /// `recompute: true` on a delegated stage: its bridge does not map it, and a memory setting silently
    /// dropped would leave a run that does not fit where the recipe says it does.
    static func refused(_ stage: ResolvedStage, engine: String) -> [StageProblem] {
        guard stage.config[field.name]?.value.bool == true else { return [] }
        return [StageProblem(key: field.name, "`recompute` is the embedded engine's activation recomputation; the \(engine) bridge does not map it — drop it or use engine: embedded")]
    }
}

/// The embedded engine's number format for a model's matrix products (the engine's `Precision`): `bf16` runs
/// them with bfloat16 operands and Float32 sums (AMX, AVX-512 BF16, or its arithmetic emulated bit for bit
/// with AVX2 + FMA on CPUs without bf16 instructions), weights,
/// gradients and optimiser state staying Float32. Absent means fp32, and writing `fp32` resolves as absent, so
/// every node hashed before the field existed keeps its hash; only `bf16` enters it. A CPU without any bf16
/// kernel (no AVX2) fails the node at run time (never a silent fp32 run under a bf16 hash). Delegated engines take `engine_args.precision`.
public enum PrecisionField {
    /// The accepted values, the engine's `Precision` cases.
    public static let values = ["fp32", "bf16"]
    public static let field = FieldSchema("precision", .choice(values), optional: true, absentMeans: .string("fp32"),
                                          doc: "Matrix products in fp32 (absent) or bf16 (bfloat16 operands, Float32 sums; AMX or AVX-512 BF16 where present, else the same sums emulated with AVX2).")

    /// Delegated engines set their precision in `engine_args`; the stage field is the embedded engine's.
    public static func refusal(_ stage: ResolvedStage, engine: String) -> [StageProblem] {
        guard stage.config[field.name] != nil else { return [] }
        return [StageProblem(key: field.name, "`precision` sets the embedded engine's products; \(engine) takes `engine_args: {precision: ...}` instead")]
    }
}
