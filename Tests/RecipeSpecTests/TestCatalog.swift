import RecipeSpec

/// Stage kinds for tests, shaped like the real ones (the Stages target registers those).
enum TestCatalog {
    static let catalog = StageCatalog([
        StageSchema(kind: "sft", summary: "Supervised fine-tuning on task demonstrations.", outputs: [.policy], fields: [
            FieldSchema("task", .string, doc: "the task name"),
            FieldSchema("steps", .int, default: .int(100), doc: "optimizer steps"),
            FieldSchema("lr", .double, default: .double(1e-4), doc: "learning rate"),
            FieldSchema("model", .choice(["tiny", "small"]), default: .string("tiny"), doc: "model size"),
        ]),
        StageSchema(kind: "task_preferences", summary: "Preference pairs labelled by the task's gold reward.", outputs: [.preferences], fields: [
            FieldSchema("task", .string, doc: "the task name"),
            FieldSchema("size", .int, default: .int(100), doc: "number of pairs"),
            FieldSchema("policy", .stageRef(accepts: [.policy]), doc: "the policy that samples responses"),
        ]),
        StageSchema(kind: "dpo", summary: "Direct preference optimisation.", outputs: [.policy], fields: [
            FieldSchema("policy", .stageRef(accepts: [.policy]), doc: "the starting policy"),
            FieldSchema("preferences", .stageRef(accepts: [.preferences]), doc: "the preference pairs"),
            FieldSchema("seed", .int, default: .int(0), doc: "random seed"),
            FieldSchema("beta", .double, default: .double(0.1), doc: "KL strength"),
            FieldSchema("tags", .list(.string), optional: true, doc: "free labels"),
        ]),
        StageSchema(kind: "ppo", summary: "Proximal policy optimisation.", outputs: [.policy], fields: [
            FieldSchema("policy", .stageRef(accepts: [.policy]), doc: "the starting policy"),
            FieldSchema("preferences", .stageRef(accepts: [.preferences]), doc: "the preference pairs"),
            FieldSchema("seed", .int, default: .int(0), doc: "random seed"),
            FieldSchema("beta", .double, default: .double(0.05), doc: "KL strength"),
            FieldSchema("tags", .list(.string), optional: true, doc: "free labels"),
        ]),
        StageSchema(kind: "gold_reward", summary: "Mean gold reward of a policy's samples.", outputs: [.evaluation], fields: [
            FieldSchema("policy", .stageRef(accepts: []), doc: "the policy to evaluate"),
            FieldSchema("task", .string, doc: "the task name"),
            FieldSchema("samples", .int, default: .int(16), doc: "samples per prompt"),
            FieldSchema("greedy", .bool, default: .bool(false), doc: "greedy decoding"),
        ]),
        StageSchema(kind: "ensemble", summary: "Averages several policies' evaluations.", fields: [
            FieldSchema("policies", .list(.stageRef(accepts: [])), doc: "the stages to average"),
            FieldSchema("options", .any, optional: true, doc: "free-form options"),
        ]),
    ])

    static var loader: RecipeLoader { RecipeLoader(catalog: catalog) }
}
