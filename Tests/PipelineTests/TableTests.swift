import XCTest
@testable import Pipeline
import PipelineFakes
import RecipeSpec

final class TableTests: XCTestCase {
    static let values: [String: [Double]] = [
        "dpo/a": [1, 2, 3], "dpo/b": [10, 12, 14], "ppo/a": [0.5, 0.5, 0.5], "ppo/b": [100, 101, 105],
    ]

    /// algo × task × seed; `eval` emits the value listed above for that cell.
    func recipe(table: TableSpec?) -> ResolvedRecipe {
        var cells: [RecipeCell] = []
        for algo in ["dpo", "ppo"] {
            for task in ["a", "b"] {
                for (i, seed) in [1, 2, 3].enumerated() {
                    let value = Self.values["\(algo)/\(task)"]?[i] ?? 0
                    cells.append(RecipeCell(
                        matrix: [("algo", .string(algo)), ("task", .string(task)), ("seed", .int(seed))],
                        stages: [FakeStages.stage("eval", "constant", [("value", .double(value)), ("tag", .string("\(seed)"))])]))
                }
            }
        }
        return FakeStages.recipe("paper/table1", cells: cells, table: table)
    }

    /// Runs the recipe's graph once (all cells, or only the first) into a fresh store.
    func runStore(all: Bool = true) throws -> (ArtifactStore, PipelineGraph, ResolvedRecipe) {
        let store = try ArtifactStore(root: temporaryFolder(self).appendingPathComponent("store"))
        let r = recipe(table: spec)
        let g = try PipelineGraph(recipe: r, catalog: FakeStages.catalog)
        let targets: Set<String>? = all ? nil : [try XCTUnwrap(g.node(cellIndex: 0, stage: "eval")).hash]
        _ = try Executor(store: store, runners: FakeStages.runners(ledger: FakeLedger())).run(g, targets: targets)
        return (store, g, r)
    }

    /// Builds a table with `spec` over an already-run store (the table block is not hashed into nodes).
    func built(_ spec: TableSpec, paper: String? = nil, from run: (ArtifactStore, PipelineGraph, ResolvedRecipe)) throws -> TableOutput {
        var paperURL: URL?
        if let paper {
            let url = try temporaryFolder(self).appendingPathComponent("paper.csv")
            try Data(paper.utf8).write(to: url)
            paperURL = url
        }
        var r = run.2
        r.table = spec
        return try TableBuilder.build(recipe: r, graph: run.1, store: run.0, command: "preflab run paper/table1.yaml", paperCSV: paperURL)
    }

    let spec = TableSpec(rows: ["algo"], columns: ["task"], value: "eval.value", aggregate: "seed")

    func testMeanAndSampleStdOverSeeds() throws {
        let t = try built(spec, from: runStore())
        XCTAssertEqual(t.rows, ["dpo", "ppo"])
        XCTAssertEqual(t.columns, ["a", "b"])
        let dpoA = try XCTUnwrap(t.cell(row: "dpo", column: "a"))
        XCTAssertEqual(dpoA.values, [1, 2, 3])
        XCTAssertEqual(dpoA.mean, 2)
        XCTAssertEqual(dpoA.std ?? -1, 1, accuracy: 1e-12)
        XCTAssertEqual(t.cell(row: "dpo", column: "b")?.std ?? -1, 2, accuracy: 1e-12)
        XCTAssertEqual(t.cell(row: "ppo", column: "a")?.std ?? -1, 0, accuracy: 1e-12)
        let ppoB = try XCTUnwrap(t.cell(row: "ppo", column: "b"))
        XCTAssertEqual(ppoB.mean ?? -1, 102, accuracy: 1e-12)
        XCTAssertEqual(ppoB.std ?? -1, 7.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(ppoB.n, 3)
        XCTAssertEqual(t.text(ppoB), "102.0 ± 2.6 [n=3]")
        XCTAssertEqual(t.recipeHash, recipe(table: spec).contentHash)
    }

    func testMarkdownCSVAndJSONWithPaperColumn() throws {
        let paper = "# numbers from Table 1\nrow,column,value\ndpo,a,2.1\n\"ppo\", b ,\"101.5 ± 0.3\"\nxyz,a,7\n"
        let t = try built(spec, paper: paper, from: runStore())
        XCTAssertEqual(t.cell(row: "dpo", column: "a")?.paper, "2.1")
        XCTAssertEqual(t.cell(row: "ppo", column: "b")?.paper, "101.5 ± 0.3")
        XCTAssertNil(t.cell(row: "dpo", column: "b")?.paper)
        XCTAssertEqual(t.warnings, ["paper CSV line 5: no table cell row 'xyz' column 'a'"])
        let hash = recipe(table: spec).contentHash
        XCTAssertEqual(t.markdown, """
        # paper/table1

        - recipe hash: `\(hash)`
        - command: `preflab run paper/table1.yaml`
        - value: `eval.value`, mean ± sample std over `seed` [n runs]; the paper's number in parentheses

        | algo | a | b |
        |---|---|---|
        | dpo | 2.000 ± 1.000 [n=3] (2.1) | 12.00 ± 2.00 [n=3] |
        | ppo | 0.500 ± 0.000 [n=3] | 102.0 ± 2.6 [n=3] (101.5 ± 0.3) |

        Note: paper CSV line 5: no table cell row 'xyz' column 'a'

        """)
        let csvLines = t.csv.split(separator: "\n").map(String.init)
        XCTAssertEqual(csvLines[2], "row,column,mean,std,n,paper")
        XCTAssertEqual(csvLines[3], "dpo,a,2.0,1.0,3,2.1")
        XCTAssertEqual(csvLines.count, 7)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(t.json.utf8)) as? [String: Any])
        XCTAssertEqual(json["recipeHash"] as? String, hash)
        XCTAssertEqual(json["command"] as? String, "preflab run paper/table1.yaml")
        let cells = try XCTUnwrap(json["cells"] as? [[String: Any]])
        XCTAssertEqual(cells.count, 4)
        XCTAssertEqual(cells[0]["values"] as? [Double], [1, 2, 3])
        XCTAssertEqual((cells[0]["nodes"] as? [String])?.count, 3)

        let results = try temporaryFolder(self).appendingPathComponent("Results")
        let folder = try t.write(to: results)
        XCTAssertEqual(folder.path, results.appendingPathComponent("paper/table1").path)
        for name in ["table.md", "table.csv", "results.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), name)
        }
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("table.md"), encoding: .utf8), t.markdown)
    }

    func testUnfinishedCellsAreMarkedMissing() throws {
        let t = try built(spec, from: runStore(all: false))
        let dpoA = try XCTUnwrap(t.cell(row: "dpo", column: "a"))
        XCTAssertEqual(dpoA.values, [1])
        XCTAssertNil(dpoA.std)
        XCTAssertEqual(dpoA.missing, ["algo=dpo,task=a,seed=2", "algo=dpo,task=a,seed=3"])
        XCTAssertEqual(t.text(dpoA), "1.000")
        XCTAssertEqual(t.text(try XCTUnwrap(t.cell(row: "ppo", column: "b"))), "—")
        XCTAssertTrue(t.markdown.contains("Missing (not computed yet): algo=dpo,task=a,seed=2;"))
    }

    func testTwoRowAxesAndErrors() throws {
        let run = try runStore()
        let both = try built(TableSpec(rows: ["algo", "task"], columns: ["seed"], value: "eval.value"), from: run)
        XCTAssertEqual(both.rows, ["dpo / a", "dpo / b", "ppo / a", "ppo / b"])
        XCTAssertEqual(both.cell(row: "ppo / b", column: "3")?.mean, 105)

        XCTAssertThrowsError(try built(TableSpec(rows: ["algo"], columns: ["task"], value: "eval.value"), from: run)) { error in
            XCTAssertEqual(error as? TableError, .unplacedAxis("seed"))
        }
        XCTAssertThrowsError(try built(TableSpec(rows: ["method"], columns: ["task"], value: "eval.value", aggregate: "seed"), from: run)) { error in
            XCTAssertEqual(error as? TableError, .unknownAxis("method", available: ["algo", "task", "seed"]))
        }
        XCTAssertThrowsError(try built(TableSpec(rows: ["algo"], columns: ["task"], value: "evalvalue", aggregate: "seed"), from: run)) { error in
            XCTAssertTrue("\(error)".contains("expected 'stage.metric'"), "\(error)")
        }
        XCTAssertThrowsError(try built(spec, paper: "algo,task,value\ndpo,a,1\n", from: run)) { error in
            XCTAssertTrue("\(error)".hasSuffix("paper.csv:1: expected the header 'row,column,value', found 'algo,task,value'"), "\(error)")
        }
        XCTAssertThrowsError(try built(spec, paper: "row,column,value\ndpo,a\n", from: run)) { error in
            XCTAssertTrue("\(error)".hasSuffix(":2: expected 3 fields (row,column,value), found 2"), "\(error)")
        }
        let noTable = recipe(table: nil)
        let store = try ArtifactStore(root: temporaryFolder(self))
        XCTAssertThrowsError(try TableBuilder.build(recipe: noTable, graph: PipelineGraph(recipe: noTable, catalog: FakeStages.catalog),
                                                    store: store, command: "x")) { error in
            XCTAssertEqual(error as? TableError, .noTable(recipe: "paper/table1"))
        }
    }

    /// The loader already resolved `table.paper` against the folder of the file that wrote it
    /// (RecipeSpecTests check that), so the path is used as given and never resolved twice.
    func testPaperPathIsUsedAsTheLoaderResolvedIt() {
        var r = recipe(table: TableSpec(rows: ["algo"], columns: ["task"], value: "eval.value", aggregate: "seed", paper: "Results/paper/t1.csv"))
        r.file = "/work/recipes/d2po/table1.yaml"
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertEqual(TableBuilder.paperURL(for: r)?.path, URL(fileURLWithPath: cwd).appendingPathComponent("Results/paper/t1.csv").path)
        r.table?.paper = "/data/p.csv"
        XCTAssertEqual(TableBuilder.paperURL(for: r)?.path, "/data/p.csv")
        r.table?.paper = nil
        XCTAssertNil(TableBuilder.paperURL(for: r))
    }

    func testMeanStd() {
        XCTAssertNil(TableBuilder.meanStd([]).mean)
        XCTAssertEqual(TableBuilder.meanStd([4]).mean, 4)
        XCTAssertNil(TableBuilder.meanStd([4]).std)
        XCTAssertEqual(TableBuilder.meanStd([2, 4, 4, 4, 5, 5, 7, 9]).std ?? 0, (32.0 / 7).squareRoot(), accuracy: 1e-12)
    }
}
