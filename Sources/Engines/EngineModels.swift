import Foundation
import Pipeline
import StageSpecs

/// A delegated node whose models PrefLab does not read (`EngineModel`: a site-named OPT, or what an engine trained
/// from one). The bridge hands the engine their folders as they are and the text of the data; the engine tokenises
/// with the model's own tokenizer, and its finished folder becomes the node, marked as an engine model again, for the
/// delegated stages after it. Nothing here loads a model.
public enum EngineModels {
    /// The input a node of each kind trains from (the others: `policy`).
    static let startFields: [String: [String]] = ["sft": ["init"], "reward_model": ["init", "from_reward_model"]]

    /// The model the node starts from, when it is an engine model: its folder and marker. Every other model input
    /// `engine` takes as a folder must be one too (one tokenizer for the node's rows), and a model PrefLab reads must
    /// not be mixed in.
    public static func start(_ context: NodeContext, engine: String = TRLRunner.engine) throws -> (folder: URL, model: EngineModel)? {
        let fields = startFields[context.stage.kind] ?? ["policy"]
        guard let field = fields.first(where: { context.inputs[$0] != nil }), let folder = context.inputs[field] else { return nil }
        let start = try EngineModel.read(folder)
        for (other, dir) in context.inputs.sorted(by: { $0.key < $1.key }) where other != field && SiteModels.engineFolders[engine]?.contains(other) == true {
            let marker = try EngineModel.read(dir)
            guard (marker == nil) == (start == nil) else {
                let (own, foreign) = start == nil ? (field, other) : (other, field)
                throw EngineError(context.stage, key: own, "`\(own)` is a model PrefLab reads (its own tokenizer) and `\(foreign)` a model it does not (\(marker?.architecture ?? start?.architecture ?? "?")); the bridge tokenises each row once, for every model of the node")
            }
        }
        return start.map { (folder, $0) }
    }

    /// Moves the engine's finished folder (`output`) into the node's folder and marks it as a model of `model`'s line.
    static func keep(_ output: URL, as model: EngineModel, into node: URL) throws {
        let fm = FileManager.default
        for file in try EngineModel.folderFiles(output) {
            try fm.moveItem(at: file, to: node.appendingPathComponent(file.lastPathComponent))
        }
        try model.write(to: node)
    }

    /// The model's context length from its config.json, under the names architectures give it.
    static func contextLength(_ model: URL) throws -> Int {
        let data = try Data(contentsOf: model.appendingPathComponent("config.json"))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        guard let n = windowKeys.lazy.compactMap({ object[$0] as? Int }).first else {
            throw EngineLaunchError("\(model.path)/config.json has none of \(windowKeys.joined(separator: ", ")): the model's window is unknown")
        }
        return n
    }

    /// `max_position_embeddings` (Llama, OPT), `n_positions` (GPT-2), `seq_length`.
    static let windowKeys = ["max_position_embeddings", "n_positions", "seq_length"]
}
