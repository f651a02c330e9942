import Foundation
import XCTest
import Pipeline
import RecipeSpec
import StageSpecs
@testable import Stages

/// A node whose batch does not fit in memory fails as a node: its dependents are skipped, the other
/// nodes run, and the process lives (it used to abort the whole run).
final class MemoryLimitRunTests: XCTestCase {
    override func tearDown() { unsetenv("PREFLAB_MEMORY_LIMIT") }

    func testATrainerBeyondTheMemoryLimitFailsItsNodeAndTheRunGoesOn() throws {
        // The quickstart's smoke graph with 1 KiB of memory: every forward is refused before allocating.
        setenv("PREFLAB_MEMORY_LIMIT", "1K", 1)
        let file = QuickstartTests.root.appendingPathComponent("Recipes/quickstart.yaml").path
        let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(file: file, overrides: ["scale=smoke"])
        let graph = try StageSpecs.graph(recipe)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-mem-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try Executor(store: try ArtifactStore(root: dir), runners: EmbeddedRunners.all, jobs: 1,
                                  display: SilentProgressDisplay()).run(graph)
        let failed = report.failures
        XCTAssertFalse(failed.isEmpty)
        for node in failed {
            guard case .failed(let error, _) = node.outcome else { continue }
            XCTAssertTrue(error.contains("out of memory before allocating") && error.contains("micro_batch"), "\(node.stage): \(error)")
        }
        XCTAssertGreaterThan(report.ranCount, 0, "nodes that need no forward (the tokenizer) still ran")
        let failedHashes = Set(failed.map(\.hash))
        for node in report.skipped {
            guard case .skipped(let input) = node.outcome else { continue }
            XCTAssertTrue(failedHashes.contains(input) || report.skipped.contains { $0.hash == input }, "\(node.stage) skipped for \(input)")
        }
    }
}
