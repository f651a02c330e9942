import Checkpoint
import Foundation
import Llama
import Preference
import StageSpecs
import Tokenizer

/// The on-disk layout of a model node: weights, shape, head and the tokenizer it speaks.
///
/// `model.safetensors` (Hugging Face `LlamaForCausalLM` names), `config.json` (the engine's
/// `LlamaConfig`), `head.json`, `tokenizer.json` and `chat_template.json`.
enum ModelArtifact {
    private struct HeadFile: Codable { var head: HeadKind }

    static func save(model: LlamaModel, codec: TokenizerCodec, to dir: URL) throws {
        try Safetensors.write(model.namedTensors(), to: dir.appendingPathComponent(ArtifactLayout.weightsFile))
        try ConfigJSON.write(model.config, to: dir.appendingPathComponent(ArtifactLayout.configFile))
        try ConfigJSON.write(HeadFile(head: model.head), to: dir.appendingPathComponent(ArtifactLayout.headFile))
        try TokenizerArtifact.save(codec, to: dir)
    }

    /// Loads the model in `dir`; the head file says which head its weights carry.
    static func load(from dir: URL) throws -> (model: LlamaModel, codec: TokenizerCodec) {
        let config = try ConfigJSON.read(LlamaConfig.self, from: dir.appendingPathComponent(ArtifactLayout.configFile))
        let head = try ConfigJSON.read(HeadFile.self, from: dir.appendingPathComponent(ArtifactLayout.headFile)).head
        let model = LlamaModel(config: config, head: head, seed: nil)
        try model.load(Safetensors.read(dir.appendingPathComponent(ArtifactLayout.weightsFile)))
        return (model, try TokenizerArtifact.load(from: dir))
    }

    static func loadPolicy(from dir: URL) throws -> Policy {
        let (model, codec) = try load(from: dir)
        return try Policy(model: model, codec: codec)
    }

    static func loadRewardModel(from dir: URL) throws -> RewardModel {
        let (model, codec) = try load(from: dir)
        return try RewardModel(model: model, codec: codec)
    }
}

/// A tokenizer and chat template saved beside whatever uses them.
enum TokenizerArtifact {
    static func save(_ codec: TokenizerCodec, to dir: URL) throws {
        try codec.tokenizer.save(to: dir.appendingPathComponent(ArtifactLayout.tokenizerFile))
        try ConfigJSON.write(codec.template, to: dir.appendingPathComponent(ArtifactLayout.chatTemplateFile))
    }

    static func load(from dir: URL) throws -> TokenizerCodec {
        let tokenizer = try BPETokenizer.load(from: dir.appendingPathComponent(ArtifactLayout.tokenizerFile))
        let template = try ConfigJSON.read(ChatTemplate.self, from: dir.appendingPathComponent(ArtifactLayout.chatTemplateFile))
        return try TokenizerCodec(tokenizer: tokenizer, template: template)
    }
}

/// JSON Lines files of Codable records (preference pairs, prompts, samples).
enum JSONLines {
    static func write<T: Encodable>(_ items: [T], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for item in items {
            data.append(try encoder.encode(item))
            data.append(0x0A)
        }
        try data.write(to: url, options: .atomic)
    }

    static func read<T: Decodable>(_ type: T.Type, from url: URL) throws -> [T] {
        let text = try String(contentsOf: url, encoding: .utf8)
        let decoder = JSONDecoder()
        var out: [T] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            do {
                out.append(try decoder.decode(T.self, from: Data(line.utf8)))
            } catch {
                throw StageError(url.lastPathComponent, "line \(i + 1): \(error)")
            }
        }
        return out
    }
}
