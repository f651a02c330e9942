import XCTest
@testable import Pipeline
import PipelineFakes
import RecipeSpec

/// findings.md from a results.json (what `preflab verdicts` reads) equals the one from the built
/// table, shared nodes count once, and a claim naming a cell the results lack is a clear error.
final class VerdictsReportTests: XCTestCase {
    func table() -> TableOutput {
        func cell(_ row: String, _ values: [Double], _ nodes: [String]) -> TableCell {
            let (m, s) = TableBuilder.meanStd(values)
            return TableCell(row: row, column: "mean", values: values, mean: m, std: s, nodes: nodes, missing: [], paper: nil)
        }
        return TableOutput(recipeName: "t/x", recipeHash: String(repeating: "ab", count: 32), command: "preflab run",
                           value: "eval.mean", rowAxes: ["algo"], columnAxes: ["category"], aggregate: "seed",
                           rows: ["sft", "dpo", "ppo", "rm"], columns: ["mean"],
                           cells: [cell("sft", [0.601], ["s"]), cell("dpo", [0.70, 0.71, 0.72], ["d1", "d2", "d3"]),
                                   cell("ppo", [0.60, 0.66, 0.63], ["p1", "p2", "p3"]), cell("rm", [0.8, 0.8, 0.8], ["r", "r", "r"])],
                           warnings: [])
    }

    let claims = [
        ClaimSpec(id: "dpo-sft", text: "DPO beats SFT", a: .init(row: "dpo", column: "mean"),
                  b: .init(row: "sft", column: "mean", fixed: true), expect: .greater),
        ClaimSpec(id: "ppo-dpo", text: "PPO beats DPO", a: .init(row: "ppo", column: "mean"),
                  b: .init(row: "dpo", column: "mean"), expect: .greater),
        ClaimSpec(id: "rm-ppo", text: "one RM | shared", a: .init(row: "rm", column: "mean"),
                  b: .init(row: "ppo", column: "mean"), expect: .greater),
    ]

    func testResultsJSONGivesTheSameVerdicts() throws {
        let dir = try temporaryFolder(self)
        let t = table()
        try t.write(to: dir)
        let json = dir.appendingPathComponent("t/x/results.json")
        let fromFile = try VerdictsReport.judge(claims: claims, resultsJSON: json)
        let fromTable = try VerdictsReport.judge(claims: claims, table: t, source: json.path)
        XCTAssertEqual(fromFile.markdown, fromTable.markdown)
        XCTAssertEqual(fromFile.verdicts.map(\.outcome), [.holds, .doesNotHold, .undecided])
        XCTAssertEqual(fromFile.verdicts[2].a.n, 1)
        let md = fromFile.markdown
        XCTAssertTrue(md.contains("| **dpo-sft** (expects a > b): DPO beats SFT | dpo \\| mean: 0.7100 ± 0.0100 (n=3) | sft \\| mean: 0.6010 (n=1, fixed) | 0.1090 [0.0842, 0.1338] | one-sample t(2) = 18.88 | 0.003 | **holds** (p < 0.05 in the claimed direction) |"), md)
        XCTAssertTrue(md.contains("rm \\| mean: 0.8000 (n=1, 3 listed)"), md)
        XCTAssertTrue(md.contains("| — | — | **undecided** (n = 1 vs 3: too few runs (2 per arm needed)) |"), md)
        let url = try fromFile.write(to: dir)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), md)
    }

    /// The summary counts outcomes and lists each claim; notes follow the verdicts, folded to one line.
    func testSummaryAndNotes() throws {
        var noted = claims
        noted[1].note = "PPO here is\n  one seed short"
        let r = try VerdictsReport.judge(claims: noted, note: "Setup: tiny.\n", table: table(), source: "r.json")
        XCTAssertEqual(r.summary, "3 claims: 1 holds, 1 does not hold, 1 undecided — dpo-sft holds (0.1090, p = 0.003); "
                       + "ppo-dpo does not hold (-0.0800, p = 0.033); rm-ppo undecided (0.1700, n = 1)")
        let md = r.markdown
        XCTAssertTrue(md.contains("table built by `preflab run`, runs over `seed`."), md)
        XCTAssertTrue(md.contains("\n- **ppo-dpo**: PPO here is one seed short\n"), md)
        XCTAssertTrue(md.hasSuffix("## Context (the recipe's `findings_note:`)\n\nSetup: tiny.\n"), md)
        let bare = try VerdictsReport.judge(claims: [], note: "Only context.", table: table(), source: "r.json")
        XCTAssertEqual(bare.summary, "no claims judged (findings.md: context only)")
        XCTAssertFalse(bare.markdown.contains("## Verdicts"))
    }

    func testMissingCellAndBadFile() throws {
        var c = claims[0]
        c.a.row = "dpo2"
        c.location = SourceLocation(file: "r.yaml", line: 3, column: 9)
        XCTAssertThrowsError(try VerdictsReport.judge(claims: [c], table: table(), source: "Results/t/x/results.json")) {
            XCTAssertEqual("\($0)", "r.yaml:3:9: claim 'dpo-sft': Results/t/x/results.json has no cell 'dpo2 | mean'; rerun the recipe or `preflab table` it")
        }
        let dir = try temporaryFolder(self)
        let bad = dir.appendingPathComponent("results.json")
        try "{\"rows\": []}".write(to: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try VerdictsReport.judge(claims: claims, resultsJSON: bad)) {
            XCTAssertEqual("\($0)", "\(bad.path): not a results.json (expected an object with 'cells')")
        }
    }

    /// A node shared by several seeds (one reward model under three PPO seeds) is one run in the
    /// table, so its cell shows n = 1 and no fake zero spread.
    func testTableCountsASharedNodeOnce() throws {
        var cells: [RecipeCell] = []
        for seed in [1, 2, 3] {
            cells.append(RecipeCell(matrix: [("algo", .string("rm")), ("seed", .int(seed))],
                                    stages: [FakeStages.stage("eval", "constant", [("value", .double(0.7))])]))
            cells.append(RecipeCell(matrix: [("algo", .string("ppo")), ("seed", .int(seed))],
                                    stages: [FakeStages.stage("eval", "constant", [("value", .double(Double(seed))),
                                                                                    ("tag", .string("\(seed)"))])]))
        }
        let spec = TableSpec(rows: ["algo"], columns: [], value: "eval.value", aggregate: "seed")
        let recipe = FakeStages.recipe("t/shared", cells: cells, table: spec)
        let store = try ArtifactStore(root: temporaryFolder(self).appendingPathComponent("store"))
        let g = try PipelineGraph(recipe: recipe, catalog: FakeStages.catalog)
        _ = try Executor(store: store, runners: FakeStages.runners(ledger: FakeLedger())).run(g)
        let t = try TableBuilder.build(recipe: recipe, graph: g, store: store, command: "test")
        XCTAssertEqual(t.cell(row: "rm", column: "")?.values, [0.7])
        XCTAssertNil(t.cell(row: "rm", column: "")?.std)
        XCTAssertEqual(t.cell(row: "ppo", column: "")?.values, [1, 2, 3])
    }
}
