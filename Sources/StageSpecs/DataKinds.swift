import Hyperparameters
import DataSpecs
import RecipeSpec

// Kinds that make preference pairs and prompt sets.
extension StageSpecs {
    /// `task_preferences`: pairs sampled from a policy on a task's train prompts, labelled by an annotator.
    ///
    /// Two samples per prompt from the policy (the D2PO paper's offline data comes from the initial
    /// policy); pairs whose gold rewards tie are dropped when `drop_ties` is set, since they carry no label.
    public static let taskPreferences = StageSpec(StageSchema(
        kind: "task_preferences", summary: "Preference pairs sampled from a policy and labelled by an annotator.",
        codeVersion: 1, outputs: [.preferences], engines: VLLMChecks.generating,
        check: ScorerFields.check,
        fields: [
            FieldSchema("policy", .stageRef(accepts: [.policy]), doc: "Policy whose samples are compared."),
            FieldSchema("task", .string, doc: "Gold task: prompts and R*."),
            FieldSchema("size", .int, default: .int(1000), doc: "Training pairs to produce."),
            FieldSchema("held_out", .int, default: .int(200), doc: "Held-out pairs (from held-out prompts) for accuracy."),
            FieldSchema("annotator", .choice(["gold", "noisy"]), default: .string("gold"),
                        doc: "Who labels: the task's gold annotator, or a simulated noisy one."),
            FieldSchema("noise", .double, default: .double(0), doc: "Noisy annotator: probability of flipping a label."),
            FieldSchema("length_bias", .double, default: .double(0),
                        doc: "Noisy annotator: probability of preferring the longer response outright."),
            FieldSchema("drop_ties", .bool, default: .bool(true), doc: "Drop pairs whose gold rewards are equal."),
            FieldSchema("temperature", .double, default: .double(1.0), doc: "Sampling temperature."),
            FieldSchema("top_p", .double, default: .double(1.0), doc: "Nucleus mass for sampling."),
            FieldSchema("max_new_tokens", .int, default: .int(48), doc: "Longest sampled response in tokens."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of prompts, samples and annotator noise."),
        ] + ScorerFields.fields),
        layout: .preferences, fingerprint: nil)

    /// `task_prompts`: prompts of a task for policy training.
    public static let taskPrompts = StageSpec(StageSchema(
        kind: "task_prompts", summary: "Prompts drawn from a gold task, for online training.", codeVersion: 1, outputs: [.prompts],
        check: ScorerFields.promptsCheck,
        fields: [
            FieldSchema("task", .string, doc: "Gold task."),
            FieldSchema("size", .int, default: .int(1024), doc: "Number of prompts."),
            FieldSchema("split", .choice(["train", "held_out"]), default: .string("train"), doc: "Which prompt pool."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of the draw."),
            FieldSchema("categories", .list(.string), optional: true,
                        doc: "World task only: draw prompts of these categories (targeted prompts, Unpacking §3.4)."),
        ] + ScorerFields.fields.filter { $0.name.hasPrefix("gold_") }),
        layout: .prompts, fingerprint: nil)

    /// `world_preferences`: a preference dataset of the simulated world (docs/world.md), one of the
    /// presets that stand in for the Unpacking paper's datasets, with its size set by the recipe.
    public static let worldPreferences = StageSpec(StageSchema(
        kind: "world_preferences", summary: "A simulated-world preference dataset (stand-in for a paper dataset).",
        codeVersion: 1, outputs: [.preferences],
        fields: [
            FieldSchema("dataset", .choice(WorldDatasetSpec.presets.map(\.name)), doc: "The world preset (docs/world.md)."),
            FieldSchema("size", .int, default: .int(2000), doc: "Training pairs."),
            FieldSchema("held_out", .int, default: .int(200), doc: "Held-out pairs from held-out prompts."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of prompts, responses and labels."),
        ]),
        layout: .preferences, fingerprint: nil)

    /// `dataset`: a preference dataset of the catalogue (Recipes/datasets/NAME.yaml) as pairs for
    /// DPO and reward models — what "add a dataset by config only" plugs into.
    public static let dataset = StageSpec(StageSchema(
        kind: "dataset", summary: "A catalogue preference dataset (Recipes/datasets) as training and held-out pairs.",
        codeVersion: 1, outputs: [.preferences], check: FileChecks.dataset,
        fields: [
            FieldSchema("name", .string, doc: "Catalogue entry (`preflab data inspect NAME` shows it)."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of binarization, downsampling, split and mixing."),
            catalogField, revisionField,
        ]),
        layout: .datasetPreferences, fingerprint: Fingerprints.datasetEntry)

    /// `prompt_set`: policy-training prompts from a catalogue entry, a file, or a weighted mix with a
    /// total size (the Unpacking paper's "mixed prompts", §3.4).
    public static let promptSet = StageSpec(StageSchema(
        kind: "prompt_set", summary: "Prompts from a catalogue entry, a file, or a weighted mix of them.", codeVersion: 1, outputs: [.prompts],
        check: FileChecks.promptSet,
        fields: [
            FieldSchema("dataset", .string, optional: true, doc: "Catalogue entry whose prompts are used."),
            FieldSchema("split", .choice(["train", "held_out"]), optional: true, doc: "For pair entries: which split's prompts."),
            FieldSchema("file", .string, optional: true, doc: "A JSONL (with `field`) or text file of prompts, from the repository root."),
            FieldSchema("allow_outside", .bool, optional: true,
                        doc: "true lets `file` (here and in `mix` parts) resolve (after symbolic links) outside the project and the data root (PREFLAB_DATA_ROOT, else ../shared/data)."),
            FieldSchema("field", .string, optional: true, doc: "JSONL field (dotted path) holding the prompt."),
            FieldSchema("mix", .any, optional: true,
                        doc: "Weighted parts: a list of { weight: W, prompts: { dataset | file | mix, ... } }; needs `size`."),
            FieldSchema("size", .int, optional: true, doc: "Prompts kept (a seeded sample); absent keeps all."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of sampling and mixing."),
            catalogField, revisionField,
        ]),
        layout: .prompts, fingerprint: Fingerprints.promptSet)

    /// `concat`: the union of several preference sets (pairs and held-out pairs) or of several prompt
    /// sets, optionally sampled down to a size — the Unpacking paper's "Mix" reward-model data
    /// (Table 3) and its remixed policy-training prompts (Table 4), over any stages.
    public static let concat = StageSpec(StageSchema(
        kind: "concat", summary: "Union of preference sets or of prompt sets, optionally sampled down.", codeVersion: 1, outputs: [.preferences, .prompts],
        fields: [
            FieldSchema("parts", .list(.stageRef(accepts: [.preferences, .prompts])),
                        doc: "Stages to join: all preference sets, or all prompt sets."),
            FieldSchema("size", .int, optional: true, doc: "Keep this many (training pairs or prompts), a seeded sample; absent keeps all."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of the sample and of the order."),
        ]),
        layout: .concat, fingerprint: nil)
}
