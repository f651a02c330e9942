import Hyperparameters
import RecipeSpec

// Kinds that make models: a tokenizer, policies and reward models.
extension StageSpecs {
    /// `tokenizer`: trains a byte-level BPE on a task's demonstrations (and optional pretraining text).
    public static let tokenizer = StageSpec(StageSchema(
        kind: "tokenizer", summary: "Train a byte-level BPE tokenizer on a task's text.", codeVersion: 1, outputs: [.tokenizer],
        fields: [
            FieldSchema("task", .string, doc: "Gold task whose demonstrations form the corpus."),
            FieldSchema("vocab_size", .int, default: .int(1024), doc: "Vocabulary size, special tokens included."),
            FieldSchema("documents", .int, default: .int(4000), doc: "Demonstrations drawn from the task for the corpus."),
            FieldSchema("pretraining_bytes", .int, default: .int(0),
                        doc: "Bytes of Debian-packaged pretraining text added to the corpus (0: none)."),
            FieldSchema("template", .choice(["simple", "chatml"]), default: .string("simple"),
                        doc: "Chat template whose special tokens the vocabulary reserves."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of the corpus draw."),
        ]),
        layout: .tokenizer, fingerprint: nil)

    /// `pretrained`: a released model as a recipe's base policy, in place of a from-scratch `sft` stage:
    /// a GGUF file read with its own tokenizer and chat template, saved as a policy node that `dpo`,
    /// `ppo`, `opo`, `d2po`, `sft` (`init`), `reward_model` (`init`) and the evaluations take.
    public static let pretrained = StageSpec(StageSchema(
        kind: "pretrained", summary: "A released model (GGUF file) as a policy, with its own tokenizer and chat template.",
        codeVersion: 1, outputs: [.policy], check: FileChecks.pretrained,
        fields: [
            FieldSchema("file", .string, default: .string("models/SmolLM2-135M-Instruct.Q4_1.gguf"),
                        doc: "The GGUF file, from the working directory (scripts/fetch-smollm2.sh fetches the default)."),
            FieldSchema("allow_outside", .bool, optional: true,
                        doc: "true lets `file` resolve (after symbolic links) outside the project and the data root (PREFLAB_DATA_ROOT, else ../shared/data)."),
            FieldSchema("max_seq_len", .int, default: .int(512),
                        doc: "Longest sequence the engine's copy holds (prompt + response); caches and activations scale with it."),
        ]),
        layout: .model, fingerprint: Fingerprints.modelFile)

    /// `hf_model`: a local Hugging Face Llama folder (`LlamaForCausalLM`, or a one-label
    /// `LlamaForSequenceClassification`) as a policy or reward model, or a model the site names (`model:`, any
    /// architecture; a causal LM; one PrefLab does not read is kept as its folder for the engines, `EngineModel`), as `preflab export` and
    /// `save_pretrained` write them: single or sharded safetensors in F32/F16/BF16, tied or untied
    /// embeddings, a byte-level BPE tokenizer.json and a known chat template (or `chat_format:`).
    public static let hfModel = StageSpec(StageSchema(
        kind: "hf_model",
        summary: "A local Hugging Face Llama folder (LlamaForCausalLM or a one-label LlamaForSequenceClassification) as a policy or reward model.",
        codeVersion: 1, outputs: [.policy, .rewardModel], outputsOf: FileChecks.hfModelOutputs, check: SiteModels.check,
        fields: [
            FieldSchema("path", .string, optional: true,
                        doc: "The model folder, from the working directory (config.json, safetensors, tokenizer.json, ...); or set `model`."),
            FieldSchema("model", .string, optional: true,
                        doc: "A model named by the site file (`models: { NAME: FOLDER }`) instead of a path: the papers' models on a cluster. The node is known by this name, not by the folder's files (docs/sites.md)."),
            FieldSchema("architecture", .string, optional: true,
                        doc: "With `model`: the folder's config.json model_type (llama, opt, ...), which decides the engines that can load it (the embedded one: llama only)."),
            FieldSchema("allow_outside", .bool, optional: true,
                        doc: "true lets `path` resolve (after symbolic links) outside the project and the data root (PREFLAB_DATA_ROOT, else ../shared/data)."),
            // The names of HFChatTemplate.formats (Preference), listed here because the catalogue is compute-free.
            FieldSchema("chat_format", .choice(["chatml", "simple", "smollm2", "zephyr"]), optional: true,
                        doc: "The chat format the model was trained on, when its Jinja chat template is not one PrefLab recognises."),
            FieldSchema("max_seq_len", .int, default: .int(512),
                        doc: "Longest sequence the engine's copy holds (capped by max_position_embeddings); caches and activations scale with it."),
        ]),
        layout: .model, fingerprint: Fingerprints.hfFolder)

    /// `sft`: a policy trained on a task's demonstrations, loss on response tokens only; from scratch
    /// (a new model of the given shape over a `tokenizer` stage) or continuing an earlier policy (`init`).
    public static let sft = StageSpec(StageSchema(
        kind: "sft", summary: "Supervised fine-tuning on a task's demonstrations (response tokens only).", codeVersion: 1, outputs: [.policy],
        engines: [.embedded, EngineSupport(Engines.trl.name, check: TRLChecks.sft)],
        fields: [
            FieldSchema("task", .string, doc: "Gold task whose demonstrations are the training data."),
            FieldSchema("tokenizer", .stageRef(accepts: [.tokenizer]), optional: true,
                        doc: "Tokenizer stage for a model trained from scratch."),
            FieldSchema("init", .stageRef(accepts: [.policy]), optional: true,
                        doc: "Policy to continue from instead of a new model."),
            FieldSchema("examples", .int, default: .int(4000), doc: "Demonstrations drawn from the task."),
            FieldSchema("d_model", .int, default: .int(64), doc: "Width of a new model's residual stream."),
            FieldSchema("layers", .int, default: .int(2), doc: "Transformer blocks of a new model."),
            FieldSchema("heads", .int, default: .int(4), doc: "Query heads of a new model."),
            FieldSchema("kv_heads", .int, default: .int(2), doc: "Key/value heads of a new model (grouped-query attention)."),
            FieldSchema("hidden", .int, default: .int(176), doc: "SwiGLU inner width of a new model."),
            FieldSchema("max_seq_len", .int, default: .int(128), doc: "Longest sequence (prompt + response) of a new model."),
            FieldSchema("model_seed", .int, default: .int(0), doc: "Seed of a new model's initial weights."),
        ] + SFTParameters.schemaFields + [PrecisionField.field, RecomputeField.field]),
        layout: .model, fingerprint: nil)

    /// `reward_model`: a Bradley–Terry reward model (Unpacking Eq. 1) initialised from a policy's body.
    public static let rewardModel = StageSpec(StageSchema(
        kind: "reward_model", summary: "Bradley–Terry reward model: scalar head on the last token.", codeVersion: 1, outputs: [.rewardModel],
        engines: [.embedded, EngineSupport(Engines.trl.name, check: TRLChecks.rewardModel)],
        fields: [
            FieldSchema("preferences", .stageRef(accepts: [.preferences]), doc: "Training pairs."),
            FieldSchema("init", .stageRef(accepts: [.policy]), optional: true,
                        doc: "Policy whose body initialises the model (a new scalar head); or set from_reward_model."),
            FieldSchema("from_reward_model", .stageRef(accepts: [.rewardModel]), optional: true,
                        doc: "A reward model to continue training, head included (e.g. adapting to new pairs, D2PO Table 5)."),
            FieldSchema("head_seed", .int, default: .int(0), doc: "Seed of the new scalar head."),
        ] + RewardModelParameters.schemaFields + [PrecisionField.field, RecomputeField.field]),
        layout: .model, fingerprint: nil)

    /// `dpo`: direct preference optimisation (Unpacking Eq. 3) of a policy on fixed pairs.
    public static let dpo = StageSpec(StageSchema(
        kind: "dpo", summary: "DPO (and IPO, conservative DPO, SimPO via `loss.kind`) on offline pairs.", codeVersion: 1, outputs: [.policy],
        engines: [.embedded, EngineSupport(Engines.trl.name, check: TRLChecks.dpo)],
        fields: [
            FieldSchema("policy", .stageRef(accepts: [.policy]), doc: "Starting policy, also the reference unless `reference` is set."),
            FieldSchema("reference", .stageRef(accepts: [.policy]), optional: true,
                        doc: "The reference π_ref when it is not the starting policy (continuing DPO from a DPO model)."),
            FieldSchema("preferences", .stageRef(accepts: [.preferences]), doc: "Training pairs."),
        ] + DPOParameters.schemaFields + [PrecisionField.field, RecomputeField.field]),
        layout: .model, fingerprint: nil)

    /// `ppo`: PPO as the Unpacking paper implements it (App. F.2, Tables 9–11), Table 10's variants as options.
    public static let ppo = StageSpec(StageSchema(
        kind: "ppo", summary: "PPO against a reward model, value model initialised from it.", codeVersion: 1, outputs: [.policy],
        engines: [.embedded, EngineSupport(Engines.openrlhf.name, check: OpenRLHFChecks.ppo)],
        fields: [
            FieldSchema("policy", .stageRef(accepts: [.policy]), doc: "Starting policy, also the KL reference."),
            FieldSchema("reward_model", .stageRef(accepts: [.rewardModel]), doc: "Reward model scoring rollouts."),
            FieldSchema("prompts", .stageRef(accepts: [.prompts]), doc: "Policy-training prompts."),
            // A stage field, not a trainer parameter: `eos_penalty: null` cannot say "off" (null
            // means "the default" in a recipe), and a new parameter would change every PPO node's hash.
            FieldSchema("eos_trick", .bool, optional: true,
                        doc: "false: no EOS trick, truncated completions keep their RM score (Table 10); default on."),
        ] + PPOParameters.schemaFields + [PrecisionField.field, RecomputeField.field]),
        layout: .model, fingerprint: nil)

    /// `opo`: online DPO (D2PO §3.1), pairs labelled by a static reward model or the gold annotator.
    public static let opo = StageSpec(StageSchema(
        kind: "opo", summary: "Online DPO: two samples per prompt, labelled by a static RM or gold, then a DPO step.",
        codeVersion: 1, outputs: [.policy],
        engines: [.embedded, EngineSupport(Engines.trl.name, check: TRLChecks.opo)],
        check: ScorerFields.check,
        fields: [
            FieldSchema("policy", .stageRef(accepts: [.policy]), doc: "Starting policy, also the reference."),
            FieldSchema("prompts", .stageRef(accepts: [.prompts]), doc: "Policy-training prompts."),
            FieldSchema("labeler", .choice(["reward_model", "gold"]), default: .string("reward_model"),
                        doc: "Static reward model (OPO static RM) or the task's gold annotator (OPO gold)."),
            FieldSchema("reward_model", .stageRef(accepts: [.rewardModel]), optional: true,
                        doc: "The static reward model, when labeler is reward_model."),
            FieldSchema("task", .string, optional: true, doc: "Gold task, when labeler is gold (or when probing)."),
        ] + ScorerFields.fields + ProbeFields.fields + OPOParameters.schemaFields + [PrecisionField.field, RecomputeField.field]),
        layout: .model, fingerprint: nil)

    /// `d2po`: discriminator-guided DPO (D2PO Algorithm 1) with a gold budget.
    public static let d2po = StageSpec(StageSchema(
        kind: "d2po", summary: "D2PO: silver labels from a discriminator, gold labels every round for it and the policy.",
        codeVersion: 1, outputs: [.policy],
        engines: [.embedded, EngineSupport(Engines.trl.name, check: TRLChecks.d2po)],
        check: ScorerFields.check,
        fields: [
            FieldSchema("policy", .stageRef(accepts: [.policy]), doc: "Starting policy, also the reference."),
            FieldSchema("prompts", .stageRef(accepts: [.prompts]), doc: "Policy-training prompts."),
            FieldSchema("task", .string, doc: "Gold task: the annotator R*."),
            FieldSchema("discriminator", .choice(["reward_model", "dpo", "self"]), default: .string("reward_model"),
                        doc: "A Bradley–Terry RM, a separate DPO model, or the policy itself (§6.2)."),
            FieldSchema("reward_model", .stageRef(accepts: [.rewardModel]), optional: true,
                        doc: "Initial discriminator when discriminator is reward_model."),
            FieldSchema("dpo_model", .stageRef(accepts: [.policy]), optional: true,
                        doc: "Initial discriminator when discriminator is dpo."),
            FieldSchema("dpo_reference", .stageRef(accepts: [.policy]), optional: true,
                        doc: "π_ref of the dpo discriminator's implicit reward (e.g. the SFT policy it was trained from); default `policy`."),
        ] + ScorerFields.fields + ProbeFields.fields + D2POParameters.schemaFields + [PrecisionField.field, RecomputeField.field]),
        layout: .model, fingerprint: nil)
}
