import Foundation

/// The files a catalogue load reads, so a pipeline can fingerprint them: a node made from a dataset must
/// not be reused after its entry or its data files change.
extension DatasetCatalog {
    /// The entry's YAML file, then the files its source names (a folder: the files its pattern matches,
    /// sorted) or, for a mixture, every component's files. Missing files are listed too (the load reports
    /// them); an unknown entry or a mixture cycle contributes nothing (the load names the problem).
    public func inputFiles(of name: String) -> [URL] {
        inputFiles(of: name, stack: [])
    }

    /// The files a prompt set reads: its catalogue entry's, its file, or its mix parts' files.
    public func inputFiles(of spec: PromptSetSpec) -> [URL] {
        if let name = spec.dataset { return inputFiles(of: name) }
        if let file = spec.file { return [file.hasPrefix("/") ? URL(fileURLWithPath: file) : root.appendingPathComponent(file)] }
        return (spec.mix ?? []).flatMap { inputFiles(of: $0.prompts) }
    }

    private func inputFiles(of name: String, stack: [String]) -> [URL] {
        guard let entry = entries[name], !stack.contains(name) else { return [] }
        guard case let .success(spec) = entry.spec else { return [entry.file] }
        if spec.layout == .mixture {
            return [entry.file] + (spec.mixture ?? []).flatMap { inputFiles(of: $0.dataset, stack: stack + [name]) }
        }
        guard let source = spec.source else { return [entry.file] }
        let url = sourceURL(source, entry: entry)
        return [entry.file] + (dataSourceFiles(url, pattern: source.pattern)?.map { url.appendingPathComponent($0) } ?? [url])
    }

    /// The folder data may live in besides the repository: the one given to `init`, else
    /// `PathConfinement.dataRoot` (`PREFLAB_DATA_ROOT`, else `../shared/data` beside the repository).
    public var dataRoot: URL {
        explicitDataRoot ?? PathConfinement.dataRoot(repository: root)
    }

    /// Why `url` may not be read: it leaves the repository and the data root without `allow_outside: true`.
    public func confinementProblem(_ url: URL, allowOutside: Bool) -> String? {
        PathConfinement.problem(url, allowOutside: allowOutside, roots: [("repository", root), ("data root", dataRoot)],
                                owner: "the source")
    }

    /// Where an entry's source path points: relative to the entry's file or to the repository root.
    package func sourceURL(_ source: SourceSpec, entry: Entry) -> URL {
        let base = source.relativeTo == "file" ? entry.file.deletingLastPathComponent() : root
        let url = source.path.hasPrefix("/") ? URL(fileURLWithPath: source.path) : base.appendingPathComponent(source.path)
        return URL(fileURLWithPath: lexicallyNormalized(url.path))
    }
}

/// `path` with `.` and `a/..` steps removed by name only. Foundation's `standardizedFileURL` follows symbolic
/// links to resolve `..` on Linux, so a data folder reached through a link (`../shared` a symlink) gave the
/// fingerprint another relative path, and the dataset nodes other hashes, than the same files in a folder.
package func lexicallyNormalized(_ path: String) -> String {
    var parts: [Substring] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
        if part == "." { continue }
        if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
        parts.append(part)
    }
    return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
}

/// For a folder: the names of its files that `pattern` matches, sorted; nil when `url` is not a folder.
package func dataSourceFiles(_ url: URL, pattern: String) -> [String]? {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue else { return nil }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
    return names.filter { dataGlobMatch(pattern, $0) }.sorted()
}

/// `*` and `?` matching on a whole file name.
package func dataGlobMatch(_ pattern: String, _ name: String) -> Bool {
    let p = Array(pattern), n = Array(name)
    var memo: [Int: Bool] = [:]
    func go(_ i: Int, _ j: Int) -> Bool {
        if let m = memo[i * (n.count + 1) + j] { return m }
        var r: Bool
        if i == p.count { r = j == n.count }
        else if p[i] == "*" { r = go(i + 1, j) || (j < n.count && go(i, j + 1)) }
        else { r = j < n.count && (p[i] == "?" || p[i] == n[j]) && go(i + 1, j + 1) }
        memo[i * (n.count + 1) + j] = r
        return r
    }
    return go(0, 0)
}
