import Checkpoint
import Foundation
import Pipeline
import Preference
import RecipeSpec

/// `hf_model`: a local Hugging Face model folder as a recipe's base policy (`LlamaForCausalLM`) or
/// reward model (one-label `LlamaForSequenceClassification`), as `preflab export` and
/// `save_pretrained` write them: single or sharded safetensors in F32/F16/BF16, tied or untied
/// embeddings, a byte-level BPE tokenizer.json and a known chat template (or `chat_format:`).
///
/// The catalogue entry (StageSpecs.hfModel) fingerprints the folder's files and checks that they exist.
struct HFModelStage: StageRunner {
    func run(_ context: NodeContext) throws {
        let (model, codec) = try HFModelFolder.read(from: URL(fileURLWithPath: try context.string("path")),
                                                   chatFormat: Self.chatFormat(context.stage),
                                                   maxSeqLen: try context.int("max_seq_len"))
        try ModelArtifact.save(model: model, codec: codec, to: context.outputDirectory)
        let c = model.config
        context.reporter.summary(["parameters": Double(model.parameters.reduce(0) { $0 + $1.count }),
                                  "vocab": Double(c.vocabSize), "layers": Double(c.nLayers), "d_model": Double(c.dModel),
                                  "reward_model": model.head == .scalar ? 1 : 0])
    }

    static func chatFormat(_ stage: ResolvedStage) -> String? { stage.config["chat_format"]?.value.string }

    static func folder(_ stage: ResolvedStage) -> URL? { stage.config["path"]?.value.string.map { URL(fileURLWithPath: $0) } }
}
