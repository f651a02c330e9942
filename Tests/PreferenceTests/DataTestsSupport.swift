import Foundation
import XCTest
@testable import Preference

/// A throwaway catalogue folder whose entries and data files the test writes.
struct TempCatalog {
    let dir: URL

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/data")

    /// The absolute path of a committed fixture.
    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    /// Writes `NAME.yaml`.
    func entry(_ name: String, _ yaml: String) throws {
        try yaml.write(to: dir.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
    }

    /// Writes a data file next to the entries and returns its absolute path.
    @discardableResult
    func data(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    @discardableResult
    func data(_ name: String, _ text: String) throws -> String { try data(name, Array(text.utf8)) }

    /// Sources may live in the test's folder or among the committed fixtures (the data root).
    func catalog() throws -> DatasetCatalog { try DatasetCatalog(directory: dir, root: dir, dataRoot: Self.fixtures) }

    func load(_ name: String, seed: UInt64 = 7) throws -> LoadedDataset { try catalog().load(name, seed: seed) }
}

/// A pair entry over `path` with prompt/chosen/rejected fields and extra YAML lines.
func pairEntry(_ path: String, _ extra: String = "", source: String = "") -> String {
    """
    source: {path: "\(path)"\(source.isEmpty ? "" : ", " + source)}
    layout: pair
    fields: {prompt: prompt, chosen: chosen, rejected: rejected}
    \(extra)
    """
}
