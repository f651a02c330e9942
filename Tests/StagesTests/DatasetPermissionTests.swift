import Foundation
import XCTest
import Pipeline
import RecipeSpec
import StageSpecs
@testable import Stages

/// The rows a `dataset` node copies into the store keep no permission the source lacks (issue 16:
/// a 0640 `/etc/shadow` once became a world-readable 0644 `pairs.jsonl`).
final class DatasetPermissionTests: XCTestCase {
    func testStoredPairsAreNoMoreReadableThanTheSource() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-perm-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let catalog = dir.appendingPathComponent("datasets"), data = dir.appendingPathComponent("private.jsonl")
        try FileManager.default.createDirectory(at: catalog, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: DatasetStageTests.fixtures.appendingPathComponent("pairs.jsonl"), to: data)
        XCTAssertEqual(chmod(data.path, 0o600), 0)
        try "source: { path: \(data.path), allow_outside: true }\nlayout: pair\nfields: { prompt: prompt, chosen: chosen, rejected: rejected }\n"
            .write(to: catalog.appendingPathComponent("secret.yaml"), atomically: true, encoding: .utf8)
        let yaml = "name: perm\nstages:\n  pairs: { kind: dataset, name: secret, catalog: \(catalog.path) }\n"
        let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: dir.appendingPathComponent("r.yaml").path)
        let graph = try StageSpecs.graph(recipe)
        let store = try ArtifactStore(root: dir.appendingPathComponent("store"))
        XCTAssertTrue(try Executor(store: store, runners: EmbeddedRunners.all).run(graph).succeeded)
        let pairs = store.objectDirectory(for: try XCTUnwrap(graph.nodes.first).hash).appendingPathComponent("pairs.jsonl")
        let mode = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: pairs.path)[.posixPermissions] as? Int)
        XCTAssertEqual(mode & 0o077, 0, String(mode, radix: 8))
    }
}
