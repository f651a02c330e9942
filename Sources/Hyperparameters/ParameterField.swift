import RecipeSpec

/// A trainer's settings: a struct whose every field is declared once, in `fields` (recipe key,
/// the property it fills, range, doc). That one list is the stage schema (types and defaults come
/// from the property and a default instance), what `validate` checks at each key's own line, what
/// `preflab stages` prints, and how a resolved stage config becomes the struct the trainer takes.
public protocol ParameterSet: ParameterValue {
    /// The paper defaults.
    init()
    /// Every recipe-settable field, in documentation order.
    static var fields: [ParameterField<Self>] { get }
}

/// A value a parameter field can hold: its schema type, its recipe value, and how it is read back.
public protocol ParameterValue: Sendable {
    static var fieldType: FieldType { get }
    /// The value as a recipe writes it (`null` for an absent optional).
    var configValue: ConfigValue { get }
    /// Reads a (validated) recipe value.
    init(config: ConfigNode) throws
}

/// A recipe value that does not fit its parameter (normally caught by `validate` first).
public struct ParameterError: Error, CustomStringConvertible {
    public var location: SourceLocation?
    public var message: String

    public init(_ node: ConfigNode, expected: String) {
        location = node.location
        message = "got \(node.value.canonicalJSON), expected \(expected)"
    }

    public var description: String { (location.map { "\($0): " } ?? "") + message }
}

/// One field of a `ParameterSet`: its schema entry and how its value moves between recipe and struct.
public struct ParameterField<Root: ParameterSet>: @unchecked Sendable {  // key paths are immutable
    /// Name, type, default (from `Root()`), range and doc.
    public let schema: FieldSchema
    let read: (inout Root, ConfigNode) throws -> Void
    let value: (Root) -> ConfigValue

    /// A `required` field has no default in the schema: a recipe that sets the map must set it.
    public init<V: ParameterValue>(_ name: String, _ path: WritableKeyPath<Root, V>, range: ValueRange? = nil,
                                   required: Bool = false, doc: String) {
        let d = Root()[keyPath: path].configValue
        schema = required ? FieldSchema(name, V.fieldType, range: range, doc: doc)
            : d.isNull ? FieldSchema(name, V.fieldType, optional: true, range: range, doc: doc)
            : FieldSchema(name, V.fieldType, default: d, range: range, doc: doc)
        read = { root, node in root[keyPath: path] = try V(config: node) }
        value = { $0[keyPath: path].configValue }
    }
}

extension ParameterSet {
    /// The schema fields, for a stage kind's schema.
    public static var schemaFields: [FieldSchema] { fields.map(\.schema) }

    public static var fieldType: FieldType { .record(schemaFields) }

    /// Every field's value, absent optionals left out.
    public var configValue: ConfigValue {
        .map(Self.fields.compactMap { f in
            let v = f.value(self)
            return v.isNull ? nil : (key: f.schema.name, value: ConfigNode(v))
        })
    }

    /// The defaults with every key of `config` that names a field applied (other keys, such as a
    /// stage's inputs, are not this struct's; a null keeps the default).
    public init(config: ConfigNode) throws {
        self.init()
        guard config.entries != nil else { throw ParameterError(config, expected: "a map of " + Self.fields.map(\.schema.name).joined(separator: ", ")) }
        for f in Self.fields {
            guard let node = config[f.schema.name], !node.value.isNull else { continue }
            try f.read(&self, node)
        }
    }
}

extension Double: ParameterValue {
    public static var fieldType: FieldType { .double }
    public var configValue: ConfigValue { .double(self) }
    public init(config: ConfigNode) throws {
        guard let d = config.double else { throw ParameterError(config, expected: "a number") }
        self = d
    }
}

extension Int: ParameterValue {
    public static var fieldType: FieldType { .int }
    public var configValue: ConfigValue { .int(self) }
    public init(config: ConfigNode) throws {
        guard let i = config.int else { throw ParameterError(config, expected: "an integer") }
        self = i
    }
}

extension UInt64: ParameterValue {
    public static var fieldType: FieldType { .int }
    public var configValue: ConfigValue { .int(Int(self)) }
    public init(config: ConfigNode) throws {
        guard let i = config.int, i >= 0 else { throw ParameterError(config, expected: "a non-negative integer") }
        self = UInt64(i)
    }
}

extension Bool: ParameterValue {
    public static var fieldType: FieldType { .bool }
    public var configValue: ConfigValue { .bool(self) }
    public init(config: ConfigNode) throws {
        guard let b = config.bool else { throw ParameterError(config, expected: "true or false") }
        self = b
    }
}

extension Optional: ParameterValue where Wrapped: ParameterValue {
    public static var fieldType: FieldType { Wrapped.fieldType }
    public var configValue: ConfigValue { self?.configValue ?? .null }
    public init(config: ConfigNode) throws {
        self = config.value.isNull ? nil : try Wrapped(config: config)
    }
}

/// A string-valued switch: the schema offers exactly its cases.
public protocol ParameterChoice: ParameterValue, RawRepresentable, CaseIterable where RawValue == String {}

extension ParameterChoice {
    public static var fieldType: FieldType { .choice(allCases.map(\.rawValue)) }
    public var configValue: ConfigValue { .string(rawValue) }
    public init(config: ConfigNode) throws {
        guard let s = config.string, let v = Self(rawValue: s) else {
            throw ParameterError(config, expected: "one of " + Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = v
    }
}

/// A list of names from a fixed set (e.g. LoRA target matrices).
public protocol ParameterNames: ParameterValue {
    static var known: [String] { get }
    var names: [String] { get }
    init(names: [String])
}

extension ParameterNames {
    public static var fieldType: FieldType { .list(.choice(known)) }
    public var configValue: ConfigValue { .list(names.map { ConfigNode(.string($0)) }) }
    public init(config: ConfigNode) throws {
        guard let items = config.list?.map(\.string), !items.contains(nil) else {
            throw ParameterError(config, expected: "a list of " + Self.known.joined(separator: ", "))
        }
        self.init(names: items.compactMap { $0 })
    }
}
