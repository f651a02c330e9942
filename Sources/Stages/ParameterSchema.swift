import Foundation
import RecipeSpec

/// Stage fields derived from a trainer's `Parameters` struct, so the recipe schema and the
/// trainer's defaults can never drift apart: names, types and defaults come from a default
/// instance, docs from the table the Stages target keeps beside each kind.
enum ParameterSchema {
    /// One field per stored property of `defaults`, in declaration order, keys in snake_case.
    static func fields<P: Encodable>(of defaults: P, docs: [String: String]) -> [FieldSchema] {
        let encoded = encodedDefaults(defaults)
        return Mirror(reflecting: defaults).children.compactMap { child -> FieldSchema? in
            guard let label = child.label else { return nil }
            let key = snakeCase(label)
            let (type, isOptional) = fieldType(of: child.value)
            let value = encoded[key].map { coerce($0, to: type) } ?? .null
            let doc = docs[key] ?? ""
            if isOptional, case .null = value {
                return FieldSchema(key, type, optional: true, doc: doc)
            }
            return FieldSchema(key, type, default: value, doc: doc)
        }
    }

    /// `camelCase` → `camel_case` as `JSONEncoder`'s `convertToSnakeCase` does: an acronym stays one
    /// word (`adaptiveKL` → `adaptive_kl`, `klValue` → `kl_value`).
    static func snakeCase(_ s: String) -> String {
        let chars = Array(s)
        var out = ""
        for (i, ch) in chars.enumerated() {
            if ch.isUppercase, i > 0 {
                let prevLower = chars[i - 1].isLowercase || chars[i - 1].isNumber
                let nextLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if prevLower || (chars[i - 1].isUppercase && nextLower) { out.append("_") }
            }
            out.append(contentsOf: ch.lowercased())
        }
        return out
    }

    /// Recipe key → Swift property name for every stored property of `defaults` (the decoder's key map).
    static func propertyNames<P>(of defaults: P) -> [String: String] {
        Dictionary(Mirror(reflecting: defaults).children.compactMap { c in c.label.map { (snakeCase($0), $0) } },
                   uniquingKeysWith: { a, _ in a })
    }

    private static func fieldType(of value: Any) -> (FieldType, optional: Bool) {
        let m = Mirror(reflecting: value)
        if m.displayStyle == .optional {
            guard let inner = m.children.first?.value else { return (.any, true) }
            return (fieldType(of: inner).0, true)
        }
        switch value {
        case is Bool: return (.bool, false)
        case is Int, is Int32, is UInt64, is UInt32: return (.int, false)
        case is Double, is Float: return (.double, false)
        case is String: return (.string, false)
        default:
            if let raw = value as? any RawRepresentable, raw.rawValue is String { return (.string, false) }
            return (.any, false)
        }
    }

    private static func encodedDefaults<P: Encodable>(_ value: P) -> [String: ConfigValue] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        guard let data = try? encoder.encode(value),
              let json = try? JSONDecoder().decode(JSONValue.self, from: data),
              case let .map(entries) = json.value else { return [:] }
        return Dictionary(entries.map { ($0.key, $0.value.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// A JSON value typed by the field it fills (JSON does not tell 1 from 1.0).
    static func coerce(_ value: ConfigValue, to type: FieldType) -> ConfigValue {
        switch (value, type) {
        case let (.int(i), .double): return .double(Double(i))
        default: return value
        }
    }
}

/// Any JSON document, decoded into the recipe value space.
struct JSONValue: Decodable {
    var value: ConfigValue

    init(from decoder: any Decoder) throws {
        if let c = try? decoder.container(keyedBy: AnyKey.self) {
            value = .map(try c.allKeys.sorted { $0.stringValue < $1.stringValue }.map {
                (key: $0.stringValue, value: ConfigNode(try c.decode(JSONValue.self, forKey: $0).value))
            })
            return
        }
        if var c = try? decoder.unkeyedContainer() {
            var items: [ConfigNode] = []
            while !c.isAtEnd { items.append(ConfigNode(try c.decode(JSONValue.self).value)) }
            value = .list(items)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { value = .null }
        else if let b = try? c.decode(Bool.self) { value = .bool(b) }
        else if let i = try? c.decode(Int.self) { value = .int(i) }
        else if let d = try? c.decode(Double.self) { value = .double(d) }
        else { value = .string(try c.decode(String.self)) }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
