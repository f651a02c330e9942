import XCTest
@testable import RecipeSpec

/// Where the test fixtures are (copied as resources).
enum Fixtures {
    static var root: String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)?.path ?? ""
    }
    static func path(_ relative: String) -> String { root + "/" + relative }
}

/// The example recipe of docs/recipes.md, end to end.
final class RecipeSpecTestsSmoke: XCTestCase {
    func testTable2ExampleResolves() throws {
        let r = try TestCatalog.loader.load(file: Fixtures.path("valid/table2.yaml"))
        XCTAssertEqual(r.name, "d2po/table2")
        XCTAssertEqual(r.cells.count, 9)                        // 2 x 2 x 3 minus the 3 (unique_nouns, ppo) cells
        XCTAssertEqual(r.cells.first?.label, "task=unique_nouns,algorithm=dpo,seed=1")
        let last = try XCTUnwrap(r.cells.last)
        XCTAssertEqual(last.label, "task=word_collector,algorithm=ppo,seed=3")
        XCTAssertEqual(last.stages.map(\.name), ["policy", "preferences", "train", "eval"])  // base stages first
        XCTAssertEqual(last.value("policy", "steps"), .int(300))          // the recipe's var beats the base's
        XCTAssertEqual(last.value("policy", "lr"), .double(5.0e-5))       // from the base
        XCTAssertEqual(last.value("train", "beta"), .double(500))         // ${stages.preferences.size}, int read as number
        XCTAssertEqual(last.value("train", "seed"), .int(3))
        XCTAssertEqual(last.stage("train")?.kind, "ppo")
        XCTAssertEqual(last.stage("eval")?.inputs.map(\.stage), ["train"])
        let table = try XCTUnwrap(r.table)
        XCTAssertEqual(table, TableSpec(rows: ["algorithm"], columns: ["task"], value: "eval.mean", aggregate: "seed",
                                        paper: RecipePath.resolve("../../Results/paper/d2po-table2.csv", from: Fixtures.path("valid/table2.yaml"))))
    }

    func testTable2SmokeScale() throws {
        let r = try TestCatalog.loader.load(file: Fixtures.path("valid/table2.yaml"), overrides: ["scale=smoke"])
        XCTAssertEqual(r.cells.map(\.label), ["task=unique_nouns,algorithm=dpo,seed=1", "task=word_collector,algorithm=dpo,seed=1",
                                              "task=word_collector,algorithm=ppo,seed=1"])
        XCTAssertEqual(r.cells[0].value("policy", "steps"), .int(2))
    }
}
