import Foundation
import XCTest
@testable import preflab
import Pipeline
import PipelineFakes
import RecipeSpec

/// What `preflab run` and `preflab table` write into Results/<recipe name>/ (on fake stages).
final class ResultsTests: XCTestCase {
    func testPlotsAreWrittenForARecipeWithoutATable() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-results-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Seed s records 1·s and 2·s at steps 1 and 2: the mean over seeds 1, 2 is 1.5 then 3.
        let cells = [1, 2].map { seed in
            RecipeCell(matrix: [("seed", .int(seed))], stages: [
                FakeStages.stage("train", "curve", [("values", .list([1, 2].map { ConfigNode(.double(Double($0 * seed))) }))]),
            ])
        }
        let spec = PlotSpec(stage: "train", x: "step", y: ["score"], aggregate: "seed")
        let recipe = FakeStages.recipe("cli/plots", cells: cells, plots: [("curve", spec)])
        let graph = try PipelineGraph(recipe: recipe, catalog: FakeStages.catalog)
        let store = try ArtifactStore(root: dir.appendingPathComponent("store"))
        _ = try Executor(store: store, runners: FakeStages.runners(ledger: FakeLedger())).run(graph)

        let results = dir.appendingPathComponent("Results")
        try writeResults(recipe, graph: graph, store: store, results: results.path)
        let folder = results.appendingPathComponent("cli/plots")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertEqual(names, ["curve.csv", "curve.svg"])
        let csv = try String(contentsOf: folder.appendingPathComponent("curve.csv"), encoding: .utf8)
        XCTAssertTrue(csv.hasSuffix("panel,line,x,mean,std,n\n,score,1.0,1.5,\(0.5.squareRoot()),2\n,score,2.0,3.0,\(2.0.squareRoot()),2\n"), csv)
        let svg = try String(contentsOf: folder.appendingPathComponent("curve.svg"), encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertTrue(svg.contains("<polygon points="), "the band over seeds is drawn")
    }
}
