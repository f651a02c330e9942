import XCTest
@testable import RecipeSpec

final class ValidationTests: XCTestCase {
    func testDefaultsFilledInSchemaOrderAndIntAcceptedForNumber() throws {
        let r = try loadText("name: m\nstages:\n  p: { steps: 5, task: t, kind: sft, lr: 1 }\n")
        let config = try XCTUnwrap(r.cells[0].stage("p")?.config)
        XCTAssertEqual(config.keys, ["kind", "task", "steps", "lr", "model"])
        XCTAssertEqual(config["lr"]?.value, .double(1.0))            // int 1 became the number 1.0
        XCTAssertEqual(config["model"]?.value, .string("tiny"))      // default
        XCTAssertNil(config["model"]?.location)                      // defaults have no location
        XCTAssertEqual(config["steps"]?.location, SourceLocation(file: "r.yaml", line: 3, column: 15))
    }

    func testOptionalFieldsStayAbsentAndInputsListEdges() throws {
        let r = try loadText("""
            name: m
            stages:
              policy: { kind: sft, task: t }
              prefs: { kind: task_preferences, task: t, policy: policy }
              train: { kind: dpo, policy: policy, preferences: prefs }
              ens: { kind: ensemble, policies: [policy, train], options: { anything: [1, {a: b}] } }
            """)
        let c = r.cells[0]
        XCTAssertNil(c.stage("train")?.config["tags"])
        XCTAssertEqual(c.stage("train")?.inputs.map(\.field), ["policy", "preferences"])
        XCTAssertEqual(c.stage("train")?.inputs.map(\.stage), ["policy", "prefs"])
        XCTAssertEqual(c.stage("ens")?.inputs.map(\.field), ["policies[0]", "policies[1]"])
        XCTAssertEqual(c.stage("ens")?.inputs.map(\.stage), ["policy", "train"])
        XCTAssertEqual(c.stage("policy")?.inputs.count, 0)
        XCTAssertEqual(c.stage("policy")?.location, SourceLocation(file: "r.yaml", line: 3, column: 3))
    }

    func testAllErrorsOfAFileAreReportedInFileOrder() {
        let errs = errorsOf("""
            name: m
            descripton: x
            stages:
              policy: { kind: sft, task: t, stpes: 3 }
              prefs: { kind: task_preferences, task: t, policy: polcy, size: big }
              eval: { kind: gold_rewad, policy: policy, task: t }
            table: { rows: seed, value: eval.mean }
            """)
        XCTAssertEqual(errs, [
            "r.yaml:2:1: error: descripton: unknown top-level key; did you mean 'description'?",
            "r.yaml:4:33: error: stages.policy.stpes: unknown key for stage kind 'sft'; did you mean 'steps'?",
            "r.yaml:5:53: error: stages.prefs.policy: unknown stage 'polcy'; expected the name of a stage of this recipe; did you mean 'policy'?",
            "r.yaml:5:66: error: stages.prefs.size: wrong type: got string \"big\"; expected int",
            "r.yaml:6:17: error: stages.eval.kind: unknown stage kind 'gold_rewad'; did you mean 'gold_reward'?",
            "r.yaml:7:16: error: table.rows: 'seed' is not a matrix axis; expected a matrix axis (the recipe has no matrix)",
        ])
    }

    func testDanglingRefReportedWhenOtherFieldsAreFine() {
        XCTAssertEqual(errorsOf("name: m\nstages:\n  policy: { kind: sft, task: t }\n  prefs: { kind: task_preferences, task: t, policy: polcy }\n"),
                       ["r.yaml:4:53: error: stages.prefs.policy: unknown stage 'polcy'; expected the name of a stage of this recipe; did you mean 'policy'?"])
    }

    func testDidYouMean() {
        XCTAssertEqual(didYouMean("stpes", among: ["task", "steps", "lr"]), "steps")   // transposition
        XCTAssertEqual(didYouMean("sfft", among: ["sft", "dpo"]), "sft")
        XCTAssertEqual(didYouMean("Steps", among: ["steps"]), "steps")                // case-insensitive
        XCTAssertNil(didYouMean("banana", among: ["sft", "dpo"]))
        XCTAssertNil(didYouMean("steps", among: ["steps"]))                            // exact: nothing to suggest
        XCTAssertEqual(editDistance("ab", "ba", transpositions: true), 1)
        XCTAssertEqual(editDistance("ab", "ba", transpositions: false), 2)              // Levenshtein, as tasks score
        XCTAssertEqual(editDistance("kitten", "sitting", transpositions: true), 3)
        // threshold grows with length: 4 edits are fine for a 12-letter word, not for a 6-letter one
        XCTAssertEqual(didYouMean("preferencxxx", among: ["preferences"]), "preferences")
        XCTAssertNil(didYouMean("abcdef", among: ["abgxyz"]))
    }

    func testScalarsFollowYAMLCoreSchema() throws {
        let node = try YAMLReader.read("a: no\nb: 010\nc: 0x1F\nd: 1e3\ne: ~\nf: '5'\ng: 2024-01-01\nh: True\ni: -.inf\n", file: "x")
        XCTAssertEqual(node["a"]?.value, .string("no"))
        XCTAssertEqual(node["b"]?.value, .int(10))
        XCTAssertEqual(node["c"]?.value, .int(31))
        XCTAssertEqual(node["d"]?.value, .double(1000))
        XCTAssertEqual(node["e"]?.value, .null)
        XCTAssertEqual(node["f"]?.value, .string("5"))
        XCTAssertEqual(node["g"]?.value, .string("2024-01-01"))
        XCTAssertEqual(node["h"]?.value, .bool(true))
        XCTAssertEqual(node["i"]?.value, .double(-.infinity))
        XCTAssertEqual(node["c"]?.keyLocation, SourceLocation(file: "x", line: 3, column: 1))
        XCTAssertEqual(node["c"]?.location, SourceLocation(file: "x", line: 3, column: 4))
    }

    func testDuplicateKeyInFlowMapping() {
        XCTAssertEqual(errorsOf("name: m\nstages:\n  p: { kind: sft, task: t, task: u }\n"),
                       ["r.yaml:3:28: error: stages.p.task: duplicate key (first written at 3:19)"])
    }

    func testCatalogListing() {
        let text = TestCatalog.catalog.schema("sft")?.describe() ?? ""
        XCTAssertEqual(text.split(separator: "\n").first, "sft — Supervised fine-tuning on task demonstrations.")
        XCTAssertTrue(text.contains("  steps  int (default 100)\n           optimizer steps"), text)
        XCTAssertTrue(text.contains("  task   string (required)\n           the task name"), text)
        XCTAssertTrue(text.contains("  outputs: policy"), text)
        XCTAssertEqual(TestCatalog.catalog.describe().components(separatedBy: "\n\n").count, 6)
    }
}
