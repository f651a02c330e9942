import Foundation
import RecipeSpec

/// A refusal or a bad value found while mapping a stage onto an engine: names the stage, the key and why.
public struct EngineError: Error, CustomStringConvertible, Equatable {
    /// `file:line:column: ` of the stage (or of the key) when known, else empty.
    public var location: String
    /// `stages.NAME.key` or `stages.NAME`.
    public var path: String
    /// The stage's config key at fault (nil: the stage as a whole), as `validate` reports it.
    public var key: String?
    /// What is wrong and what would work.
    public var message: String

    public init(_ stage: ResolvedStage, key: String? = nil, _ message: String) {
        let node = key.flatMap { stage.config.at(path: $0) }
        self.location = (node?.location ?? stage.location).map { "\($0): " } ?? ""
        self.path = "stages.\(stage.name)" + (key.map { ".\($0)" } ?? "")
        self.key = key
        self.message = message
    }

    public var description: String { "\(location)\(path): \(message)" }
}

/// Typed reads of a resolved stage's config (defaults are already filled by the resolver).
struct StageValues {
    let stage: ResolvedStage

    init(_ stage: ResolvedStage) { self.stage = stage }

    func node(_ path: String) -> ConfigNode? {
        stage.config.at(path: path).flatMap { $0.value.isNull ? nil : $0 }
    }

    func double(_ path: String) throws -> Double {
        guard let v = node(path)?.double else { throw EngineError(stage, key: path, "expected a number") }
        return v
    }

    func int(_ path: String) throws -> Int {
        guard let v = node(path)?.int else { throw EngineError(stage, key: path, "expected an integer") }
        return v
    }

    func string(_ path: String) throws -> String {
        guard let v = node(path)?.string else { throw EngineError(stage, key: path, "expected a string") }
        return v
    }

    func bool(_ path: String) throws -> Bool {
        guard let v = node(path)?.bool else { throw EngineError(stage, key: path, "expected true or false") }
        return v
    }

    func optionalInt(_ path: String) throws -> Int? { node(path) == nil ? nil : try int(path) }
    func optionalDouble(_ path: String) throws -> Double? { node(path) == nil ? nil : try double(path) }
    func has(_ path: String) -> Bool { node(path) != nil }
}
