import Foundation
import XCTest
@testable import Pipeline
import PipelineFakes
import RecipeSpec

/// Plots built from fake `curve` nodes: series values, aggregation over seeds, missing cells,
/// CSV, and the SVG pinned by a golden file.
final class PlotTests: XCTestCase {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    /// Offset of each task/algorithm curve: seed s records offset + i·s at step i (i = 1, 2, 3),
    /// so over seeds 1, 2, 3 the mean at step i is offset + 2i and the sample std is i.
    static let offsets: [String: Double] = ["a/dpo": 0, "a/ppo": 10, "b/dpo": 5, "b/ppo": 20]

    /// task × algo × seed; stages `dpo` and `ppo` are curves, and `{algo}` picks the cell's one.
    func recipe(_ plots: [(name: String, spec: PlotSpec)], stride: (String, Int) -> Int = { _, _ in 1 },
                nanAt: (String, Int) -> Int = { _, _ in 0 }) -> ResolvedRecipe {
        var cells: [RecipeCell] = []
        for task in ["a", "b"] {
            for algo in ["dpo", "ppo"] {
                for seed in [1, 2, 3] {
                    let key = "\(task)/\(algo)"
                    let stages = ["dpo", "ppo"].map { stage in
                        let values = (1...3).map { ConfigNode(.double((Self.offsets["\(task)/\(stage)"] ?? 0) + Double($0 * seed))) }
                        return FakeStages.stage(stage, "curve", [("values", .list(values)), ("stride", .int(stride(key, seed))),
                                                                  ("nan_at", .int(stage == algo ? nanAt(key, seed) : 0))])
                    }
                    cells.append(RecipeCell(matrix: [("task", .string(task)), ("algo", .string(algo)), ("seed", .int(seed))],
                                            stages: stages))
                }
            }
        }
        return FakeStages.recipe("paper/figure1", cells: cells, plots: plots)
    }

    let spec = PlotSpec(stage: "{algo}", x: "step", y: ["score"], lines: ["algo"], panels: ["task"], aggregate: "seed",
                        title: "Score over training", yLabel: "score")

    /// Runs `r` (every node, or only those of the first `cells` cells) and builds its plots.
    func built(_ r: ResolvedRecipe, cells: Int? = nil) throws -> [PlotOutput] {
        let store = try ArtifactStore(root: temporaryFolder(self).appendingPathComponent("store"))
        let g = try PipelineGraph(recipe: r, catalog: FakeStages.catalog)
        // Only the plotted stage: the other stage's node of a cell is shared with other cells.
        let targets = cells.map { n in
            Set((0..<n).compactMap { i in r.plots.first.flatMap { g.node(cellIndex: i, stage: $0.spec.stage(in: r.cells[i]))?.hash } })
        }
        _ = try Executor(store: store, runners: FakeStages.runners(ledger: FakeLedger())).run(g, targets: targets)
        return try PlotBuilder.buildAll(recipe: r, graph: g, store: store, command: "preflab run paper/figure1.yaml")
    }

    func testMeanAndSampleStdOverSeedsPerPanelAndLine() throws {
        let plot = try XCTUnwrap(built(recipe([("score", spec)])).first)
        XCTAssertEqual(plot.panels, ["a", "b"])
        XCTAssertEqual(plot.lines, ["dpo", "ppo"])
        XCTAssertEqual(plot.series.map { "\($0.panel)/\($0.line)" }, ["a/dpo", "a/ppo", "b/dpo", "b/ppo"])
        for (key, offset) in Self.offsets {
            let parts = key.split(separator: "/").map(String.init)
            let s = try XCTUnwrap(plot.series(panel: parts[0], line: parts[1]))
            XCTAssertEqual(s.points, (1...3).map { i in
                PlotPoint(x: Double(i), mean: offset + 2 * Double(i), std: Double(i), n: 3)
            }, key)
        }
        XCTAssertEqual(plot.missing, [])
    }

    func testRecordedValueAsXAndSeveralMetricsGiveOneLineEach() throws {
        let two = PlotSpec(stage: "{algo}", x: "used", y: ["score", "half"], lines: ["algo"], panels: ["task"], aggregate: "seed")
        let plot = try XCTUnwrap(built(recipe([("both", two)])).first)
        XCTAssertEqual(plot.lines, ["dpo / score", "dpo / half", "ppo / score", "ppo / half"])
        let half = try XCTUnwrap(plot.series(panel: "b", line: "ppo / half"))
        XCTAssertEqual(half.points.map(\.x), [10, 20, 30])
        XCTAssertEqual(half.points.map(\.mean), [11, 12, 13])      // (20 + 2i) / 2
        XCTAssertEqual(half.points.map { $0.std ?? -1 }, [0.5, 1, 1.5])
        XCTAssertEqual(plot.yLabel, "score, half")
        XCTAssertEqual(plot.xLabel, "used")
    }

    /// Seeds recording different x: the line has every x, each averaging the seeds that have it;
    /// a NaN value is skipped, so fewer seeds count at that x.
    func testSeedsWithDifferentXAreAlignedOnTheUnionAndNaNIsSkipped() throws {
        let r = recipe([("score", spec)], stride: { key, seed in key == "a/dpo" && seed == 3 ? 2 : 1 },
                       nanAt: { key, seed in key == "b/ppo" && seed == 1 ? 2 : 0 })
        let plot = try XCTUnwrap(built(r).first)
        let aDPO = try XCTUnwrap(plot.series(panel: "a", line: "dpo"))
        // seeds 1, 2 record i·s at x = i; seed 3 records 3i at x = 2i
        XCTAssertEqual(aDPO.points.map(\.x), [1, 2, 3, 4, 6])
        XCTAssertEqual(aDPO.points.map(\.n), [2, 3, 2, 1, 1])
        XCTAssertEqual(aDPO.points.map(\.mean), [1.5, 3, 4.5, 6, 9])    // x = 2: (2 + 4 + 3) / 3
        XCTAssertEqual(aDPO.points[1].std ?? -1, 1, accuracy: 1e-12)
        XCTAssertNil(aDPO.points[3].std)
        let bPPO = try XCTUnwrap(plot.series(panel: "b", line: "ppo"))
        XCTAssertEqual(bPPO.points.map(\.n), [3, 2, 3])
        XCTAssertEqual(bPPO.points[1].mean, 25)                          // seeds 2, 3: 24 and 26
    }

    func testUnfinishedCellsAreListedAsMissing() throws {
        let plot = try XCTUnwrap(built(recipe([("score", spec)]), cells: 4).first)
        let bCells = ["dpo", "ppo"].flatMap { algo in (1...3).map { "task=b,algo=\(algo),seed=\($0)" } }
        XCTAssertEqual(plot.missing, ["task=a,algo=ppo,seed=2", "task=a,algo=ppo,seed=3"] + bCells)
        XCTAssertEqual(plot.series.map { "\($0.panel)/\($0.line)" }, ["a/dpo", "a/ppo"])
        XCTAssertEqual(plot.series(panel: "a", line: "ppo")?.points.map(\.n), [1, 1, 1])
        XCTAssertEqual(plot.lines, ["dpo", "ppo"])
        XCTAssertTrue(plot.svg.contains("8 run(s) missing (not computed yet); see score.csv"))
        XCTAssertTrue(plot.svg.contains(">no data yet</text>"))
    }

    func testCSVAndFiles() throws {
        let small = PlotSpec(stage: "dpo", x: "step", y: ["score"], lines: ["algo"], panels: ["task"], aggregate: "seed")
        let plot = try XCTUnwrap(built(recipe([("small", small)])).first)
        let lines = plot.csv.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[2], "# plot small: stage dpo, x step, y score; mean ± sample std over seed")
        XCTAssertEqual(lines[3], "panel,line,x,mean,std,n")
        XCTAssertEqual(lines[4], "a,dpo,1.0,2.0,1.0,3")
        XCTAssertEqual(lines.last, "b,ppo,3.0,11.0,3.0,3")
        XCTAssertEqual(lines.count, 4 + 12)
        let results = try temporaryFolder(self).appendingPathComponent("Results")
        let files = try plot.write(to: results)
        XCTAssertEqual(files.map(\.lastPathComponent), ["small.svg", "small.csv"])
        XCTAssertEqual(try String(contentsOf: files[1], encoding: .utf8), plot.csv)
        XCTAssertEqual(files[0].deletingLastPathComponent().path, results.appendingPathComponent("paper/figure1").path)
    }

    func testAnAxisThatDoesNotChangeTheNodeIsDrawnOnce() throws {
        // `dpo` does not depend on `algo`: both algo cells of a task and seed hold the same node.
        let fixed = PlotSpec(stage: "dpo", x: "step", y: ["score"], panels: ["task"], aggregate: "seed")
        let plot = try XCTUnwrap(built(recipe([("p", fixed)])).first)
        XCTAssertEqual(plot.series.count, 2)
        let a = try XCTUnwrap(plot.series(panel: "a", line: "score"))
        XCTAssertEqual(a.points.map(\.n), [3, 3, 3])
        XCTAssertEqual(a.points.map(\.mean), [2, 4, 6])
    }

    /// `where:` works on curve plots too: the seed fixed to 3, one run per line, no band.
    func testWhereKeepsOnlyMatchingCellsOfACurvePlot() throws {
        var one = spec
        one.aggregate = nil
        one.filter = [CellCondition(axis: "seed", values: ["3"]), CellCondition(axis: "task", values: ["b"])]
        let plot = try XCTUnwrap(built(recipe([("p", one)])).first)
        XCTAssertEqual(plot.panels, ["b"])
        XCTAssertEqual(plot.series(panel: "b", line: "ppo")?.points,
                       [23, 26, 29].enumerated().map { PlotPoint(x: Double($0.offset + 1), mean: $0.element, std: nil, n: 1) })
        XCTAssertEqual(plot.csv.split(separator: "\n")[2], "# plot p: stage {algo}, x step, y score; where seed in [3], task in [b]")
    }

    func testErrorsForRecipesBuiltInCode() throws {
        let unplaced = PlotSpec(stage: "{algo}", x: "step", y: ["score"], lines: ["algo"], panels: ["task"])
        XCTAssertThrowsError(try built(recipe([("p", unplaced)]))) { error in
            XCTAssertEqual(error as? PlotError, .unplacedAxis(plot: "p", axis: "seed"))
        }
        var wrong = spec
        wrong.stage = "{task}"
        XCTAssertThrowsError(try built(recipe([("p", wrong)]))) { error in
            XCTAssertEqual(error as? PlotError, .unknownStage(plot: "p", stage: "a", cell: "task=a,algo=dpo,seed=1"))
        }
    }

    /// The SVG of a 2-panel, 2-line, 3-seed plot is pinned; regenerate with PREFLAB_UPDATE_GOLDEN=1.
    func testGoldenSVG() throws {
        let plot = try XCTUnwrap(built(recipe([("score", spec)])).first)
        let url = Self.golden.appendingPathComponent("score.svg")
        if ProcessInfo.processInfo.environment["PREFLAB_UPDATE_GOLDEN"] == "1" {
            try plot.svg.write(to: url, atomically: true, encoding: .utf8)
        }
        XCTAssertEqual(plot.svg, try String(contentsOf: url, encoding: .utf8), "SVG changed; see \(url.path)")
    }

    func testNiceScale() {
        let s = PlotScale(covering: [0.3, 4.1])
        XCTAssertEqual(s.step, 1)
        XCTAssertEqual(s.ticks, [0, 1, 2, 3, 4, 5])
        let small = PlotScale(covering: [0.012, 0.087])
        XCTAssertEqual(small.step, 0.02, accuracy: 1e-15)
        XCTAssertEqual(small.ticks.map(small.label), ["0.00", "0.02", "0.04", "0.06", "0.08", "0.10"])
        let flat = PlotScale(covering: [5, 5])
        XCTAssertEqual(flat.lower, 4.4, accuracy: 1e-12)
        XCTAssertEqual(flat.upper, 5.6, accuracy: 1e-12)
        XCTAssertEqual(flat.step, 0.2, accuracy: 1e-12)
        XCTAssertEqual(PlotScale(covering: []).ticks.map(PlotScale(covering: []).label), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        XCTAssertEqual(PlotScale(covering: [-0.5, 0.5]).label(-1e-17), "0.0")
        XCTAssertEqual(PlotScale(covering: [-2e-8, 5.7]).lower, 0)             // a hair below zero
        XCTAssertEqual(PlotScale(covering: [0.1, 0.1 + 0.2]).upper, 0.3, accuracy: 1e-12)
    }
}
