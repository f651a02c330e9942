import Foundation
import XCTest
@testable import Pipeline
import PipelineFakes
import RecipeSpec

/// Value plots: one number per cell (a fake `constant` node's summary `value`) drawn over a matrix
/// axis, numeric (`epochs`) or of names (`prompts`), with `where:` fixing other axes.
final class ValuePlotTests: XCTestCase {
    static let prompts = ["prompts", "prompts_remix", "prompts_reasoning"]
    /// Seed s adds 0, 1, 5: over three seeds the mean adds 2 and the sample std is √7.
    static let seedOffset: [Int: Double] = [1: 0, 2: 1, 3: 5]

    /// The cell's number: 10·epochs + 100 for style + 1000·(prompt set index) + the seed's offset.
    static func number(epochs: Int, prompts: String, category: String, seed: Int) -> Double {
        Double(10 * epochs) + (category == "style" ? 100 : 0) + 1000 * Double(Self.prompts.firstIndex(of: prompts) ?? 0)
            + (seedOffset[seed] ?? 0)
    }

    /// epochs × prompts × category × seed, one `eval` node per cell.
    func recipe(_ plots: [(name: String, spec: PlotSpec)], table: TableSpec? = nil) -> ResolvedRecipe {
        var cells: [RecipeCell] = []
        for epochs in [1, 2, 3] {
            for prompts in Self.prompts {
                for category in ["reasoning", "style"] {
                    for seed in [1, 2, 3] {
                        let v = Self.number(epochs: epochs, prompts: prompts, category: category, seed: seed)
                        cells.append(RecipeCell(matrix: [("epochs", .int(epochs)), ("prompts", .string(prompts)),
                                                         ("category", .string(category)), ("seed", .int(seed))],
                                                stages: [FakeStages.stage("eval", "constant", [("value", .double(v))])]))
                    }
                }
            }
        }
        return FakeStages.recipe("paper/figure3", cells: cells, table: table, plots: plots)
    }

    /// Runs the `eval` nodes of the cells `run` accepts (all by default) and builds the plots.
    func built(_ r: ResolvedRecipe, run: (RecipeCell) -> Bool = { _ in true }) throws -> [PlotOutput] {
        let store = try ArtifactStore(root: temporaryFolder(self).appendingPathComponent("store"))
        let g = try PipelineGraph(recipe: r, catalog: FakeStages.catalog)
        let targets = Set(r.cells.indices.filter { run(r.cells[$0]) }.compactMap { g.node(cellIndex: $0, stage: "eval")?.hash })
        _ = try Executor(store: store, runners: FakeStages.runners(ledger: FakeLedger())).run(g, targets: targets)
        return try PlotBuilder.buildAll(recipe: r, graph: g, store: store, command: "preflab table paper/figure3.yaml")
    }

    let byEpochs = PlotSpec(value: "eval.value", x: "epochs", lines: ["category"], aggregate: "seed",
                            filter: [CellCondition(axis: "prompts", values: ["prompts"])], title: "Score by epochs")

    func testNumericAxisMeanAndStdOverSeedsOneLinePerCategory() throws {
        let plot = try XCTUnwrap(built(recipe([("epochs", byEpochs)])).first)
        XCTAssertEqual(plot.panels, [""])
        XCTAssertEqual(plot.lines, ["reasoning", "style"])
        XCTAssertEqual(plot.xCategories, [])
        XCTAssertEqual(plot.missing, [])
        for (line, offset) in [("reasoning", 0.0), ("style", 100.0)] {
            let s = try XCTUnwrap(plot.series(panel: "", line: line))
            XCTAssertEqual(s.points.map(\.x), [1, 2, 3])
            XCTAssertEqual(s.points.map(\.mean), [12, 22, 32].map { $0 + offset })
            XCTAssertEqual(s.points.map(\.n), [3, 3, 3])
            for p in s.points { XCTAssertEqual(p.std ?? -1, 7.0.squareRoot(), accuracy: 1e-12) }
        }
        XCTAssertEqual(plot.yLabel, "eval.value")
        XCTAssertEqual(plot.xLabel, "epochs")
    }

    /// The plot reads cells as the table does: the same values, summed in the same order.
    func testPointsEqualTheTableCellsOverTheSameCells() throws {
        let table = TableSpec(rows: ["prompts", "epochs"], columns: ["category"], value: "eval.value", aggregate: "seed")
        let r = recipe([("epochs", byEpochs)], table: table)
        let store = try ArtifactStore(root: temporaryFolder(self).appendingPathComponent("store"))
        let g = try PipelineGraph(recipe: r, catalog: FakeStages.catalog)
        _ = try Executor(store: store, runners: FakeStages.runners(ledger: FakeLedger())).run(g)
        let t = try TableBuilder.build(recipe: r, graph: g, store: store, command: "c")
        let plot = try PlotBuilder.build("epochs", byEpochs, recipe: r, graph: g, store: store, command: "c")
        for line in ["reasoning", "style"] {
            for p in try XCTUnwrap(plot.series(panel: "", line: line)).points {
                let cell = try XCTUnwrap(t.cell(row: "prompts / \(Int(p.x))", column: line))
                XCTAssertEqual(p.mean, cell.mean)
                XCTAssertEqual(p.std, cell.std)
                XCTAssertEqual(p.n, cell.n)
            }
        }
    }

    /// Names on x sit at 0, 1, 2 in matrix order; the CSV writes the name, the SVG labels the ticks.
    func testAxisOfNamesWithEveryOtherAxisFixedByWhere() throws {
        let spec = PlotSpec(value: "eval.value", x: "prompts", lines: ["category"],
                            filter: [CellCondition(axis: "epochs", values: ["2"]), CellCondition(axis: "seed", values: ["3"])])
        let plot = try XCTUnwrap(built(recipe([("prompts", spec)])).first)
        XCTAssertEqual(plot.xCategories, Self.prompts)
        let style = try XCTUnwrap(plot.series(panel: "", line: "style"))
        XCTAssertEqual(style.points, [0, 1, 2].map { PlotPoint(x: Double($0), mean: 125 + 1000 * Double($0), std: nil, n: 1) })
        let lines = plot.csv.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[2], "# plot prompts: value eval.value over matrix axis prompts; where epochs in [2], seed in [3]")
        XCTAssertEqual(Array(lines[4...]), [
            ",reasoning,prompts,25.0,,1", ",reasoning,prompts_remix,1025.0,,1", ",reasoning,prompts_reasoning,2025.0,,1",
            ",style,prompts,125.0,,1", ",style,prompts_remix,1125.0,,1", ",style,prompts_reasoning,2125.0,,1",
        ])
        let svg = plot.svg
        for name in Self.prompts { XCTAssertTrue(svg.contains(">\(name)</text>"), name) }
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 6)   // a marker at every point
        XCTAssertFalse(svg.contains("<polygon"))                               // nothing averaged: no band
    }

    /// A list in `where:` keeps several values; the axis then still needs a place.
    func testWhereWithAListAndPanels() throws {
        let spec = PlotSpec(value: "eval.value", x: "epochs", lines: ["category"], panels: ["prompts"], aggregate: "seed",
                            filter: [CellCondition(axis: "prompts", values: ["prompts_remix", "prompts"])])
        let plot = try XCTUnwrap(built(recipe([("p", spec)])).first)
        XCTAssertEqual(plot.panels, ["prompts", "prompts_remix"])               // matrix order, not the list's
        XCTAssertEqual(plot.series(panel: "prompts_remix", line: "reasoning")?.points.map(\.mean), [1012, 1022, 1032])
    }

    func testUnfinishedCellsAreMissingAndPointsCountTheRest() throws {
        let plot = try XCTUnwrap(built(recipe([("epochs", byEpochs)]), run: { cell in
            !(cell.label.contains("epochs=3") && cell.label.contains("seed=3"))
        }).first)
        XCTAssertEqual(plot.missing, ["epochs=3,prompts=prompts,category=reasoning,seed=3",
                                      "epochs=3,prompts=prompts,category=style,seed=3"])
        let reasoning = try XCTUnwrap(plot.series(panel: "", line: "reasoning"))
        XCTAssertEqual(reasoning.points.map(\.n), [3, 3, 2])
        XCTAssertEqual(reasoning.points[2].mean, 30.5)                          // seeds 1, 2: 30 and 31
        XCTAssertEqual(reasoning.points[2].std ?? -1, 0.5.squareRoot(), accuracy: 1e-12)
    }

    /// Whole-number x gets whole-number ticks: epochs 1, 2, 3, never 1.5.
    func testWholeNumberXHasWholeTicksAndNamesGetOneTickEach() throws {
        let plot = try XCTUnwrap(built(recipe([("epochs", byEpochs)])).first)
        XCTAssertEqual(SVGPlot.xScale(plot, plot.series.flatMap(\.points)).ticks, [1, 2, 3])
        XCTAssertTrue(plot.svg.contains(">2</text>"))
        XCTAssertFalse(plot.svg.contains(">1.5</text>"))
        let names = PlotScale(categories: ["a", "b", "c"])
        XCTAssertEqual(names.ticks, [0, 1, 2])
        XCTAssertEqual(names.ticks.map(names.label), ["a", "b", "c"])
        XCTAssertEqual([names.fraction(-0.5), names.fraction(1), names.fraction(2.5)], [0, 0.5, 1])
    }

    func testErrorsForRecipesBuiltInCode() throws {
        func error(_ spec: PlotSpec) -> PlotError? {
            do { _ = try built(recipe([("p", spec)])) } catch { return error as? PlotError }
            return nil
        }
        var unplaced = byEpochs
        unplaced.aggregate = nil
        XCTAssertEqual(error(unplaced), .unplacedAxis(plot: "p", axis: "seed"))
        var badAxis = byEpochs
        badAxis.filter = [CellCondition(axis: "prompt", values: ["prompts"])]
        XCTAssertEqual(error(badAxis), .unknownAxis(plot: "p", axis: "prompt", available: ["epochs", "prompts", "category", "seed"]))
        var none = byEpochs
        none.filter = [CellCondition(axis: "prompts", values: ["gsm"])]
        XCTAssertEqual(error(none), .noCells(plot: "p"))
        var badValue = byEpochs
        badValue.value = "rm.accuracy"
        XCTAssertEqual(error(badValue), .badValue(plot: "p", value: "rm.accuracy",
                                                  reason: "stage 'rm' is not a stage of cell epochs=1,prompts=prompts,category=reasoning,seed=1"))
    }

    /// A value plot over names, three seeds, two lines is pinned; regenerate with PREFLAB_UPDATE_GOLDEN=1.
    func testGoldenSVG() throws {
        let spec = PlotSpec(value: "eval.value", x: "prompts", lines: ["category"], aggregate: "seed",
                            filter: [CellCondition(axis: "epochs", values: ["1"])], title: "Score by prompt set",
                            xLabel: "policy-training prompts", yLabel: "score")
        let plot = try XCTUnwrap(built(recipe([("prompts", spec)])).first)
        let url = PlotTests.golden.appendingPathComponent("value_prompts.svg")
        if ProcessInfo.processInfo.environment["PREFLAB_UPDATE_GOLDEN"] == "1" {
            try plot.svg.write(to: url, atomically: true, encoding: .utf8)
        }
        XCTAssertEqual(plot.svg, try String(contentsOf: url, encoding: .utf8), "SVG changed; see \(url.path)")
    }
}
