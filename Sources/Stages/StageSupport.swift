import Foundation
import Pipeline
import Preference
import RecipeSpec

/// A stage kind: the schema recipes are checked against and the runner that executes it.
public struct StageKind: Sendable {
    public let schema: StageSchema
    public let runner: any StageRunner
    /// Checks a resolved stage beyond its schema (e.g. that trainer parameters decode), at validate time.
    let check: @Sendable (ResolvedStage) throws -> Void

    init(schema: StageSchema, runner: any StageRunner, check: @escaping @Sendable (ResolvedStage) throws -> Void = { _ in }) {
        self.schema = schema
        self.runner = runner
        self.check = check
    }

    /// A kind whose trainer `Parameters` (the recipe keys `keys`, mapped to their properties) are
    /// decoded at validate time.
    init<P: Decodable>(schema: StageSchema, runner: any StageRunner, parameters: P.Type, keys names: [String: String]) {
        self.init(schema: schema, runner: runner) { stage in
            _ = try StageConfig.decode(P.self, from: stage.config, keys: names, stage: stage.name)
        }
    }
}

/// A stage's config could not be used at run time.
public struct StageError: Error, CustomStringConvertible {
    public var stage: String
    public var message: String

    public init(_ stage: String, _ message: String) {
        self.stage = stage
        self.message = message
    }

    public var description: String { "stage '\(stage)': \(message)" }
}

extension NodeContext {
    /// The value of a config field the schema guarantees (defaults are filled by the resolver).
    func value(_ key: String) throws -> ConfigValue {
        guard let node = stage.config[key] else { throw StageError(stage.name, "missing field '\(key)'") }
        return node.value
    }

    func string(_ key: String) throws -> String {
        guard let s = try value(key).string else { throw StageError(stage.name, "'\(key)' must be a string") }
        return s
    }

    func int(_ key: String) throws -> Int {
        guard let i = try value(key).int else { throw StageError(stage.name, "'\(key)' must be an integer") }
        return i
    }

    func double(_ key: String) throws -> Double {
        guard let d = try value(key).double else { throw StageError(stage.name, "'\(key)' must be a number") }
        return d
    }

    func bool(_ key: String) throws -> Bool {
        guard let b = try value(key).bool else { throw StageError(stage.name, "'\(key)' must be true or false") }
        return b
    }

    /// The artifact folder of the input stage named by `field`.
    func requiredInput(_ field: String) throws -> URL {
        guard let url = inputs[field] else { throw StageError(stage.name, "input '\(field)' is not connected") }
        return url
    }

    /// Decodes the config fields in `keys` (recipe key → property) into a trainer's `Parameters`.
    func parameters<P: Decodable>(_ type: P.Type, keys: [String: String]) throws -> P {
        try StageConfig.decode(type, from: stage.config, keys: keys, stage: stage.name)
    }

    /// Training control bridging a trainer's reports into the node's metrics and its resume folder.
    func trainingControl(checkpointEvery: Int = 25) -> TrainingControl {
        let reporter = self.reporter
        return TrainingControl(reporter: { step, total, values in reporter.record(step: step, of: total, values: values) },
                               resumeDirectory: resumeDirectory, checkpointEvery: checkpointEvery)
    }
}

/// Decoding of stage configs into Codable parameter structs.
enum StageConfig {
    /// `keys` maps each recipe key this decoding takes to the Swift property it fills; nested maps
    /// use plain snake_case → camelCase.
    static func decode<P: Decodable>(_ type: P.Type, from config: ConfigNode, keys: [String: String], stage: String) throws -> P {
        let entries = (config.entries ?? []).filter { keys[$0.key] != nil && !$0.value.value.isNull }
        let json = ConfigValue.map(entries).canonicalJSON
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .custom { path in
            let last = path.last?.stringValue ?? ""
            return CodingName(path.count == 1 ? keys[last] ?? last : camelCase(last))
        }
        do {
            return try decoder.decode(P.self, from: Data(json.utf8))
        } catch let DecodingError.dataCorrupted(ctx) {
            throw StageError(stage, ctx.debugDescription)
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx) {
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw StageError(stage, "\(path): \(ctx.debugDescription)")
        } catch {
            throw StageError(stage, "\(error)")
        }
    }
}

/// A coding key made from a string.
private struct CodingName: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// `label_smoothing` → `labelSmoothing`.
private func camelCase(_ s: String) -> String {
    let parts = s.split(separator: "_")
    guard let first = parts.first else { return s }
    return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
}

/// Kinds that produce a policy (an LM-head model with its tokenizer); an `hf_model` folder may hold a
/// reward model instead, which validate reports (`HFModelStage.wiringProblems`).
let policyKinds = ["pretrained", "hf_model", "sft", "dpo", "ppo", "opo", "d2po"]

/// Kinds that produce preference pairs (`pairs.jsonl`, `held_out.jsonl`).
let preferenceKinds = ["task_preferences", "world_preferences", "dataset", "concat"]

/// Kinds that produce policy-training prompts (`prompts.jsonl`).
let promptKinds = ["task_prompts", "prompt_set", "concat"]

/// Kinds that produce a reward model (a scalar-head model with its tokenizer); see `policyKinds` on `hf_model`.
let rewardModelKinds = ["reward_model", "hf_model"]
