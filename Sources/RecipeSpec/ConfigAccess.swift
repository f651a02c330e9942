import Foundation

// Typed reads of configuration values, for stage runners and the loader.

extension ConfigValue {
    /// The string, if this is a string.
    public var string: String? { if case let .string(s) = self { return s }; return nil }
    /// The integer, if this is an int.
    public var int: Int? { if case let .int(i) = self { return i }; return nil }
    /// The number, if this is a double or an int.
    public var double: Double? {
        switch self {
        case let .double(d): return d
        case let .int(i): return Double(i)
        default: return nil
        }
    }
    /// The flag, if this is a bool.
    public var bool: Bool? { if case let .bool(b) = self { return b }; return nil }
    /// The elements, if this is a list.
    public var list: [ConfigNode]? { if case let .list(l) = self { return l }; return nil }
    /// The entries in written order, if this is a map.
    public var entries: [(key: String, value: ConfigNode)]? { if case let .map(m) = self { return m }; return nil }
    /// True for `.null`.
    public var isNull: Bool { if case .null = self { return true }; return false }
    /// True for maps and lists.
    var isCollection: Bool {
        switch self {
        case .list, .map: return true
        default: return false
        }
    }
}

extension ConfigNode {
    /// The value of `key`, if this is a map holding it.
    public subscript(_ key: String) -> ConfigNode? {
        value.entries?.first { $0.key == key }?.value
    }
    /// The value at a dotted path (`loss.kind`) through nested maps, if every map on the way holds its part.
    public func at(path: String) -> ConfigNode? {
        var node: ConfigNode? = self
        for part in path.split(separator: ".") { node = node?[String(part)] }
        return node
    }
    /// See `ConfigValue.string`.
    public var string: String? { value.string }
    /// See `ConfigValue.int`.
    public var int: Int? { value.int }
    /// See `ConfigValue.double` (ints read as doubles).
    public var double: Double? { value.double }
    /// See `ConfigValue.bool`.
    public var bool: Bool? { value.bool }
    /// See `ConfigValue.list`.
    public var list: [ConfigNode]? { value.list }
    /// See `ConfigValue.entries`.
    public var entries: [(key: String, value: ConfigNode)]? { value.entries }
    /// The keys of a map in written order (empty for other values).
    public var keys: [String] { value.entries?.map(\.key) ?? [] }

    /// An empty map at `location`.
    static func emptyMap(at location: SourceLocation? = nil) -> ConfigNode {
        ConfigNode(.map([]), at: location)
    }

    /// This map with `key` set to `node` (replacing in place, or appended).
    func setting(_ key: String, to node: ConfigNode) -> ConfigNode {
        guard var entries = value.entries else { return self }
        if let i = entries.firstIndex(where: { $0.key == key }) {
            entries[i].value = node
        } else {
            entries.append((key, node))
        }
        var copy = self
        copy.value = .map(entries)
        return copy
    }

    /// This map without `key`.
    func removing(_ key: String) -> ConfigNode {
        guard let entries = value.entries else { return self }
        var copy = self
        copy.value = .map(entries.filter { $0.key != key })
        return copy
    }
}

/// How scalars are written as text: in YAML output, interpolated strings and messages.
enum ScalarText {
    /// A double that reads back as a double (always has a `.`, or is `.inf`/`.nan`).
    static func double(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        var s = "\(d)"
        if !s.contains(".") {
            if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
                s.insert(contentsOf: ".0", at: e)
            } else {
                s += ".0"
            }
        }
        return s
    }

    /// The text a scalar contributes to an interpolated string; nil for null and collections.
    static func interpolated(_ v: ConfigValue) -> String? {
        switch v {
        case let .string(s): return s
        case let .int(i): return String(i)
        case let .double(d): return double(d)
        case let .bool(b): return b ? "true" : "false"
        case .null, .list, .map: return nil
        }
    }

    /// A scalar as YAML source text, quoting strings that would otherwise read back differently.
    static func yaml(_ v: ConfigValue) -> String {
        switch v {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .double(d): return double(d)
        case let .string(s): return isPlainSafe(s) ? s : ConfigValue.jsonQuote(s)
        case .list, .map: return v.canonicalJSON
        }
    }

    /// True when `s` can be written unquoted and still reads back as the same string.
    static func isPlainSafe(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return false }
        guard first != " ", last != " " else { return false }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_-./+ ()"))
        guard s.unicodeScalars.allSatisfy({ allowed.contains($0) && $0.isASCII }) else { return false }
        guard !"-.+( ".unicodeScalars.contains(first) else { return false }
        return YAMLReader.scalarValue(s, quoted: false) == .string(s)
    }
}
