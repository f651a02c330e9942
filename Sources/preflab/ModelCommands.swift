import ArgumentParser
import Foundation
import Pipeline
import Stages

/// Which model `generate`, `score` and `tokenize` look at, and how text reaches it.
struct ModelArguments: ParsableArguments {
    @Argument(help: ArgumentHelp("""
        A .gguf file, an HF model folder, a node hash (or a unique prefix) in the store, or RECIPE STAGE.
        """, valueName: "model"))
    var model: [String]

    @Option(name: .customLong("set"), help: ArgumentHelp("With RECIPE STAGE: override a recipe key (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(help: "With RECIPE STAGE: the matrix cell label when the stage differs between cells.")
    var cell: String?

    @OptionGroup var store: StoreOptions

    @Option(help: "Cap the model window in tokens (default: 512 for GGUF, the folder's own for folders and nodes).")
    var maxSeqLen: Int?

    @Flag(help: "Render the prompt as one user turn with the model's chat template (default: raw text).")
    var chat = false

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        guard model.count == 1 || model.count == 2 else {
            throw ValidationError("expected a model (file, folder or node hash) or RECIPE STAGE, got \(model.count) argument(s)")
        }
        if let maxSeqLen, maxSeqLen < 2 { throw ValidationError("--max-seq-len must be at least 2, got \(maxSeqLen)") }
    }

    /// The model: a path that exists is read as a file or folder; otherwise a node of the store. A single
    /// argument that cannot be a hash prefix (not hexadecimal) is a missing path, said as such.
    func load() throws -> ModelProbe {
        if model.count == 1, FileManager.default.fileExists(atPath: model[0]) {
            return try ModelProbe.load(URL(fileURLWithPath: model[0]), maxSeqLen: maxSeqLen)
        }
        if model.count == 1, !model[0].allSatisfy(\.isHexDigit) {
            throw ValidationError("\(model[0]) does not exist (expected a .gguf file, an HF folder, a node hash prefix or RECIPE STAGE)")
        }
        let artifacts = try ArtifactStore(root: URL(fileURLWithPath: store.store))
        let nodes = NodeResolver(store: store.store, overrides: overrides, cell: cell)
        let hash = model.count == 1 ? try nodes.hash(prefix: model[0], in: artifacts)
                                    : try nodes.hash(recipe: model[0], stage: model[1])
        guard artifacts.isComplete(hash) else {
            throw ValidationError("node \(hash) is not finished in \(store.store): run the recipe first")
        }
        let dir = artifacts.objectDirectory(for: hash)
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("config.json").path) else {
            throw ValidationError("node \(hash) is a \(artifacts.record(for: hash)?.kind ?? "?") node, which holds no model")
        }
        return try ModelProbe.load(dir, maxSeqLen: maxSeqLen)
    }

    func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// `preflab generate`: a model's continuation of a prompt.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Continue a prompt with a model (greedy by default).")

    @OptionGroup var target: ModelArguments

    @Option(help: "The prompt text.")
    var prompt: String

    @Option(help: "Most tokens to generate.")
    var maxNewTokens = 32

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(help: "Nucleus sampling: keep the smallest set of tokens reaching this probability.")
    var topP: Float = 1

    @Option(help: "Seed of the sampler (used when temperature > 0).")
    var seed: UInt64 = 0

    func validate() throws {
        guard maxNewTokens >= 1 else { throw ValidationError("--max-new-tokens must be at least 1, got \(maxNewTokens)") }
        guard temperature >= 0, temperature.isFinite else { throw ValidationError("--temperature must be 0 or more, got \(temperature)") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1], got \(topP)") }
    }

    func run() throws {
        let out = try target.load().generate(prompt: prompt, chat: target.chat, maxNewTokens: maxNewTokens,
                                             temperature: temperature, topP: topP, seed: seed)
        if target.json { try target.printJSON(out) } else { print(out.text) }
    }
}

/// `preflab score`: log-probs of a response given a prompt, or a reward model's score.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score a response: its log-probs (policy) or its reward (reward model).")

    @OptionGroup var target: ModelArguments

    @Option(help: "The prompt text.")
    var prompt: String

    @Option(help: "The response text.")
    var response: String

    func run() throws {
        let out = try target.load().score(prompt: prompt, response: response, chat: target.chat)
        if target.json { return try target.printJSON(out) }
        if let reward = out.reward {
            print("reward \(reward)")
            return
        }
        for token in out.tokens { print("\(token.logprob ?? .nan)\t\(token.id)\t\(token.text.debugDescription)") }
        print("total \(out.total ?? .nan) over \(out.tokens.count) tokens")
    }
}

/// `preflab tokenize`: the ids a text becomes.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize", abstract: "Show how a model's tokenizer splits a text.")

    @OptionGroup var target: ModelArguments

    @Option(help: "The text.")
    var text: String

    func run() throws {
        let tokens = try target.load().tokenize(text, chat: target.chat)
        if target.json { return try target.printJSON(tokens) }
        for token in tokens { print("\(token.id)\t\(token.text.debugDescription)") }
        print("\(tokens.count) tokens")
    }
}
