import Foundation
import XCTest
import Pipeline
import RecipeSpec
import StageSpecs
@testable import Stages

/// The quickstart recipe at its smoke scale, end to end on the real engine, twice.
final class QuickstartTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testSmokeQuickstartRunsThenIsAllCacheHits() throws {
        let recipeFile = Self.root.appendingPathComponent("Recipes/quickstart.yaml").path
        let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(file: recipeFile, overrides: ["scale=smoke"])
        let graph = try StageSpecs.graph(recipe)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-qs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ArtifactStore(root: dir.appendingPathComponent("store"))
        let executor = Executor(store: store, runners: EmbeddedRunners.all, jobs: 2, display: SilentProgressDisplay())

        let first = try executor.run(graph)
        XCTAssertTrue(first.succeeded, "\(first.failures.map { "\($0.stage): \($0.outcome)" })")
        XCTAssertEqual(first.ranCount, graph.nodes.count)

        let table = try TableBuilder.build(recipe: recipe, graph: graph, store: store, command: "test")
        XCTAssertEqual(table.rows, ["sft", "dpo", "ppo"])
        for row in table.rows {
            let mean = try XCTUnwrap(table.cell(row: row, column: "word_collector")?.mean)
            XCTAssertTrue((0...30).contains(mean), "Word Collector reward \(mean) outside 0...30")
        }

        let second = try executor.run(graph)
        XCTAssertEqual(second.ranCount, 0)
        XCTAssertTrue(second.nodes.allSatisfy(\.cached))
    }
}
