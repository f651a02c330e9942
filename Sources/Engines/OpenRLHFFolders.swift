import Foundation
import RecipeSpec

/// What the OpenRLHF bridge checks and writes for models PrefLab does not read, handed to OpenRLHF as their folders.
///
/// OpenRLHF builds its reward model (and a critic started from it) as the folder's base model plus a linear head
/// without bias named by `--ds.value_head_prefix` (`score` by default, which the bridge leaves), reading the head on
/// `hidden_size` inputs at the sequence's last token. A reward model TRL trained
/// (`AutoModelForSequenceClassification`, one label) stores exactly such a head as `score.weight` — when the model
/// feeds its head `hidden_size` features, which OPT does only where `word_embed_proj_dim` equals `hidden_size`
/// (OPT-125m, OPT-1.3b; not OPT-350m, whose head reads the projected 512). Anything else is refused with the reason,
/// never loaded with a new, random head.
enum OpenRLHFFolders {
    /// OpenRLHF's default `--ds.value_head_prefix`.
    static let valueHead = "score"

    /// Refuses a reward-model folder whose head OpenRLHF would not load as trained.
    static func checkRewardModel(_ dir: URL, stage: ResolvedStage) throws {
        func refuse(_ why: String) -> EngineError {
            EngineError(stage, key: "reward_model", "\(dir.lastPathComponent): \(why); OpenRLHF reads a reward model as its base model plus a `\(valueHead)` head without bias on hidden_size features — not delegated")
        }
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as? [String: Any] ?? [:]
        let architectures = config["architectures"] as? [String] ?? []
        guard architectures.contains(where: { $0.hasSuffix("ForSequenceClassification") }) else {
            throw refuse("config.json's architectures \(architectures) name no sequence-classification model")
        }
        let labels = (config["id2label"] as? [String: Any])?.count ?? (config["num_labels"] as? Int) ?? 1
        guard labels == 1 else { throw refuse("its head has \(labels) labels, not one score") }
        guard let hidden = config["hidden_size"] as? Int else { throw refuse("config.json has no hidden_size") }
        if let projected = config["word_embed_proj_dim"] as? Int, projected != hidden {
            throw refuse("its head reads word_embed_proj_dim \(projected) features, OpenRLHF's the hidden_size \(hidden)")
        }
        let shapes = try tensorShapes(dir)
        guard let head = shapes["\(valueHead).weight"] else { throw refuse("its weights hold no `\(valueHead).weight`") }
        guard head == [1, hidden] else { throw refuse("`\(valueHead).weight` has shape \(head), not [1, \(hidden)]") }
        if shapes["\(valueHead).bias"] != nil { throw refuse("it has a `\(valueHead).bias`, which OpenRLHF's head lacks (it would drop it)") }
    }

    /// Tensor name → shape, from the safetensors headers of the folder (one file, or the shards its index names).
    static func tensorShapes(_ dir: URL) throws -> [String: [Int]] {
        let fm = FileManager.default
        var files = ["model.safetensors"]
        let index = dir.appendingPathComponent("model.safetensors.index.json")
        if fm.fileExists(atPath: index.path) {
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: index)) as? [String: Any]
            files = Set((object?["weight_map"] as? [String: String] ?? [:]).values).sorted()
        }
        var shapes: [String: [Int]] = [:]
        for name in files {
            guard let handle = FileHandle(forReadingAtPath: dir.appendingPathComponent(name).path) else {
                throw EngineLaunchError("\(dir.path) has no \(name): the reward model's head cannot be checked (safetensors weights expected)")
            }
            defer { try? handle.close() }
            let size = try handle.read(upToCount: 8) ?? Data()
            guard size.count == 8 else { throw EngineLaunchError("\(name) in \(dir.path) is not a safetensors file") }
            let length = size.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            let header = try JSONSerialization.jsonObject(with: handle.read(upToCount: Int(length)) ?? Data()) as? [String: Any] ?? [:]
            for (tensor, entry) in header where tensor != "__metadata__" {
                shapes[tensor] = (entry as? [String: Any])?["shape"] as? [Int]
            }
        }
        return shapes
    }

    /// The render job openrlhf_ppo.py runs before OpenRLHF (`prompt-render.json`): the prompts as messages, the
    /// model whose tokenizer renders them, the prompt file OpenRLHF reads, and the longest prompt allowed.
    static func writeRender(messages: [[[String: String]]], model: String, prompts: String, maxPromptTokens: Int, in dir: URL) throws {
        let file = dir.appendingPathComponent("prompt-messages.jsonl")
        try EngineFiles.writeLines(messages.map { ["messages": $0] }, to: file)
        let job: [String: Any] = ["messages": file.path, "model": model, "output": prompts, "max_prompt_tokens": maxPromptTokens]
        try JSONSerialization.data(withJSONObject: job, options: [.sortedKeys, .withoutEscapingSlashes])
            .write(to: dir.appendingPathComponent("prompt-render.json"), options: .atomic)
    }
}
