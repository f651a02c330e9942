import Foundation
import XCTest
import Pipeline
import RecipeSpec
import StageSpecs
@testable import Stages

/// The real-model tracks at smoke scale (the tiny Llama of the tests in place of SmolLM2-135M, 1 item per
/// benchmark, 4 new tokens, a few pairs): every recipe of Recipes/unpacking/real and Recipes/d2po/real
/// runs end to end on the real data into one store, so the nodes they share run once. ~40 s on the
/// shared 2-core machine. Skipped without ../shared/data (the benchmark and preference files).
final class RealTrackSmokeTests: XCTestCase {
    static let recipes = ["unpacking/real/table1", "unpacking/real/table2", "unpacking/real/table3", "unpacking/real/figure4",
                          "d2po/real/figure4", "d2po/real/table3"]

    func testEveryRealRecipeRunsAtSmokeScaleInOneStore() throws {
        let data = QuickstartTests.root.appendingPathComponent("../shared/data/hh-rlhf").standardizedFileURL
        guard FileManager.default.fileExists(atPath: data.path) else { throw XCTSkip("../shared/data is absent") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-real-smoke-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try ArtifactStore(root: directory)
        var ran = 0, cached = 0
        for name in Self.recipes {
            let file = QuickstartTests.root.appendingPathComponent("Recipes/\(name).yaml").path
            let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(file: file, overrides: ["scale=smoke"])
            let graph = try StageSpecs.graph(recipe)
            let report = try Executor(store: store, runners: EmbeddedRunners.all, jobs: 1, display: SilentProgressDisplay()).run(graph)
            XCTAssertTrue(report.succeeded, "\(name): \(report.failures.map { "\($0.stage): \($0.outcome)" })")
            ran += report.ranCount
            cached += report.cachedCount
        }
        XCTAssertGreaterThan(cached, 0, "the recipes share nodes (the judge, the base row's benchmarks, table2's DPO cells)")
        XCTAssertGreaterThan(ran, 0)
    }
}
