import Foundation
import Pipeline

/// What a delegated runner needs from PrefLab's own code — tasks, tokenizers, models, the data order — supplied
/// by the embedded side, so that this target links no compute code.
public protocol EngineInputs: Sendable {
    /// Writes the model the node starts from as a Hugging Face folder into `dir`: the `init`/`policy` input,
    /// a new SFT model, or a policy's body with PrefLab's freshly drawn scalar head (identical initial weights).
    func initialModel(_ context: NodeContext, into dir: URL) throws
    /// Writes PrefLab's initial LoRA adapters of a `lora` stage (A drawn from the stage's seed, B = 0) into `dir` as
    /// a peft adapter folder (`adapter_config.json`, `adapter_model.safetensors` under peft's names), so that the
    /// engine trains from the very adapters the embedded trainer would.
    func initialAdapter(_ context: NodeContext, into dir: URL) throws
    /// The training rows and held-out pairs, in TRL's standard format with PrefLab's token ids; as text only when the
    /// node's model is one PrefLab does not read (`EngineModels.start`).
    func rows(_ context: NodeContext) throws -> EngineRows
    /// PrefLab's data order of `epoch`: the permutation its own trainer would use (online trainers: of the prompts).
    func epochOrder(count: Int, epoch: Int, seed: UInt64) -> [Int]
    /// D2PO's random gold selection: PrefLab's permutation of the `count` candidates of the round ending at `step`.
    func d2poSelectionOrder(count: Int, step: Int, seed: UInt64) -> [Int]
    /// Reads the engine's finished HF folder and writes the node's artifacts with PrefLab's own writer;
    /// returns summary values PrefLab computes on the imported model (e.g. held-out accuracy).
    func importModel(from engineOutput: URL, context: NodeContext) throws -> [String: Double]
}

/// A node's training data for an engine.
public struct EngineRows: Sendable {
    public var train: [EngineRow]
    public var heldOut: [EngineRow]

    public init(train: [EngineRow], heldOut: [EngineRow] = []) {
        self.train = train
        self.heldOut = heldOut
    }
}

/// One training row: TRL's standard text format (prompt rendered with the chat template; raw responses, the
/// engine appends EOS) and PrefLab's own token ids of the same row (responses with EOS) for the token check; or, for
/// a model PrefLab does not read (`EngineModel`), the prompt's messages and the responses only, which the bridge
/// script puts in TRL's format for the model's own tokenizer (trl_text.py).
public struct EngineRow: Codable, Sendable, Equatable {
    public var prompt: String?
    /// The prompt's turns (`{role, content}` each, as chat templates take them), for the model's own tokenizer (nil
    /// when PrefLab rendered and tokenised the row).
    public var messages: [[String: String]]?
    public var chosen: String?
    public var rejected: String?
    public var completion: String?
    public var promptIdsPreflab: [Int]?
    public var chosenIdsPreflab: [Int]?
    public var rejectedIdsPreflab: [Int]?
    public var completionIdsPreflab: [Int]?
    /// SFT: the prompt and completion ids as PrefLab trains them, fitted to the model's window (prompt cut on
    /// the left, completion on the right); TRL trains on exactly these.
    public var fittedPromptIdsPreflab: [Int]?
    public var fittedCompletionIdsPreflab: [Int]?
    /// Online training: PrefLab's prompt as JSON (`{"messages": [...]}`), what `preflab annotate` is asked about.
    public var promptJson: String?

    /// A preference pair.
    public init(prompt: String, chosen: String, rejected: String, promptIds: [Int], chosenIds: [Int], rejectedIds: [Int]) {
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
        self.promptIdsPreflab = promptIds
        self.chosenIdsPreflab = chosenIds
        self.rejectedIdsPreflab = rejectedIds
    }

    /// A prompt of online training (opo): rendered, its ids, and PrefLab's own form for the gold annotator.
    public init(prompt: String, promptIds: [Int], promptJson: String) {
        self.prompt = prompt
        self.promptIdsPreflab = promptIds
        self.promptJson = promptJson
    }

    /// A row for the model's own tokenizer: the prompt's turns and the responses as text (`chosen`/`rejected` of a
    /// pair, `completion` of a demonstration; none for an online prompt, which carries `promptJson`).
    public init(messages: [[String: String]], chosen: String? = nil, rejected: String? = nil, completion: String? = nil,
                promptJson: String? = nil) {
        self.messages = messages
        (self.chosen, self.rejected, self.completion, self.promptJson) = (chosen, rejected, completion, promptJson)
    }

    /// A demonstration (SFT): the full ids (for the token check) and the window-fitted ones (trained on).
    public init(prompt: String, completion: String, promptIds: [Int], completionIds: [Int],
                fittedPromptIds: [Int], fittedCompletionIds: [Int]) {
        self.prompt = prompt
        self.completion = completion
        self.promptIdsPreflab = promptIds
        self.completionIdsPreflab = completionIds
        self.fittedPromptIdsPreflab = fittedPromptIds
        self.fittedCompletionIdsPreflab = fittedCompletionIds
    }
}

/// JSON lines with snake_case keys, as the generated scripts read them.
enum EngineFiles {
    static func writeLines<T: Encodable>(_ items: [T], to url: URL) throws {
        try JSONLinesEncoding.encode(items, snakeCaseKeys: true).write(to: url, options: .atomic)
    }

    static func write<T: Encodable>(_ value: T, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try (encoder.encode(value) + Data("\n".utf8)).write(to: url, options: .atomic)
    }

    /// A script shipped with this target (Sources/Engines/Python).
    static func script(_ name: String) throws -> Data {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Python")
                ?? Bundle.module.url(forResource: name, withExtension: nil) else {
            throw EngineLaunchError("the bridge script \(name) is missing from the Engines resources")
        }
        return try Data(contentsOf: url)
    }
}
