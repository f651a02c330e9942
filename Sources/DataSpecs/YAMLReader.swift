import Foundation
import Yams

/// A YAML node with its file, for typed reads that fail with `file:line:column` messages.
struct DataYAMLNode {
    let node: Node
    let file: String

    /// A problem at this node's position.
    func error(_ message: String) -> DatasetError {
        DatasetError(file: file, line: node.mark?.line, column: node.mark?.column, message)
    }

    /// Parses a whole YAML file; syntax errors keep libyaml's line and column.
    static func parse(_ text: String, file: String) throws -> DataYAMLNode {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw DatasetError(file: file, line: 1, column: 1, "empty catalogue entry: expected a mapping of keys")
            }
            return DataYAMLNode(node: node, file: file)
        } catch let e as DatasetError {
            throw e
        } catch let YamlError.scanner(_, problem, mark, _), let YamlError.parser(_, problem, mark, _) {
            throw DatasetError(file: file, line: mark.line, column: mark.column, "YAML syntax error: \(problem)")
        } catch {
            throw DatasetError(file: file, "YAML error: \(error)")
        }
    }

    /// The mapping's entries by key; an unknown key fails with a did-you-mean suggestion.
    func mapping(_ what: String, allowed: [String]) throws -> [String: DataYAMLNode] {
        guard case .mapping(let m) = node else { throw error("\(what) must be a mapping, found \(kind)") }
        var out: [String: DataYAMLNode] = [:]
        for (k, v) in m {
            let key = k.string ?? ""
            guard allowed.contains(key) else {
                let hint = dataDidYouMean(key, allowed).map { " (did you mean '\($0)'?)" } ?? ""
                throw DataYAMLNode(node: k, file: file).error(
                    "unknown key '\(key)' in \(what)\(hint); allowed: \(allowed.joined(separator: ", "))")
            }
            if out[key] != nil { throw DataYAMLNode(node: k, file: file).error("duplicate key '\(key)' in \(what)") }
            out[key] = DataYAMLNode(node: v, file: file)
        }
        return out
    }

    /// The entries of any mapping (free keys, such as aspect names or score values).
    func pairs(_ what: String) throws -> [(key: String, value: DataYAMLNode)] {
        guard case .mapping(let m) = node else { throw error("\(what) must be a mapping, found \(kind)") }
        return m.map { (key: $0.key.string ?? "", value: DataYAMLNode(node: $0.value, file: file)) }
    }

    func string(_ what: String) throws -> String {
        guard case .scalar(let s) = node else { throw error("\(what) must be a string, found \(kind)") }
        return s.string
    }

    func int(_ what: String) throws -> Int {
        guard case .scalar = node, let v = node.int else { throw error("\(what) must be an integer, found \(shown)") }
        return v
    }

    func double(_ what: String) throws -> Double {
        guard case .scalar = node, let v = node.float else { throw error("\(what) must be a number, found \(shown)") }
        return v
    }

    func bool(_ what: String) throws -> Bool {
        guard case .scalar = node, let v = node.bool else { throw error("\(what) must be true or false, found \(shown)") }
        return v
    }

    func list(_ what: String) throws -> [DataYAMLNode] {
        guard case .sequence(let s) = node else { throw error("\(what) must be a list, found \(kind)") }
        return s.map { DataYAMLNode(node: $0, file: file) }
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

    private var kind: String {
        switch node {
        case .scalar(let s): return "'\(s.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    private var shown: String { kind }
}

/// The allowed word nearest to `word` when it is close enough to be a typo.
package func dataDidYouMean(_ word: String, _ options: [String]) -> String? {
    let best = options.map { ($0, dataEditDistance(word.lowercased(), $0.lowercased())) }.min { $0.1 < $1.1 }
    guard let best, best.1 <= max(2, word.count / 3) else { return nil }
    return best.0
}

/// Levenshtein distance.
package func dataEditDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count)
    for i in 1...a.count {
        var cur = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return prev[b.count]
}
