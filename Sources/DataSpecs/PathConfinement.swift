import Foundation

/// Where the files a recipe or catalogue names may live: in the project (the repository) or the data
/// root, unless the recipe says `allow_outside: true`. Otherwise a shared recipe could copy any readable
/// file on the machine (`/etc/shadow`, a private key) into the store and its results.
public enum PathConfinement {
    /// The data root of a project at `repository`: `PREFLAB_DATA_ROOT`, else `../shared/data` beside it.
    public static func dataRoot(repository: URL) -> URL {
        if let env = ProcessInfo.processInfo.environment["PREFLAB_DATA_ROOT"], !env.isEmpty {
            return URL(fileURLWithPath: env).standardizedFileURL
        }
        return repository.standardizedFileURL.deletingLastPathComponent().appendingPathComponent("shared/data").standardizedFileURL
    }

    /// Why `url` may not be read: after following symbolic links it is inside none of `roots` and
    /// `allowOutside` is false. `owner` says where the flag goes ("the source", "the stage").
    public static func problem(_ url: URL, allowOutside: Bool, roots: [(name: String, url: URL)], owner: String) -> String? {
        if allowOutside { return nil }
        let real = url.resolvingSymlinksInPath().standardizedFileURL.path
        for root in roots {
            let b = root.url.resolvingSymlinksInPath().standardizedFileURL.path
            if real == b || real.hasPrefix(b.hasSuffix("/") ? b : b + "/") { return nil }
        }
        let listed = roots.map { "the \($0.name) (\($0.url.path))" }.joined(separator: " and ")
        return "path \(real) is outside \(listed); move it there, set PREFLAB_DATA_ROOT, or add 'allow_outside: true' to \(owner)"
    }
}
