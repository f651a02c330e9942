import Foundation

/// The dataset catalogue: one YAML file per entry in a folder (Recipes/datasets/).
///
/// A broken entry does not stop the catalogue from opening: its error is given by `load` and `validateAll`.
public struct DatasetCatalog: Sendable {
    /// The folder of YAML entries.
    public let directory: URL
    /// The repository root that source paths are relative to.
    public let root: URL
    /// Entry names (YAML file names without `.yaml`), sorted.
    public var names: [String] { entries.keys.sorted() }

    package struct Entry: Sendable {
        package var file: URL
        package var display: String
        package var spec: Result<DatasetSpec, DatasetError>
    }

    package let entries: [String: Entry]

    /// Reads every `*.yaml` / `*.yml` in `directory`. `root` defaults to two levels up when the folder is
    /// `…/Recipes/datasets`, else to the folder itself.
    public init(directory: URL, root: URL? = nil) throws {
        self.directory = directory.standardizedFileURL
        let up = self.directory.deletingLastPathComponent()
        let isStandard = self.directory.lastPathComponent == "datasets" && up.lastPathComponent == "Recipes"
        self.root = (root ?? (isStandard ? up.deletingLastPathComponent() : self.directory)).standardizedFileURL
        let files: [String]
        do { files = try FileManager.default.contentsOfDirectory(atPath: self.directory.path) } catch {
            throw DatasetError(file: directory.path, "cannot read the dataset catalogue folder (\(error.localizedDescription))")
        }
        var entries: [String: Entry] = [:]
        for f in files.sorted() where f.hasSuffix(".yaml") || f.hasSuffix(".yml") {
            let url = self.directory.appendingPathComponent(f)
            let name = String(f[..<(f.lastIndex(of: ".") ?? f.endIndex)])
            let display = Self.relative(url, to: self.root)
            if entries[name] != nil { throw DatasetError(file: display, "two catalogue files define '\(name)'") }
            entries[name] = Entry(file: url, display: display, spec: Result { try Self.parse(url, display, name) }
                .mapError { $0 as? DatasetError ?? DatasetError(file: display, "\($0)") })
        }
        self.entries = entries
    }

    static func parse(_ url: URL, _ display: String, _ name: String) throws -> DatasetSpec {
        guard let data = try? Data(contentsOf: url), let text = String(data: data, encoding: .utf8) else {
            throw DatasetError(file: display, "cannot read the entry as UTF-8 text")
        }
        return try DataSpecParser.parse(try DataYAMLNode.parse(text, file: display), name: name)
    }

    static func relative(_ url: URL, to root: URL) -> String {
        let p = url.standardizedFileURL.path, r = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return p.hasPrefix(r) ? String(p.dropFirst(r.count)) : p
    }

    /// The parsed entry, or its catalogue error.
    public func spec(_ name: String) throws -> DatasetSpec {
        guard let e = entries[name] else {
            let hint = dataDidYouMean(name, names).map { " (did you mean '\($0)'?)" } ?? ""
            throw DatasetError(file: directory.path, "no dataset '\(name)' in the catalogue\(hint)")
        }
        return try e.spec.get()
    }
}
