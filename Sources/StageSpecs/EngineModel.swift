import Foundation

/// A model node that only the delegated engines read: a Hugging Face folder of an architecture PrefLab's own model
/// code does not load (a site-named OPT `hf_model`, and every model an engine trains from one), kept as the engine
/// saved it, with the model's own tokenizer. `engine_model.json` beside the folder's files marks it; the engine
/// tokenises the node's data itself (docs/sites.md, "Models PrefLab does not read").
public struct EngineModel: Codable, Sendable, Equatable {
    /// The site name of the model it descends from (`hf_model`'s `model:`).
    public var model: String
    /// Its config.json `model_type` as the recipe declares it (`architecture:`).
    public var architecture: String

    public init(model: String, architecture: String) {
        self.model = model
        self.architecture = architecture
    }

    /// The node's marker, or nil for a model PrefLab wrote (a Llama folder it reads itself).
    public static func read(_ dir: URL) throws -> EngineModel? {
        let file = dir.appendingPathComponent(ArtifactLayout.engineModelFile)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        return try JSONDecoder().decode(EngineModel.self, from: Data(contentsOf: file))
    }

    /// Marks `dir` as an engine model.
    public func write(to dir: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try (encoder.encode(self) + Data("\n".utf8)).write(to: dir.appendingPathComponent(ArtifactLayout.engineModelFile), options: .atomic)
    }

    /// The files of a Hugging Face folder an engine reads (config, weights, tokenizer, generation config): every
    /// regular file at its top level but another framework's weights and PrefLab's own records.
    public static func folderFiles(_ dir: URL) throws -> [URL] {
        let fm = FileManager.default
        return try fm.contentsOfDirectory(at: dir, includingPropertiesForKeys: [.isRegularFileKey])
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
            .filter { !skipped.contains($0.lastPathComponent) && !$0.lastPathComponent.hasSuffix(".onnx") && !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Weights of other frameworks (a snapshot may hold them beside the PyTorch ones) and the records PrefLab keeps
    /// in a node folder, never part of the model.
    static let skipped: Set<String> = ["tf_model.h5", "flax_model.msgpack", "rust_model.ot", "node.json", "engine.json",
                                       "metrics.jsonl", "engine-summary.json", ArtifactLayout.engineModelFile]
}
