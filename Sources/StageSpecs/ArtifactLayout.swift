/// The files a node's artifact folder holds, named once here for the runners that write and read them.
public struct ArtifactLayout: Sendable, Equatable {
    /// Files every finished node of the kind has.
    public let files: [String]

    public init(_ files: [String]) { self.files = files }

    /// Weights (Hugging Face `LlamaForCausalLM` names).
    public static let weightsFile = "model.safetensors"
    /// Hugging Face `config.json` (`LlamaForCausalLM` or a one-label `LlamaForSequenceClassification`).
    public static let configFile = "config.json"
    public static let generationConfigFile = "generation_config.json"
    public static let tokenizerFile = "tokenizer.json"
    /// HF tokenizer config: eos and the Jinja chat template.
    public static let tokenizerConfigFile = "tokenizer_config.json"
    /// PrefLab's own chat-template description (HFModelFolder.templateFile).
    public static let chatTemplateFile = "preflab_chat_template.json"
    /// Marks a model node only the delegated engines read (`EngineModel`): its site name and architecture.
    public static let engineModelFile = "engine_model.json"
    /// Training preference pairs, one JSON object a line.
    public static let pairsFile = "pairs.jsonl"
    /// Held-out pairs (may be empty).
    public static let heldOutFile = "held_out.jsonl"
    /// Policy-training prompts.
    public static let promptsFile = "prompts.jsonl"
    /// A dataset load's counts and notes.
    public static let loadReportFile = "load_report.jsonl"
    /// Evaluated samples, so a number can be traced to text.
    public static let samplesFile = "samples.jsonl"

    /// A tokenizer and its chat template.
    public static let tokenizer = ArtifactLayout([tokenizerFile, tokenizerConfigFile, chatTemplateFile])
    /// A policy or reward model with the tokenizer it speaks.
    public static let model = ArtifactLayout([weightsFile, configFile, generationConfigFile, tokenizerFile, tokenizerConfigFile, chatTemplateFile])
    /// A preference set.
    public static let preferences = ArtifactLayout([pairsFile, heldOutFile])
    /// A catalogue dataset's preference set and its load report.
    public static let datasetPreferences = ArtifactLayout([pairsFile, heldOutFile, loadReportFile])
    /// A prompt set.
    public static let prompts = ArtifactLayout([promptsFile])
    /// Either a preference set or a prompt set, as its parts are.
    public static let concat = ArtifactLayout([])
    /// An evaluation with its samples.
    public static let samples = ArtifactLayout([samplesFile])
    /// An evaluation whose result is its metrics alone (node.json).
    public static let metricsOnly = ArtifactLayout([])
}
