/// The type a stage field accepts.
public indirect enum FieldType: Sendable, Hashable, CustomStringConvertible {
    case bool, int, double, string
    /// One of a fixed set of strings.
    case choice([String])
    /// A reference to another stage of the recipe, by name; the edge of the pipeline graph.
    /// `kinds` lists acceptable producer kinds (empty: any).
    case stageRef(kinds: [String])
    case list(FieldType)
    /// Free-form nested configuration (validated by the stage itself at run time).
    case any

    public var description: String {
        switch self {
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "number"
        case .string: return "string"
        case let .choice(c): return "one of " + c.joined(separator: ", ")
        case let .stageRef(k): return k.isEmpty ? "stage name" : "name of a stage of kind " + k.joined(separator: " or ")
        case let .list(t): return "list of \(t)"
        case .any: return "any value"
        }
    }
}

/// One field of a stage kind's typed schema.
public struct FieldSchema: Sendable {
    /// The key in the recipe.
    public var name: String
    /// What the key accepts.
    public var type: FieldType
    /// The default; nil means the field is required (unless `optional`).
    public var defaultValue: ConfigValue?
    /// A field that may be absent with no default (e.g. an optional input).
    public var optional: Bool
    /// One line for `preflab stages` and error messages.
    public var doc: String

    public init(_ name: String, _ type: FieldType, default defaultValue: ConfigValue? = nil,
                optional: Bool = false, doc: String) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.optional = optional
        self.doc = doc
    }

    public var isRequired: Bool { defaultValue == nil && !optional }
}

/// A registered stage kind: its name, typed fields and a code version that enters node hashes.
public struct StageSchema: Sendable {
    /// The `kind:` value recipes use.
    public var kind: String
    /// One summary line.
    public var summary: String
    /// The fields, in documentation order.
    public var fields: [FieldSchema]
    /// Bumped when the stage's code changes results, so cached nodes are recomputed.
    public var codeVersion: Int

    public init(kind: String, summary: String, codeVersion: Int = 1, fields: [FieldSchema]) {
        self.kind = kind
        self.summary = summary
        self.fields = fields
        self.codeVersion = codeVersion
    }

    public func field(_ name: String) -> FieldSchema? { fields.first { $0.name == name } }
}

/// The set of stage kinds a recipe may use. Filled by the `Stages` target (or by fakes in tests).
public struct StageCatalog: Sendable {
    public private(set) var schemas: [String: StageSchema] = [:]

    public init(_ schemas: [StageSchema] = []) {
        for s in schemas { register(s) }
    }

    public mutating func register(_ schema: StageSchema) { schemas[schema.kind] = schema }

    public func schema(_ kind: String) -> StageSchema? { schemas[kind] }

    public var kinds: [String] { schemas.keys.sorted() }
}
