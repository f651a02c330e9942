import Foundation

/// One `--set a.b.c=value` from the command line.
struct Override {
    /// The argument as given.
    var raw: String
    /// The dotted key path, split.
    var path: [String]
    /// The value read as YAML (`null` deletes the key).
    var value: ConfigNode

    static let file = "<command line>"

    /// Parses `a.b.c=value`; positions are columns within the argument.
    static func parse(_ raw: String) throws -> Override {
        guard let eq = raw.firstIndex(of: "=") else {
            throw RecipeErrors([RecipeError(location: at(1), keyPath: raw, message: "--set needs KEY=VALUE",
                                            expected: "e.g. --set vars.steps=10")])
        }
        let key = String(raw[..<eq])
        let path = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if path.contains(where: { $0.isEmpty }) {
            throw RecipeErrors([RecipeError(location: at(1), keyPath: key, message: "empty component in --set key path",
                                            expected: "a dotted path such as stages.train.beta")])
        }
        let valueText = String(raw[raw.index(after: eq)...])
        let offset = raw.distance(from: raw.startIndex, to: eq) + 1
        var value: ConfigNode
        if valueText.trimmingCharacters(in: .whitespaces).isEmpty {
            value = ConfigNode(.null, at: at(offset + 1))
        } else {
            do {
                value = try YAMLReader.read(valueText, file: file)
            } catch let e as RecipeErrors {
                let end = raw.count + 1
                throw RecipeErrors(e.errors.map {
                    var x = $0
                    // A value is one line; problems found past its end point just after it.
                    x.location = x.location.map { $0.line == 1 ? shift($0, offset) : at(end) }
                    x.keyPath = key
                    // The parser's context positions count within the value alone; drop them.
                    x.message = x.message.components(separatedBy: " (while ").first ?? x.message
                    return x
                })
            }
            value = shifted(value, by: offset)
        }
        return Override(raw: raw, path: path, value: value)
    }

    static func at(_ column: Int) -> SourceLocation { SourceLocation(file: file, line: 1, column: column) }

    private static func shift(_ l: SourceLocation, _ by: Int) -> SourceLocation {
        SourceLocation(file: l.file, line: l.line, column: l.column + by)
    }

    private static func shifted(_ n: ConfigNode, by: Int) -> ConfigNode {
        var out = n
        out.location = n.location.map { shift($0, by) }
        out.keyLocation = n.keyLocation.map { shift($0, by) }
        switch n.value {
        case let .list(items): out.value = .list(items.map { shifted($0, by: by) })
        case let .map(entries): out.value = .map(entries.map { ($0.key, shifted($0.value, by: by)) })
        default: break
        }
        return out
    }

    /// Checks that the path exists in `doc`, or names a top-level key or a schema field of a stage.
    func validate(in doc: ConfigNode, catalog: StageCatalog) -> RecipeError? {
        var node = doc
        var column = 1
        for (i, comp) in path.enumerated() {
            let prefix = path[..<i].joined(separator: ".")
            let full = path[...i].joined(separator: ".")
            if let child = node[comp] {
                node = child
            } else if let items = node.list, let idx = Int(comp), items.indices.contains(idx) {
                node = items[idx]
            } else if node.entries != nil {
                let isLast = i == path.count - 1
                if isLast, i == 0, RecipeKeys.topLevel.contains(comp) { return nil }
                var candidates = node.keys
                if i == 0 { candidates += RecipeKeys.topLevel }
                if i == 2, path[0] == "stages" {
                    let fields = Override.stageFields(doc["stages"]?[path[1]], catalog: catalog)
                    if isLast, fields.contains(comp) { return nil }
                    candidates += fields
                }
                let suggestion = didYouMean(comp, among: candidates).map { prefix.isEmpty ? $0 : prefix + "." + $0 }
                return RecipeError(location: Override.at(column), keyPath: full,
                                   message: "--set names a key that is not in the recipe",
                                   expected: suggestion == nil ? "an existing key path or a field of the stage's kind" : nil,
                                   suggestion: suggestion)
            } else {
                return RecipeError(location: Override.at(column), keyPath: full,
                                   message: "--set goes inside \(node.value.typeDescription), which has no keys")
            }
            column += comp.count + 1
        }
        return nil
    }

    /// Field names the stage's kind accepts; every catalog field when the kind is not yet known.
    static func stageFields(_ stage: ConfigNode?, catalog: StageCatalog) -> [String] {
        if let kind = stage?["kind"]?.string, let schema = catalog.schema(kind) {
            return ["kind"] + RecipeKeys.stageEngine + schema.fields.map(\.name)
        }
        return ["kind"] + RecipeKeys.stageEngine + catalog.kinds.flatMap { catalog.schema($0)?.fields.map(\.name) ?? [] }
    }

    /// `doc` with the value set (created where missing), or the key deleted for `null`.
    func apply(to doc: ConfigNode) -> ConfigNode {
        Override.set(path[...], value, in: doc)
    }

    private static func set(_ path: ArraySlice<String>, _ value: ConfigNode, in node: ConfigNode) -> ConfigNode {
        guard let key = path.first else { return value }
        if var items = node.list, let idx = Int(key), items.indices.contains(idx) {
            items[idx] = set(path.dropFirst(), value, in: items[idx])
            var out = node
            out.value = .list(items)
            return out
        }
        let base = node.entries == nil ? ConfigNode.emptyMap(at: node.location) : node
        if path.count == 1, value.value.isNull { return base.removing(key) }
        let child = base[key] ?? .emptyMap(at: value.location)
        var updated = set(path.dropFirst(), value, in: child)
        updated.keyLocation = child.keyLocation ?? value.location
        return base.setting(key, to: updated)
    }
}

/// The keys a recipe may hold.
enum RecipeKeys {
    static let topLevel = ["name", "extends", "vars", "scale", "scales", "matrix", "exclude", "per_cell",
                           "stages", "table", "plots", "claims", "findings_note", "description", "engine"]
    /// Keys a `scales:` entry may override.
    static let inScale = ["name", "engine", "vars", "matrix", "exclude", "per_cell", "stages", "table", "plots", "description"]
    static let table = ["rows", "columns", "value", "aggregate", "paper"]
    /// Keys of one `plots:` entry.
    /// Keys of a stage besides its kind's fields: which engine runs it and that engine's options.
    static let stageEngine = ["engine", "engine_args"]
    static let plot = ["stage", "x", "y", "lines", "panels", "aggregate", "title", "x_label", "y_label", "value", "where"]
}
