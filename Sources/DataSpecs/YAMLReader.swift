import Foundation
import RecipeSpec

/// A catalogue entry's YAML node with its file, for typed reads that fail with `file:line:column`
/// messages. The text is read by the recipe reader (`ConfigNode.readYAML`): one YAML path, one set of
/// scalar rules (YAML 1.2 core schema) for every file PrefLab reads.
struct DataYAMLNode {
    let node: ConfigNode
    let file: String

    /// A problem at this node's position.
    func error(_ message: String) -> DatasetError {
        DatasetError(file: file, line: node.location?.line, column: node.location?.column, message)
    }

    /// Parses a whole YAML file; syntax errors keep their line and column.
    static func parse(_ text: String, file: String) throws -> DataYAMLNode {
        let node: ConfigNode
        do {
            node = try ConfigNode.readYAML(text, file: file)
        } catch let e as RecipeErrors {
            let first = e.errors.first
            let problem = (first?.message ?? "\(e)").replacingOccurrences(of: "invalid YAML: ", with: "")
            throw DatasetError(file: file, line: first?.location?.line, column: first?.location?.column, "YAML syntax error: \(problem)")
        }
        if let entries = node.entries, entries.isEmpty {
            throw DatasetError(file: file, line: 1, column: 1, "empty catalogue entry: expected a mapping of keys")
        }
        return DataYAMLNode(node: node, file: file)
    }

    /// The mapping's entries by key; an unknown key fails with a did-you-mean suggestion.
    func mapping(_ what: String, allowed: [String]) throws -> [String: DataYAMLNode] {
        guard let entries = node.entries else { throw error("\(what) must be a mapping, found \(kind)") }
        var out: [String: DataYAMLNode] = [:]
        for (key, value) in entries {
            let at = DataYAMLNode(node: ConfigNode(.null, at: value.keyLocation ?? value.location), file: file)
            guard allowed.contains(key) else {
                let hint = dataDidYouMean(key, allowed).map { " (did you mean '\($0)'?)" } ?? ""
                throw at.error("unknown key '\(key)' in \(what)\(hint); allowed: \(allowed.joined(separator: ", "))")
            }
            if out[key] != nil { throw at.error("duplicate key '\(key)' in \(what)") }
            out[key] = DataYAMLNode(node: value, file: file)
        }
        return out
    }

    /// The entries of any mapping (free keys, such as aspect names or score values).
    func pairs(_ what: String) throws -> [(key: String, value: DataYAMLNode)] {
        guard let entries = node.entries else { throw error("\(what) must be a mapping, found \(kind)") }
        return entries.map { (key: $0.key, value: DataYAMLNode(node: $0.value, file: file)) }
    }

    /// A scalar as text (a number or boolean written unquoted reads as it is written).
    func string(_ what: String) throws -> String {
        switch node.value {
        case let .string(s): return s
        case .int, .double, .bool: return node.value.description
        default: throw error("\(what) must be a string, found \(kind)")
        }
    }

    func int(_ what: String) throws -> Int {
        guard let v = node.int else { throw error("\(what) must be an integer, found \(kind)") }
        return v
    }

    func double(_ what: String) throws -> Double {
        guard let v = node.double else { throw error("\(what) must be a number, found \(kind)") }
        return v
    }

    func bool(_ what: String) throws -> Bool {
        guard let v = node.bool else { throw error("\(what) must be true or false, found \(kind)") }
        return v
    }

    func list(_ what: String) throws -> [DataYAMLNode] {
        guard let items = node.list else { throw error("\(what) must be a list, found \(kind)") }
        return items.map { DataYAMLNode(node: $0, file: file) }
    }

    /// One of `choices`, with a did-you-mean on a near miss.
    func choice(_ what: String, _ choices: [String]) throws -> String {
        let v = try string(what)
        guard choices.contains(v) else {
            let hint = dataDidYouMean(v, choices).map { " (did you mean '\($0)'?)" } ?? ""
            throw error("\(what) must be one of \(choices.joined(separator: ", ")), found '\(v)'\(hint)")
        }
        return v
    }

    /// How a found value is named in messages.
    private var kind: String {
        switch node.value {
        case .map: return "a mapping"
        case .list: return "a list"
        case .null: return "nothing"
        case let .string(s): return "'\(s)'"
        default: return "'\(node.value.description)'"
        }
    }
}

/// The allowed word nearest to `word` when it is close enough to be a typo (the recipe reader's rule).
package func dataDidYouMean(_ word: String, _ options: [String]) -> String? {
    didYouMean(word, among: options)
}
