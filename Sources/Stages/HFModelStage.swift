import Checkpoint
import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs

/// `hf_model`: a local Hugging Face model folder as a recipe's base policy (`LlamaForCausalLM`) or
/// reward model (one-label `LlamaForSequenceClassification`), or a site-named model of another architecture kept as
/// its folder for the engines (`EngineModel`); a Llama folder as `preflab export` and
/// `save_pretrained` write them: single or sharded safetensors in F32/F16/BF16, tied or untied
/// embeddings, a byte-level BPE tokenizer.json and a known chat template (or `chat_format:`).
///
/// The catalogue entry (StageSpecs.hfModel) fingerprints the folder's files and checks that they exist.
struct HFModelStage: StageRunner {
    /// The site's `models:` map, where a site-named model (`model: NAME`) is found.
    var siteModels: [String: String] = [:]

    func run(_ context: NodeContext) throws {
        if let name = SiteModels.name(context.stage), let architecture = context.stage.config["architecture"]?.string,
           !SiteModels.preflabLoads.contains(architecture) {
            return try keepFolder(context, model: EngineModel(model: name, architecture: architecture))
        }
        let (model, codec) = try HFModelFolder.read(from: try folder(context),
                                                   chatFormat: Self.chatFormat(context.stage),
                                                   maxSeqLen: try context.int("max_seq_len"))
        try ModelArtifact.save(model: model, codec: codec, to: context.outputDirectory)
        let c = model.config
        context.reporter.summary(["parameters": Double(model.parameters.reduce(0) { $0 + $1.count }),
                                  "vocab": Double(c.vocabSize), "layers": Double(c.nLayers), "d_model": Double(c.dModel),
                                  "reward_model": model.head == .scalar ? 1 : 0])
    }

    /// A site-named model PrefLab does not read (OPT): the site's folder copied as it is, marked as an engine model,
    /// for the bridges that hand engines their model's folder (`SiteModels.engineFolders`). Nothing is loaded here.
    private func keepFolder(_ context: NodeContext, model: EngineModel) throws {
        let source = try folder(context)
        guard FileManager.default.fileExists(atPath: source.appendingPathComponent("config.json").path) else {
            throw StageError(context.stage.name, "the site's folder \(source.path) for model '\(model.model)' has no config.json; expected a Hugging Face snapshot (config.json, weights, tokenizer)")
        }
        var bytes = 0
        let files = try EngineModel.folderFiles(source)
        for file in files {
            let target = context.outputDirectory.appendingPathComponent(file.lastPathComponent)
            try FileManager.default.copyItem(at: file, to: target)
            bytes += (try? target.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
        }
        try model.write(to: context.outputDirectory)
        context.reporter.summary(["files": Double(files.count), "bytes": Double(bytes)])
    }

    /// `path`, or the folder the site gives a named model.
    private func folder(_ context: NodeContext) throws -> URL {
        guard let name = SiteModels.name(context.stage) else { return URL(fileURLWithPath: try context.string("path")) }
        guard let path = siteModels[name] else {
            throw StageError(context.stage.name, "the site names no folder for model '\(name)'; expected `models: { \(name): FOLDER }` in the site file (run --site)")
        }
        return URL(fileURLWithPath: path)
    }

    static func chatFormat(_ stage: ResolvedStage) -> String? { stage.config["chat_format"]?.value.string }

    static func folder(_ stage: ResolvedStage) -> URL? { stage.config["path"]?.value.string.map { URL(fileURLWithPath: $0) } }
}
