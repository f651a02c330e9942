import Checkpoint
import Foundation
import Llama
import Pipeline
import Preference
import Tensor
import StageSpecs
import Tokenizer

/// The on-disk layout of a model node: a Hugging Face folder (`HFModelFolder`) that `transformers`
/// loads with `from_pretrained` — `LlamaForCausalLM` for policies, `LlamaForSequenceClassification`
/// for reward models — plus PrefLab's chat-template file.
///
/// Nodes written before (camelCase engine `config.json`, `head.json`, `chat_template.json`) are still
/// read. Only the layout changed, not what a node computes, so node hashes are the same.
enum ModelArtifact {
    static func save(model: LlamaModel, codec: TokenizerCodec, to dir: URL) throws {
        try HFModelFolder.write(model: model, codec: codec, to: dir)
    }

    /// Loads the model in `dir`, in either layout.
    static func load(from dir: URL) throws -> (model: LlamaModel, codec: TokenizerCodec) {
        if let kept = try EngineModel.read(dir) {
            throw StageError("model", "\(dir.path) is an \(kept.architecture) model (from '\(kept.model)') kept for the delegated engines; PrefLab's own model code reads Llama models only (`preflab validate --site` names the stages that would need it)")
        }
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent(Legacy.headFile).path) { return try Legacy.load(from: dir) }
        return try HFModelFolder.read(from: dir)
    }

    static func loadPolicy(from dir: URL) throws -> Policy {
        let (model, codec) = try load(from: dir)
        return try Policy(model: model, codec: codec)
    }

    static func loadRewardModel(from dir: URL) throws -> RewardModel {
        let (model, codec) = try load(from: dir)
        return try RewardModel(model: model, codec: codec)
    }

    /// The layout of nodes written before HF folders: the engine's `LlamaConfig` as `config.json`,
    /// the head in `head.json`, `model.safetensors`, tokenizer files.
    enum Legacy {
        static let headFile = "head.json"
        struct HeadFile: Codable { var head: HeadKind }

        static func load(from dir: URL) throws -> (model: LlamaModel, codec: TokenizerCodec) {
        if let kept = try EngineModel.read(dir) {
            throw StageError("model", "\(dir.path) is an \(kept.architecture) model (from '\(kept.model)') kept for the delegated engines; PrefLab's own model code reads Llama models only (`preflab validate --site` names the stages that would need it)")
        }
            let config = try ConfigJSON.read(LlamaConfig.self, from: dir.appendingPathComponent("config.json"))
            let head = try ConfigJSON.read(HeadFile.self, from: dir.appendingPathComponent(headFile)).head
            let model = LlamaModel(config: config, head: head, seed: nil, trainable: false)
            try model.load(Safetensors.read(dir.appendingPathComponent("model.safetensors")))
            return (model, try TokenizerArtifact.load(from: dir))
        }
    }
}

/// A model node as a shareable Hugging Face folder (`preflab export`).
public enum ModelExport {
    /// Writes the model in `node` (either layout; a model PrefLab does not read is copied as it is) to `destination`,
    /// which must not exist or be an empty folder; it appears whole or not at all (written beside it, then renamed). Returns notes for the
    /// user: a nonzero reward-model bias, which only nodes from before the bias was held at zero can
    /// have, is left out (transformers' score layer has none), shifting every score by that constant.
    public static func export(node: URL, to destination: URL) throws -> [String] {
        let fm = FileManager.default
        if fm.fileExists(atPath: destination.path) {
            guard (try? fm.contentsOfDirectory(atPath: destination.path))?.isEmpty == true else {
                throw StageError("export", "\(destination.path) exists and is not an empty folder")
            }
        }
        if let kept = try EngineModel.read(node) {
            // A model PrefLab does not read is already the folder its engine saved: copied as it is.
            try writeWhole(destination) { dir in
                for file in try EngineModel.folderFiles(node) { try fm.copyItem(at: file, to: dir.appendingPathComponent(file.lastPathComponent)) }
            }
            return ["an \(kept.architecture) model (from '\(kept.model)') kept as its engine saved it: its files copied"]
        }
        let (model, codec) = try ModelArtifact.load(from: node)
        var notes: [String] = []
        if let bias = model.scoreBias, bias != 0 {
            var tensors = model.namedTensors()
            tensors["score.bias"] = Tensor(shape: [1], data: [0])
            try model.load(tensors)
            notes.append("score.bias \(bias) left out (LlamaForSequenceClassification has no bias): every score shifts by \(-bias); preferences between responses are unchanged")
        }
        try writeWhole(destination) { try HFModelFolder.write(model: model, codec: codec, to: $0) }
        return notes
    }

    /// Runs `write` into a folder beside `destination`, then renames it there: the export appears whole or not at all.
    private static func writeWhole(_ destination: URL, _ write: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let temporary = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).tmp-\(UUID().uuidString)")
        try fm.createDirectory(at: temporary, withIntermediateDirectories: true)
        do {
            try write(temporary)
            if fm.fileExists(atPath: destination.path) { try fm.removeItem(at: destination) }
            try fm.moveItem(at: temporary, to: destination)
        } catch {
            try? fm.removeItem(at: temporary)
            throw error
        }
    }
}

/// A tokenizer and chat template saved beside whatever uses them: HF's tokenizer files (so
/// `AutoTokenizer.from_pretrained` loads them, chat template included) and PrefLab's template file;
/// tokenizer nodes of the older layout (`chat_template.json`) are still read.
enum TokenizerArtifact {
    static func save(_ codec: TokenizerCodec, to dir: URL) throws {
        try HFModelFolder.writeTokenizer(codec, to: dir)
    }

    static func load(from dir: URL) throws -> TokenizerCodec {
        try HFModelFolder.readTokenizer(from: dir)
    }
}

/// JSON Lines files of Codable records (preference pairs, prompts, samples).
enum JSONLines {
    static func write<T: Encodable>(_ items: [T], to url: URL) throws {
        try JSONLinesEncoding.encode(items).write(to: url, options: .atomic)
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
