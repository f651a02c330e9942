import Foundation
import Yams

/// Reads YAML text into `ConfigNode`s that remember file, line and column of every value and key.
///
/// Scalars follow the YAML 1.2 core schema (so `no`, `on` and `010` stay what they look like):
/// `true`/`false`, decimal/hex/octal (`0o`) ints, floats with `.inf`/`.nan`, `null`/`~`/empty,
/// quoted scalars always strings.
public enum YAMLReader {
    /// Largest recipe text read (bytes); real recipes are a few KiB.
    static let maxBytes = 4 << 20
    /// Most values one document may expand to. Aliases are expanded into copies, so nested aliases
    /// ("billion laughs") grow exponentially; the checked-in recipes hold a few thousand values.
    static let maxValues = 200_000

    /// Parses one YAML document; an empty document reads as an empty map.
    public static func read(_ raw: String, file: String) throws -> ConfigNode {
        // A byte-order mark is not content; libyaml would read it as a stray character.
        let text = raw.hasPrefix("\u{FEFF}") ? String(raw.dropFirst()) : raw
        if text.utf8.count > maxBytes {
            throw RecipeErrors([RecipeError(location: SourceLocation(file: file, line: 1, column: 1), keyPath: "",
                                            message: "the file is \(text.utf8.count) bytes long",
                                            expected: "a recipe of at most \(maxBytes) bytes")])
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text, resolver)
        } catch let error as YamlError {
            throw RecipeErrors([syntaxError(error, text: text, file: file)])
        }
        guard let node else { return .emptyMap(at: SourceLocation(file: file, line: 1, column: 1)) }
        var diags = Diagnostics()
        var budget = maxValues
        let config = convert(node, file: file, keyPath: "", diags: &diags, budget: &budget)
        try diags.throwIfAny()
        return config
    }

    /// Core-schema resolver; the timestamp, merge-key and `=` rules of YAML 1.1 are left out.
    static let resolver: Resolver = {
        var r = Resolver.basic.appending(.null)
        let rules: [(Tag.Name, String)] = [
            (.bool, "^(?:true|True|TRUE|false|False|FALSE)$"),
            (.int, "^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
            (.float, "^(?:[-+]?(?:\\.[0-9]+|[0-9]+(?:\\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$"),
        ]
        for (tag, pattern) in rules {
            if let next = try? r.appending(tag, pattern) { r = next }
        }
        return r
    }()

    /// The value of one scalar written as `text`.
    static func scalarValue(_ text: String, quoted: Bool) -> ConfigValue {
        if quoted { return .string(text) }
        let node = Node.scalar(.init(text, Tag(.implicit, resolver, .default)))
        return typedScalar(text, tag: resolver.resolveTag(of: node))
    }

    static func typedScalar(_ text: String, tag: Tag.Name) -> ConfigValue {
        switch tag {
        case .null: return .null
        case .bool: return .bool(text.lowercased() == "true")
        case .int: return parseInt(text).map(ConfigValue.int) ?? .string(text)
        case .float: return parseDouble(text).map(ConfigValue.double) ?? .string(text)
        default: return .string(text)
        }
    }

    static func parseInt(_ text: String) -> Int? {
        if text.hasPrefix("0x") { return Int(text.dropFirst(2), radix: 16) }
        if text.hasPrefix("0o") { return Int(text.dropFirst(2), radix: 8) }
        return Int(text.hasPrefix("+") ? String(text.dropFirst()) : text)
    }

    static func parseDouble(_ text: String) -> Double? {
        let t = text.lowercased()
        if t.hasSuffix(".inf") { return t.hasPrefix("-") ? -.infinity : .infinity }
        if t == ".nan" { return .nan }
        return Double(t.hasPrefix("+") ? String(t.dropFirst()) : t)
    }

    private static func location(_ mark: Mark?, _ file: String) -> SourceLocation? {
        mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) }
    }

    /// Conversion used by the duplicate-key search (errors there are irrelevant).
    static func convertForSearch(_ node: Node, file: String, diags: inout Diagnostics) -> ConfigNode {
        var budget = maxValues
        return convert(node, file: file, keyPath: "", diags: &diags, budget: &budget)
    }

    /// Converts `node`, spending one unit of `budget` per value; at zero it reports the blow-up once
    /// and returns nulls, so time and memory stay bounded whatever the aliases expand to.
    private static func convert(_ node: Node, file: String, keyPath: String,
                                diags: inout Diagnostics, budget: inout Int) -> ConfigNode {
        let loc = location(node.mark, file)
        budget -= 1
        if budget < 0 {
            if budget == -1 {
                diags.add(loc, keyPath, "the document expands to more than \(maxValues) values (nested YAML aliases?)",
                          expected: "a recipe without alias chains that multiply (write the values out, or use extends:/vars:)")
            }
            return ConfigNode(.null, at: loc)
        }
        switch node {
        case let .scalar(s):
            let tag = Tag.Name(rawValue: node.tag.rawValue)
            if tag == .int, parseInt(s.string) == nil {
                diags.add(loc, keyPath, "integer \(s.string) is out of range",
                          expected: "an integer between \(Int.min) and \(Int.max) (or quote it for a string)")
            }
            return ConfigNode(typedScalar(s.string, tag: tag), at: loc)
        case let .sequence(seq):
            let items = seq.enumerated().map { i, n in
                convert(n, file: file, keyPath: "\(keyPath)[\(i)]", diags: &diags, budget: &budget)
            }
            return ConfigNode(.list(items), at: loc)
        case let .mapping(map):
            var entries: [(key: String, value: ConfigNode)] = []
            for (k, v) in map {
                let keyLoc = location(k.mark, file)
                guard case let .scalar(ks) = k else {
                    diags.add(keyLoc, keyPath, "map keys must be plain names", expected: "a string key")
                    continue
                }
                let path = keyPath.isEmpty ? ks.string : keyPath + "." + ks.string
                var child = convert(v, file: file, keyPath: path, diags: &diags, budget: &budget)
                child.keyLocation = keyLoc
                entries.append((ks.string, child))
            }
            return ConfigNode(.map(entries), at: loc)
        case .alias:
            diags.add(loc, keyPath, "unsupported YAML alias")
            return ConfigNode(.null, at: loc)
        }
    }
}

extension ConfigNode {
    /// Reads one YAML document with the recipe reader's rules (core-schema scalars, locations on every
    /// value and key): the one YAML path for every file PrefLab reads. Syntax errors throw `RecipeErrors`.
    public static func readYAML(_ text: String, file: String) throws -> ConfigNode {
        try YAMLReader.read(text, file: file)
    }
}
