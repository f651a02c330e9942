/// What a stage produces, and so what an input field may take: the type of an edge of the graph.
public struct ArtifactType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A language model with an LM head and the tokenizer it speaks.
    public static let policy = ArtifactType(rawValue: "policy")
    /// A model with a scalar head (Bradley–Terry).
    public static let rewardModel = ArtifactType(rawValue: "reward_model")
    /// Preference pairs, training and held out.
    public static let preferences = ArtifactType(rawValue: "preferences")
    /// Policy-training prompts.
    public static let prompts = ArtifactType(rawValue: "prompts")
    /// A tokenizer and chat template.
    public static let tokenizer = ArtifactType(rawValue: "tokenizer")
    /// Metrics and samples of an evaluation.
    public static let evaluation = ArtifactType(rawValue: "evaluation")

    public var description: String { rawValue }
}

/// The type a stage field accepts.
public indirect enum FieldType: Sendable, Hashable, CustomStringConvertible {
    case bool, int, double, string
    /// One of a fixed set of strings.
    case choice([String])
    /// A reference to another stage of the recipe, by name; the edge of the pipeline graph. The
    /// referenced stage must produce one of `accepts` (empty: any stage).
    case stageRef(accepts: [ArtifactType])
    case list(FieldType)
    /// A nested map with its own typed keys (e.g. a loss's options). Keys and values are checked;
    /// absent keys are not filled in (the consumer keeps its defaults), so a map is hashed as written.
    case record([FieldSchema])
    /// Free-form nested configuration (validated by the stage itself at run time).
    case any

    public var description: String {
        switch self {
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "number"
        case .string: return "string"
        case let .choice(c): return "one of " + c.joined(separator: ", ")
        case let .stageRef(a): return a.isEmpty ? "stage name" : "name of a stage that outputs " + a.map(\.rawValue).joined(separator: " or ")
        case let .list(t): return "list of \(t)"
        case let .record(fields): return "map of { " + fields.map(\.name).joined(separator: ", ") + " }"
        case .any: return "any value"
        }
    }
}

/// Bounds of a numeric field, checked by `validate` at the value's own line.
public struct ValueRange: Sendable, Hashable, CustomStringConvertible {
    public var min: Double?
    public var max: Double?
    /// Whether `min` itself is excluded (e.g. a learning rate > 0).
    public var minExclusive: Bool

    public init(min: Double? = nil, max: Double? = nil, minExclusive: Bool = false) {
        self.min = min
        self.max = max
        self.minExclusive = minExclusive
    }

    /// > 0.
    public static let positive = ValueRange(min: 0, minExclusive: true)
    /// ≥ 0.
    public static let nonNegative = ValueRange(min: 0)
    /// ≥ 1 (counts, batch sizes).
    public static let atLeastOne = ValueRange(min: 1)
    /// In [0, 1] (fractions, probabilities).
    public static let unit = ValueRange(min: 0, max: 1)
    /// In (0, 1] (nucleus mass).
    public static let unitPositive = ValueRange(min: 0, max: 1, minExclusive: true)

    public func contains(_ x: Double) -> Bool {
        if let min, minExclusive ? x <= min : x < min { return false }
        if let max, x > max { return false }
        return true
    }

    public var description: String {
        func n(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)" }
        switch (min, max) {
        case let (lo?, hi?): return "in \(minExclusive ? "(" : "[")\(n(lo)), \(n(hi))]"
        case let (lo?, nil): return (minExclusive ? "> " : "≥ ") + n(lo)
        case let (nil, hi?): return "≤ " + n(hi)
        default: return "any number"
        }
    }
}

/// One field of a stage kind's typed schema.
public struct FieldSchema: Sendable, Hashable {
    /// The key in the recipe.
    public var name: String
    /// What the key accepts.
    public var type: FieldType
    /// The default; nil means the field is required (unless `optional`).
    public var defaultValue: ConfigValue?
    /// A field that may be absent with no default (e.g. an optional input).
    public var optional: Bool
    /// Bounds of a numeric value (of each element, for a list).
    public var range: ValueRange?
    /// One line for `preflab stages` and error messages.
    public var doc: String
    /// Whether the value enters the node hash. Only a field that provably cannot change the node's
    /// outputs is left out (e.g. `recompute`, whose gradients are bit-identical either way): a run with
    /// it set reuses, and makes, the same nodes as one without.
    public var hashed: Bool
    /// For an optional field added after nodes were hashed: the value its absence means. A recipe that
    /// writes it resolves as if the key were absent, so the node hash changes only for other values.
    public var absentMeans: ConfigValue?

    public init(_ name: String, _ type: FieldType, default defaultValue: ConfigValue? = nil,
                optional: Bool = false, absentMeans: ConfigValue? = nil, range: ValueRange? = nil,
                hashed: Bool = true, doc: String) {
        precondition(absentMeans == nil || (optional && defaultValue == nil), "absentMeans is for optional fields without a default")
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.optional = optional
        self.absentMeans = absentMeans
        self.range = range
        self.hashed = hashed
        self.doc = doc
    }

    public var isRequired: Bool { defaultValue == nil && !optional }
}

/// A problem a kind's engine check finds in a resolved stage: the key at fault (reported at its
/// line) and what is wrong.
public struct StageProblem: Sendable, Hashable {
    /// The stage's config key at fault (`engine` for the engine choice itself).
    public var key: String
    public var message: String

    public init(key: String, _ message: String) {
        self.key = key
        self.message = message
    }
}

/// One engine a stage kind runs on, with the check of options that engine cannot honour.
public struct EngineSupport: Sendable {
    /// The engine's name (`embedded`, `trl`, `openrlhf`, ...).
    public var engine: String
    /// Problems of a resolved stage on this engine (e.g. an option the engine has no equivalent
    /// for); the engine's runner fills this in, the default finds none.
    public var check: @Sendable (ResolvedStage) -> [StageProblem]

    public init(_ engine: String, check: @escaping @Sendable (ResolvedStage) -> [StageProblem] = { _ in [] }) {
        self.engine = engine
        self.check = check
    }
}

/// An engine as node hashes see it: a delegated node's hash covers its name, version, bridge code
/// version and precision (embedded nodes add nothing).
public struct EngineDescriptor: Sendable, Hashable {
    public var name: String
    /// The engine's major.minor version the bridge was written against.
    public var version: String
    /// Bumped when PrefLab's bridge to the engine (export, job file, import) changes results.
    public var bridgeVersion: Int
    /// Kinds whose bridge changed results on its own (e.g. a new sampler for the online kinds): their nodes
    /// hash with this version instead, so the other kinds' stored nodes stay valid.
    public var kindBridgeVersions: [String: Int]
    /// The default numeric precision; `engine_args.precision` overrides it.
    public var precision: String
    /// One line for `preflab stages`.
    public var summary: String

    public init(name: String, version: String, bridgeVersion: Int, kindBridgeVersions: [String: Int] = [:],
                precision: String, summary: String) {
        self.name = name
        self.version = version
        self.bridgeVersion = bridgeVersion
        self.kindBridgeVersions = kindBridgeVersions
        self.precision = precision
        self.summary = summary
    }

    /// The bridge version a node of `kind` hashes with.
    public func bridgeVersion(for kind: String) -> Int { kindBridgeVersions[kind] ?? bridgeVersion }

    /// The engine every kind has and no recipe needs to name; its nodes' hashes carry no engine.
    public static let embeddedName = "embedded"
}

/// A registered stage kind: its name, typed fields, what it produces, the engines it runs on and a
/// code version that enters node hashes.
public struct StageSchema: Sendable {
    /// The `kind:` value recipes use.
    public var kind: String
    /// One summary line.
    public var summary: String
    /// The fields, in documentation order.
    public var fields: [FieldSchema]
    /// Bumped when the stage's code changes results, so cached nodes are recomputed.
    public var codeVersion: Int
    /// What the stage's artifact is (a `concat` makes either of two); empty: nothing another stage takes.
    public var outputs: [ArtifactType]
    /// What one stage of this kind outputs when its own files decide (an `hf_model` folder is a policy or a
    /// reward model as its config.json says), with the reason for messages; nil (or a nil result): `outputs`.
    public var outputsOf: (@Sendable (ResolvedStage) -> (types: [ArtifactType], reason: String)?)?
    /// The engines that run this kind; `embedded` first.
    public var engines: [EngineSupport]
    /// Rules across fields the types cannot say (e.g. a task that needs two more inputs), run by `validate`.
    public var check: @Sendable (ResolvedStage) -> [StageProblem]

    public init(kind: String, summary: String, codeVersion: Int = 1, outputs: [ArtifactType] = [],
                outputsOf: (@Sendable (ResolvedStage) -> (types: [ArtifactType], reason: String)?)? = nil,
                engines: [EngineSupport] = [EngineSupport(EngineDescriptor.embeddedName)],
                check: @escaping @Sendable (ResolvedStage) -> [StageProblem] = { _ in [] }, fields: [FieldSchema]) {
        self.kind = kind
        self.summary = summary
        self.fields = fields
        self.codeVersion = codeVersion
        self.outputs = outputs
        self.outputsOf = outputsOf
        self.engines = engines
        self.check = check
    }

    public func field(_ name: String) -> FieldSchema? { fields.first { $0.name == name } }

    /// The support entry of `engine`, or nil when this kind does not run there.
    public func engine(_ name: String) -> EngineSupport? { engines.first { $0.engine == name } }
}

/// The set of stage kinds a recipe may use and the engines that exist. Filled by the stage
/// catalogue (`StageSpecs`) or by fakes in tests.
public struct StageCatalog: Sendable {
    public private(set) var schemas: [String: StageSchema] = [:]
    /// Every engine a recipe may name, by name (`embedded` always).
    public private(set) var engines: [String: EngineDescriptor] = [
        EngineDescriptor.embeddedName: EngineDescriptor(name: EngineDescriptor.embeddedName, version: "", bridgeVersion: 0,
                                                        precision: "fp32", summary: "PrefLab's own CPU engine."),
    ]

    public init(_ schemas: [StageSchema] = [], engines: [EngineDescriptor] = []) {
        for s in schemas { register(s) }
        for e in engines { self.engines[e.name] = e }
    }

    public mutating func register(_ schema: StageSchema) { schemas[schema.kind] = schema }

    public func schema(_ kind: String) -> StageSchema? { schemas[kind] }

    public var kinds: [String] { schemas.keys.sorted() }

    /// Engine names, `embedded` first.
    public var engineNames: [String] {
        [EngineDescriptor.embeddedName] + engines.keys.filter { $0 != EngineDescriptor.embeddedName }.sorted()
    }
}
