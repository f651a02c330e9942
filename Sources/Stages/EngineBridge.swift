import Checkpoint
import Engines
import Foundation
import Llama
import Pipeline
import Preference

/// PrefLab's side of a delegated node: the same initial weights, token stream and data order the embedded
/// trainers use, handed to an engine as Hugging Face folders and rows; the engine's model read back with
/// PrefLab's own reader and written with its own writer.
public struct EmbeddedEngineInputs: EngineInputs {
    public init() {}

    public func initialModel(_ context: NodeContext, into dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        switch context.stage.kind {
        case "sft":
            let (policy, codec) = try SFTStage.initialPolicy(context)
            try ModelArtifact.save(model: policy.model, codec: codec, to: dir)
        case "reward_model":
            let (model, codec) = try RewardModelStage.initialModel(context)
            try ModelArtifact.save(model: model, codec: codec, to: dir)
        default:
            let (model, codec) = try ModelArtifact.load(from: try context.requiredInput("policy"))
            try ModelArtifact.save(model: model, codec: codec, to: dir)
        }
    }

    public func initialAdapter(_ context: NodeContext, into dir: URL) throws {
        let p = try context.parameters(DPOTrainer.Parameters.self)
        guard let l = p.lora else { throw StageError(context.stage.name, "no `lora` to export as a peft adapter") }
        let (model, _) = try ModelArtifact.load(from: try context.requiredInput("policy"))
        let config = LoRAConfig(rank: l.rank, alpha: Float(l.effectiveAlpha), targets: l.targets.names)
        model.attachLoRA(config, seed: p.seed)  // as DPOTrainer attaches them
        let named = model.namedTensors()
        // peft saves the "default" adapter's factors under the wrapped model's names, adapter name left out.
        let factors = Dictionary(uniqueKeysWithValues: model.loraParameters.map { ("base_model.model." + $0.name, named[$0.name]!) })
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Safetensors.write(factors, metadata: ["format": "pt"], to: dir.appendingPathComponent("adapter_model.safetensors"))
        let peftConfig: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": config.rank, "lora_alpha": Double(config.alpha),
            "lora_dropout": 0.0, "target_modules": config.targets, "bias": "none", "fan_in_fan_out": false,
            "use_rslora": false, "use_dora": false, "init_lora_weights": true, "inference_mode": false]
        try JSONSerialization.data(withJSONObject: peftConfig, options: [.sortedKeys, .prettyPrinted])
            .write(to: dir.appendingPathComponent("adapter_config.json"), options: .atomic)
    }

    public func rows(_ context: NodeContext) throws -> EngineRows {
        if try EngineModels.start(context) != nil { return try Self.textRows(context) }
        switch context.stage.kind {
        case "sft":
            let (policy, codec) = try SFTStage.initialPolicy(context)
            let task = try TaskRegistry.task(named: context.string("task"))
            let demos = task.demonstrations(count: try context.int("examples"), seed: UInt64(try context.int("seed")))
            return EngineRows(train: demos.map { d in
                let pair = policy.pair(d.prompt, d.response), fit = pair.fitted(maxSeqLen: policy.model.config.maxSeqLen)
                return EngineRow(prompt: Self.render(d.prompt, codec), completion: d.response,
                                 promptIds: pair.prompt.map(Int.init), completionIds: pair.response.map(Int.init),
                                 fittedPromptIds: fit.prompt.map(Int.init), fittedCompletionIds: fit.response.map(Int.init))
            })
        case "opo", "d2po":
            let codec = try Self.codec(context)
            return EngineRows(train: try PreferenceArtifact.prompts(context.requiredInput("prompts")).map { p in
                EngineRow(prompt: Self.render(p, codec), promptIds: codec.promptTokens(p).map(Int.init),
                          promptJson: String(decoding: try JSONEncoder().encode(p), as: UTF8.self))
            })
        default:
            let codec = try Self.codec(context)
            let prefs = try context.requiredInput("preferences")
            let heldOut = context.stage.kind == "reward_model" ? try PreferenceArtifact.heldOut(prefs) : []
            return EngineRows(train: try PreferenceArtifact.pairs(prefs).map { Self.row($0, codec) },
                              heldOut: heldOut.map { Self.row($0, codec) })
        }
    }

    public func epochOrder(count: Int, epoch: Int, seed: UInt64) -> [Int] {
        trainingOrder(count: count, epoch: epoch, seed: seed)
    }

    public func d2poSelectionOrder(count: Int, step: Int, seed: UInt64) -> [Int] {
        D2POTrainer.randomSelectionOrder(count: count, step: step, seed: seed)
    }

    public func importModel(from engineOutput: URL, context: NodeContext) throws -> [String: Double] {
        let (model, codec) = try ModelArtifact.load(from: engineOutput)
        try ModelArtifact.save(model: model, codec: codec, to: context.outputDirectory)
        guard context.stage.kind == "reward_model" else { return [:] }
        // The same held-out evaluation as the embedded stage, on the imported weights.
        let heldOut = try PreferenceArtifact.heldOut(try context.requiredInput("preferences"))
        if heldOut.isEmpty { return [:] }
        return ["held_out_accuracy": try Evaluation.rewardModelAccuracy(try RewardModel(model: model, codec: codec), pairs: heldOut)]
    }

    /// The rows of a node whose model PrefLab does not read: the same demonstrations, prompts and pairs as text, for
    /// the model's own tokenizer (no PrefLab ids, no window fitting: the bridge script checks the window).
    static func textRows(_ context: NodeContext) throws -> EngineRows {
        func messages(_ p: Prompt) -> [[String: String]] { p.engineMessages }
        switch context.stage.kind {
        case "sft":
            let task = try TaskRegistry.task(named: context.string("task"))
            let demos = task.demonstrations(count: try context.int("examples"), seed: UInt64(try context.int("seed")))
            return EngineRows(train: demos.map { EngineRow(messages: messages($0.prompt), completion: $0.response) })
        case "opo", "d2po":
            return EngineRows(train: try PreferenceArtifact.prompts(context.requiredInput("prompts")).map { p in
                EngineRow(messages: messages(p), promptJson: String(decoding: try JSONEncoder().encode(p), as: UTF8.self))
            })
        default:
            let prefs = try context.requiredInput("preferences")
            let heldOut = context.stage.kind == "reward_model" ? try PreferenceArtifact.heldOut(prefs) : []
            let row = { (p: PreferencePair) in EngineRow(messages: messages(p.prompt), chosen: p.chosen, rejected: p.rejected) }
            return EngineRows(train: try PreferenceArtifact.pairs(prefs).map(row), heldOut: heldOut.map(row))
        }
    }

    /// The prompt exactly as PrefLab renders it before tokenising (chat template, generation prompt).
    static func render(_ prompt: Prompt, _ codec: TokenizerCodec) -> String {
        codec.template.render(prompt.messages.map { (role: $0.role, content: $0.content) }, addGenerationPrompt: true)
    }

    static func row(_ p: PreferencePair, _ codec: TokenizerCodec) -> EngineRow {
        EngineRow(prompt: render(p.prompt, codec), chosen: p.chosen, rejected: p.rejected,
                  promptIds: codec.promptTokens(p.prompt).map(Int.init),
                  chosenIds: (codec.encode(p.chosen) + [codec.eos]).map(Int.init),
                  rejectedIds: (codec.encode(p.rejected) + [codec.eos]).map(Int.init))
    }

    /// The tokenizer of the model the node starts from.
    static func codec(_ context: NodeContext) throws -> TokenizerCodec {
        let dir = context.inputs["policy"] ?? context.inputs["init"] ?? context.inputs["from_reward_model"]
        guard let dir else { throw StageError(context.stage.name, "no model input to take the tokenizer from") }
        return try ModelArtifact.load(from: dir).codec
    }
}

/// The delegated engines' runners: TRL for `sft`, `reward_model`, `dpo`, `opo` and `d2po` (and `rm_accuracy`'s scoring
/// job), OpenRLHF for `ppo`, vLLM
/// for the generation of the sampling kinds (`VLLMChecks.kinds`).
public enum DelegatedRunners {
    public static func all(site: SiteConfig) -> [RunnerKey: any StageRunner] {
        let trl = TRLRunner(inputs: EmbeddedEngineInputs(), site: site)
        var runners = Dictionary(uniqueKeysWithValues: TRLMapping.kinds.map {
            (RunnerKey(kind: $0, engine: "trl"), trl as any StageRunner)
        })
        runners[RunnerKey(kind: "rm_accuracy", engine: "trl")] = TRLScoreRunner(inputs: EmbeddedAccuracyInputs(), models: EmbeddedRolloutInputs(),
                                                                              site: site)
        runners[RunnerKey(kind: "ppo", engine: "openrlhf")] = OpenRLHFRunner(inputs: EmbeddedRolloutInputs(), importer: EmbeddedEngineInputs(),
                                                                             site: site)
        let generation = SampledGeneration.all.mapValues { $0 as any GenerationInputs }.merging(BenchmarkStages.vllm) { a, _ in a }
        for (kind, inputs) in generation {
            runners[RunnerKey(kind: kind, engine: "vllm")] = VLLMRunner(inputs: inputs, models: EmbeddedRolloutInputs(), site: site)
        }
        return runners
    }
}

extension Prompt {
    /// The turns as the engines' text rows carry them (TRL's rows, vLLM's text-mode requests).
    var engineMessages: [[String: String]] { messages.map { ["role": $0.role, "content": $0.content] } }
}
