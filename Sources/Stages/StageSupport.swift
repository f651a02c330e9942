import Foundation
import Llama
import Pipeline
import Preference
import RecipeSpec
import StageSpecs
import Tensor

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

    /// Runs `models`' products in the stage's `precision` (PrecisionField; absent: fp32). Fails the node with
    /// the reason on a CPU that cannot run bf16: numbers under a bf16 hash are always bf16 numbers.
    func usePrecision(_ models: LlamaModel?...) throws {
        let name = stage.config[PrecisionField.field.name]?.string ?? "fp32"
        guard let precision = Precision(rawValue: name) else { throw StageError(stage.name, "unknown precision '\(name)'") }
        do {
            for m in models { try m?.usePrecision(precision) }
        } catch { throw StageError(stage.name, "\(error)") }
    }

    /// The trainer's settings from the stage config (its fields are declared once, in Hyperparameters).
    func parameters<P: ParameterSet>(_ type: P.Type) throws -> P {
        do { return try P(config: stage.config) } catch { throw StageError(stage.name, "\(error)") }
    }

    /// Training control bridging a trainer's reports into the node's metrics and its resume folder.
    func trainingControl(checkpointEvery: Int = 25) -> TrainingControl {
        let reporter = self.reporter
        return TrainingControl(reporter: { step, total, values in reporter.record(step: step, of: total, values: values) },
                               resumeDirectory: resumeDirectory, checkpointEvery: checkpointEvery,
                               log: { reporter.log($0) })
    }
}
