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
/// The node hash covers the contents of every file the stage reads (`fingerprint`), so editing the
/// folder makes a new node; `validate` checks the folder (`check`) and how the recipe wires it.
struct HFModelStage: StageRunner {
    static let kind = StageKind(schema: StageSchema(
        kind: "hf_model",
        summary: "A local Hugging Face Llama folder (LlamaForCausalLM or a one-label LlamaForSequenceClassification) as a policy or reward model.",
        codeVersion: 1,
        fields: [
            FieldSchema("path", .string, doc: "The model folder, from the working directory (config.json, safetensors, tokenizer.json, ...)."),
            FieldSchema("chat_format", .choice(HFChatTemplate.formats.keys.sorted()), optional: true,
                        doc: "The chat format the model was trained on, when its Jinja chat template is not one PrefLab recognises."),
            FieldSchema("max_seq_len", .int, default: .int(512),
                        doc: "Longest sequence the engine's copy holds (capped by max_position_embeddings); caches and activations scale with it."),
        ]), runner: HFModelStage(), check: { stage in try HFModelStage.checkFolder(stage) })

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

    /// Validate-time check of the folder: every file it needs, readable and consistent, without reading weights.
    static func checkFolder(_ stage: ResolvedStage) throws {
        guard let dir = folder(stage) else { return }  // the schema reports a missing path
        try HFModelFolder.check(dir, chatFormat: chatFormat(stage))
    }

    /// The files the stage reads, for the node hash; an unreadable folder fingerprints as missing
    /// files (validate and the run report what is wrong).
    static func fingerprint(_ stage: ResolvedStage) -> String? {
        guard let dir = folder(stage) else { return nil }
        let weights = (try? HFWeights.files(in: dir)) ?? [dir.appendingPathComponent(HFWeights.singleFile)]
        let other = ["config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
                     HFModelFolder.templateFile, HFModelFolder.legacyTemplateFile].map { dir.appendingPathComponent($0) }
        let read = other.filter { $0.lastPathComponent == "config.json" || $0.lastPathComponent == "tokenizer.json"
            || FileManager.default.fileExists(atPath: $0.path) }
        return StageKinds.fileFingerprint(read + weights, root: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    }

    /// Wiring problems: an `hf_model` folder holding a reward model where a policy is expected, or the
    /// reverse (what the folder holds is in its config.json, which validate reads).
    static func wiringProblems(_ recipe: ResolvedRecipe, schemas: [String: StageSchema]) -> [(ResolvedStage, String)] {
        var problems: [(ResolvedStage, String)] = []
        for cell in recipe.cells {
            let byName = Dictionary(cell.stages.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            for stage in cell.stages {
                for (field, producer) in stage.inputs {
                    guard let source = byName[producer], source.kind == kind.schema.kind, let dir = folder(source),
                          let config = try? ConfigJSON.read(HFLlamaConfig.self, from: dir.appendingPathComponent("config.json")),
                          case .stageRef(let kinds)? = schemas[stage.kind]?.fields.first(where: { $0.name == field })?.type else { continue }
                    let wantsRewardModel = kinds.contains("reward_model") && !kinds.contains("sft")
                    if wantsRewardModel != (config.architecture == .sequenceClassification) {
                        problems.append((stage, "\(field): stage '\(producer)' (\(dir.path)) holds a \(config.architecture.rawValue), "
                                         + "but \(field) takes a \(wantsRewardModel ? "reward model (LlamaForSequenceClassification)" : "policy (LlamaForCausalLM)")"))
                    }
                }
            }
        }
        return problems
    }
}
