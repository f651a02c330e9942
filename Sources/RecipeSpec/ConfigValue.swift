/// Where a value came from in a recipe file: file, 1-based line and column.
public struct SourceLocation: Hashable, Codable, Sendable, CustomStringConvertible {
    /// The file path as the user named it (relative paths stay relative).
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A configuration value read from YAML (or a `--set` override), carrying where it came from.
///
/// Equality and hashing ignore `location` and map key order, so that reordering keys or
/// moving a value within a file changes no content hash.
public struct ConfigNode: Sendable, CustomStringConvertible {
    /// The value.
    public var value: ConfigValue
    /// Where the value was written; nil for defaults filled in from a stage schema.
    public var location: SourceLocation?
    /// Where the key holding this value was written, for entries of a map; errors about the
    /// key itself (unknown, duplicate) point here. Ignored by equality and hashing.
    public var keyLocation: SourceLocation?

    public init(_ value: ConfigValue, at location: SourceLocation? = nil, keyAt keyLocation: SourceLocation? = nil) {
        self.value = value
        self.location = location
        self.keyLocation = keyLocation
    }

    public var description: String { value.description }
}

extension ConfigNode: Hashable {
    public static func == (a: ConfigNode, b: ConfigNode) -> Bool { a.value == b.value }
    public func hash(into h: inout Hasher) { h.combine(value) }
}

/// The JSON-like value space of recipes.
public indirect enum ConfigValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([ConfigNode])
    /// Keys in file order; order matters for display only, never for equality or hashing.
    case map([(key: String, value: ConfigNode)])

    public static func == (a: ConfigValue, b: ConfigValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.list(x), .list(y)): return x == y
        case let (.map(x), .map(y)):
            guard x.count == y.count else { return false }
            let ys = Dictionary(y.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            return x.allSatisfy { ys[$0.key] == $0.value }
        default: return false
        }
    }

    public func hash(into h: inout Hasher) {
        switch self {
        case .null: h.combine(0)
        case let .bool(v): h.combine(1); h.combine(v)
        case let .int(v): h.combine(2); h.combine(v)
        case let .double(v): h.combine(3); h.combine(v)
        case let .string(v): h.combine(4); h.combine(v)
        case let .list(v): h.combine(5); h.combine(v)
        case let .map(v):
            h.combine(6)
            for entry in v.sorted(by: { $0.key < $1.key }) { h.combine(entry.key); h.combine(entry.value) }
        }
    }

    /// Canonical JSON: keys sorted, no whitespace; the input to content hashes.
    public var canonicalJSON: String {
        switch self {
        case .null: return "null"
        case let .bool(v): return v ? "true" : "false"
        case let .int(v): return String(v)
        case let .double(v):
            if v.isFinite, v == v.rounded(), abs(v) < 1e15 { return String(format: "%.1f", v) }
            // JSON has no NaN or infinity; these strings keep node.json valid (and decoders map them back).
            if v.isNaN { return "\"NaN\"" }
            if v.isInfinite { return v < 0 ? "\"-Infinity\"" : "\"Infinity\"" }
            return "\(v)"
        case let .string(v): return ConfigValue.jsonQuote(v)
        case let .list(v): return "[" + v.map(\.value.canonicalJSON).joined(separator: ",") + "]"
        case let .map(v):
            let body = v.sorted { $0.key < $1.key }
                .map { ConfigValue.jsonQuote($0.key) + ":" + $0.value.value.canonicalJSON }
            return "{" + body.joined(separator: ",") + "}"
        }
    }

    public var description: String {
        switch self {
        case let .string(v): return v
        default: return canonicalJSON
        }
    }

    static func jsonQuote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

import Foundation
