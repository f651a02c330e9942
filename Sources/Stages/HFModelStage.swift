import Checkpoint
import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs

/// `hf_model`: a local Hugging Face model folder as a recipe's base policy (`LlamaForCausalLM`) or
/// reward model (one-label `LlamaForSequenceClassification`), as `preflab export` and
/// `save_pretrained` write them: single or sharded safetensors in F32/F16/BF16, tied or untied
/// embeddings, a byte-level BPE tokenizer.json and a known chat template (or `chat_format:`).
///
/// The catalogue entry (StageSpecs.hfModel) fingerprints the folder's files and checks that they exist.
struct HFModelStage: StageRunner {
    /// The site's `models:` map, where a site-named model (`model: NAME`) is found.
    var siteModels: [String: String] = [:]

    func run(_ context: NodeContext) throws {
        let (model, codec) = try HFModelFolder.read(from: try folder(context),
                                                   chatFormat: Self.chatFormat(context.stage),
                                                   maxSeqLen: try context.int("max_seq_len"))
        try ModelArtifact.save(model: model, codec: codec, to: context.outputDirectory)
        let c = model.config
        context.reporter.summary(["parameters": Double(model.parameters.reduce(0) { $0 + $1.count }),
                                  "vocab": Double(c.vocabSize), "layers": Double(c.nLayers), "d_model": Double(c.dModel),
                                  "reward_model": model.head == .scalar ? 1 : 0])
    }

    /// `path`, or the folder the site gives a named model. PrefLab reads Llama folders only; a named model of
    /// another architecture is for the delegated engines, whose bridges today still start from a model PrefLab
    /// has read (its token ids, its export), so such a node cannot be made yet and says so.
    private func folder(_ context: NodeContext) throws -> URL {
        guard let name = SiteModels.name(context.stage) else { return URL(fileURLWithPath: try context.string("path")) }
        let architecture = context.stage.config["architecture"]?.string ?? "?"
        guard architecture == "llama" else {
            throw StageError(context.stage.name, "'\(name)' is an \(architecture) model: PrefLab reads Llama folders only, and the TRL, OpenRLHF and vLLM bridges still prepare their inputs through PrefLab's own model code, so a site-named \(architecture) model can be planned (preflab plan --commands) but not run yet")
        }
        guard let path = siteModels[name] else {
            throw StageError(context.stage.name, "the site names no folder for model '\(name)'; expected `models: { \(name): FOLDER }` in the site file (run --site)")
        }
        return URL(fileURLWithPath: path)
    }

    static func chatFormat(_ stage: ResolvedStage) -> String? { stage.config["chat_format"]?.value.string }

    static func folder(_ stage: ResolvedStage) -> URL? { stage.config["path"]?.value.string.map { URL(fileURLWithPath: $0) } }
}
