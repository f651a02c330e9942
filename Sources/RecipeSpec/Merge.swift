import Foundation

// `extends:` chains and the deep-merge rule shared by extends, scales and overrides.

/// Deep merge: maps merge key by key, recursively; scalars and lists are replaced whole by
/// `over`; a `null` in `over` deletes the key. Returns nil when `over` is null (deletion).
/// `keepNulls` keeps a null as a value instead (merging two `scales:` entries: their nulls delete keys only when the
/// scale is applied).
func deepMerge(_ base: ConfigNode?, _ over: ConfigNode, keepNulls: Bool = false) -> ConfigNode? {
    if over.value.isNull { return keepNulls ? over : nil }
    guard let overEntries = over.entries else { return over }
    let baseEntries = base?.entries ?? []
    var merged: [(key: String, value: ConfigNode)] = []
    for (key, b) in baseEntries {
        guard let o = overEntries.first(where: { $0.key == key })?.value else {
            merged.append((key, b))
            continue
        }
        if let m = deepMerge(b, o, keepNulls: keepNulls) { merged.append((key, m)) }
    }
    for (key, o) in overEntries where !baseEntries.contains(where: { $0.key == key }) {
        if let m = deepMerge(nil, o, keepNulls: keepNulls) { merged.append((key, m)) }
    }
    var out = over
    out.value = .map(merged)
    return out
}

/// Path arithmetic that keeps relative paths relative (locations show paths as the user wrote them).
enum RecipePath {
    /// `relative` resolved against the folder holding `file`, with `.` and `..` folded.
    static func resolve(_ relative: String, from file: String) -> String {
        if relative.hasPrefix("/") { return normalize(relative) }
        let dir = (file as NSString).deletingLastPathComponent
        return normalize(dir.isEmpty ? relative : dir + "/" + relative)
    }

    static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [String] = []
        for p in path.split(separator: "/", omittingEmptySubsequences: true).map(String.init) {
            if p == "." { continue }
            if p == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            if p == "..", absolute { continue }
            parts.append(p)
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}

/// Reads a recipe file and everything it extends into one merged map.
struct ExtendsLoader {
    /// Source text for paths already in memory (`RecipeLoader.load(yaml:file:)`).
    var inMemory: [String: String] = [:]

    /// The merged map of `file` and its `extends:` chain, with `extends` removed.
    func load(_ file: String, chain: [String] = []) throws -> ConfigNode {
        let root = try YAMLReader.read(try text(of: file, requestedAt: nil), file: file)
        guard root.entries != nil else {
            throw RecipeErrors([RecipeError(location: root.location, keyPath: "",
                                            message: "a recipe must be a map of keys",
                                            expected: "a map such as 'name: ...'; got \(root.value.typeDescription)")])
        }
        var base: ConfigNode? = nil
        for (path, location) in try extendsPaths(root) {
            let target = RecipePath.resolve(path, from: file)
            if let start = (chain + [file]).firstIndex(of: target) {
                let cycle = ((chain + [file])[start...] + [target]).joined(separator: " -> ")
                throw RecipeErrors([RecipeError(location: location, keyPath: "extends",
                                                message: "extends cycle: \(cycle)")])
            }
            _ = try text(of: target, requestedAt: location, written: path)
            let parent = try load(target, chain: chain + [file])
            base = Self.merge(base, parent)
        }
        return Self.merge(base, root.removing("extends")) ?? .emptyMap(at: root.location)
    }

    /// The merge rule, except that a `null` inside `scales:` stays: it deletes its key when the scale is applied
    /// (`probe_every: null` in a scale), not while the files are merged, where it would vanish before use.
    static func merge(_ base: ConfigNode?, _ over: ConfigNode) -> ConfigNode? {
        guard let overScales = over["scales"] else { return deepMerge(base, over) }
        let scales = deepMerge(base?["scales"], overScales, keepNulls: true) ?? overScales
        return deepMerge(base, over.removing("scales"))?.setting("scales", to: scales)
    }

    /// The `extends:` entries of a file: one path or a list of paths.
    private func extendsPaths(_ root: ConfigNode) throws -> [(String, SourceLocation?)] {
        guard let ext = root["extends"] else { return [] }
        let items = ext.list ?? [ext]
        if ext.value.isNull { return [] }
        var out: [(String, SourceLocation?)] = []
        var diags = Diagnostics()
        for (i, item) in items.enumerated() {
            guard let s = item.string, !s.isEmpty else {
                let path = ext.list == nil ? "extends" : "extends[\(i)]"
                diags.add(item.location, path, "wrong type: got \(item.value.typeDescription)",
                          expected: "a file path or a list of file paths")
                continue
            }
            out.append((s, item.location))
        }
        try diags.throwIfAny()
        return out
    }

    private func text(of file: String, requestedAt location: SourceLocation?, written: String? = nil) throws -> String {
        if let t = inMemory[file] { return t }
        guard let data = FileManager.default.contents(atPath: file) else {
            let what = written.map { "cannot read extended file '\($0)' (resolved to '\(file)')" }
                ?? "cannot read recipe file '\(file)'"
            throw RecipeErrors([RecipeError(location: location, keyPath: written == nil ? "" : "extends",
                                            message: what, expected: written == nil ? nil : "a path relative to this file")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            let bad = YAMLReader.firstInvalidUTF8(data)
            throw RecipeErrors([RecipeError(location: SourceLocation(file: file, line: bad?.line ?? 1, column: bad?.column ?? 1),
                                            keyPath: "", message: "'\(file)' is not UTF-8 text (invalid byte sequence)",
                                            expected: "a UTF-8 encoded recipe")])
        }
        return text
    }
}
