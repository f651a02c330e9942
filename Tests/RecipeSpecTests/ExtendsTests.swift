import XCTest
@testable import RecipeSpec

final class ExtendsTests: XCTestCase {
    let files: [String: String] = [
        "base/root.yaml": """
            name: base/root
            vars: { steps: 100, lr: 0.001, tags: [a, b, c], extra: { keep: 1, drop: 2 } }
            stages:
              policy: { kind: sft, task: root_task, steps: "${vars.steps}", lr: "${vars.lr}" }
            """,
        "base/mid.yaml": """
            extends: root.yaml
            name: base/mid
            vars: { steps: 200, tags: [x] }
            """,
        "exp/leaf.yaml": """
            extends: [../base/mid.yaml]
            name: exp/leaf
            vars: { lr: 0.5, extra: { drop: null } }
            stages:
              policy: { task: leaf_task }
              eval: { kind: gold_reward, policy: policy, task: t }
            """,
    ]

    func testMultiLevelExtendsMergesLaterWins() throws {
        let g = try RecipeFiles(files)
        let r = try g.load("exp/leaf.yaml")
        XCTAssertEqual(r.name, "exp/leaf")
        let cell = try XCTUnwrap(r.cells.first)
        XCTAssertEqual(cell.value("policy", "steps"), .int(200))       // mid overrides root
        XCTAssertEqual(cell.value("policy", "lr"), .double(0.5))       // leaf overrides root
        XCTAssertEqual(cell.value("policy", "task"), .string("leaf_task"))
        XCTAssertEqual(cell.value("policy", "model"), .string("tiny"))  // default kept
        XCTAssertEqual(cell.stages.map(\.name), ["policy", "eval"])
        // The policy's kind came from root.yaml: its location says so.
        XCTAssertEqual(cell.stage("policy")?.config["kind"]?.location?.file, g.path("base/root.yaml"))
        XCTAssertEqual(cell.stage("policy")?.config["task"]?.location?.file, g.path("exp/leaf.yaml"))
    }

    func testListsAreReplacedWholeAndNullDeletes() throws {
        let r = try RecipeFiles(files).load("exp/leaf.yaml")
        let vars = try XCTUnwrap(r.document["vars"])
        XCTAssertEqual(vars["tags"]?.list?.map(\.value), [.string("x")])   // not [x, b, c] nor [a, b, c, x]
        XCTAssertEqual(vars["extra"]?.keys, ["keep"])                       // drop: null deleted the key
        XCTAssertEqual(vars["steps"]?.value, .int(200))
    }

    func testNullDeletesStageFieldSoDefaultApplies() throws {
        let f = try RecipeFiles([
            "a.yaml": "name: a\nstages:\n  policy: { kind: sft, task: t, steps: 7 }\n",
            "b.yaml": "extends: a.yaml\nname: b\nstages:\n  policy: { steps: null }\n",
        ])
        XCTAssertEqual(try f.load("a.yaml").cells[0].value("policy", "steps"), .int(7))
        XCTAssertEqual(try f.load("b.yaml").cells[0].value("policy", "steps"), .int(100))
    }

    func testExtendsListMergesInOrder() throws {
        let f = try RecipeFiles([
            "one.yaml": "vars: { a: 1, b: 1 }\n",
            "two.yaml": "vars: { b: 2, c: 2 }\n",
            "r.yaml": "extends: [one.yaml, two.yaml]\nname: r\nvars: { c: 3 }\nstages:\n  p: { kind: sft, task: \"${vars.a}-${vars.b}-${vars.c}\" }\n",
        ])
        XCTAssertEqual(try f.load("r.yaml").cells[0].value("p", "task"), .string("1-2-3"))
    }

    func testExtendsErrorsNameTheFiles() throws {
        let f = try RecipeFiles([
            "r.yaml": "name: r\nextends: missing/base.yaml\nstages:\n  p: { kind: sft, task: t }\n",
            "c1.yaml": "extends: c2.yaml\n",
            "c2.yaml": "extends: c1.yaml\n",
            "s.yaml": "name: s\nextends: c1.yaml\nstages:\n  p: { kind: sft, task: t }\n",
        ])
        XCTAssertEqual(f.errors("r.yaml"), ["r.yaml:2:10: error: extends: cannot read extended file 'missing/base.yaml' (resolved to 'missing/base.yaml'); expected a path relative to this file"])
        XCTAssertEqual(f.errors("s.yaml"), ["c2.yaml:1:10: error: extends: extends cycle: c1.yaml -> c2.yaml -> c1.yaml"])
    }

    func testRelativePathNormalisation() {
        XCTAssertEqual(RecipePath.resolve("../base/tiny.yaml", from: "Recipes/d2po/table2.yaml"), "Recipes/base/tiny.yaml")
        XCTAssertEqual(RecipePath.resolve("./x.yaml", from: "r.yaml"), "x.yaml")
        XCTAssertEqual(RecipePath.resolve("../../x.yaml", from: "a/r.yaml"), "../x.yaml")
        XCTAssertEqual(RecipePath.resolve("x.yaml", from: "/abs/dir/r.yaml"), "/abs/dir/x.yaml")
    }
}
