import XCTest
import Yams
@testable import RecipeSpec

final class RenderDiffTests: XCTestCase {
    let recipe = """
        name: exp/render
        description: "a: tricky, string"
        vars: { z: 1, a: [x, "y z", "3"] }
        matrix: { task: [b, a], seed: [1] }
        stages:
          policy: { lr: 2, task: "${matrix.task}", kind: sft }
          eval: { kind: gold_reward, task: "${matrix.task}", policy: policy }
        table: { value: eval.mean, rows: seed, columns: [task] }
        """

    func testRenderingIsStableAndOrdered() throws {
        let r = try loadText(recipe)
        let text = RecipeRenderer.yaml(r)
        XCTAssertEqual(text, RecipeRenderer.yaml(try loadText(recipe)))
        let expectedFirst = """
            ---
            # cell 1 of 2: task=b,seed=1
            name: exp/render
            description: "a: tricky, string"
            scale: default
            matrix:
              seed: 1
              task: b
            vars:
              a: [x, y z, "3"]
              z: 1
            stages:
              policy:
                kind: sft
                task: b
                steps: 100
                lr: 2.0
                model: tiny
              eval:
                kind: gold_reward
                policy: policy
                task: b
                samples: 16
                greedy: false
            table:
              columns: [task]
              rows: [seed]
              value: eval.mean
            ---
            """
        XCTAssertTrue(text.hasPrefix(expectedFirst), text)
        XCTAssertEqual(text.components(separatedBy: "---\n").count - 1, 2)
    }

    func testRenderedDocumentsReadBackAsTheSameValues() throws {
        let r = try loadText(recipe)
        let docs = Array(try Yams.compose_all(yaml: RecipeRenderer.yaml(r), YAMLReader.resolver))
        XCTAssertEqual(docs.count, 2)
        let second = try YAMLReader.read(try XCTUnwrap(Yams.serialize(node: docs[1])), file: "x")
        XCTAssertEqual(second["description"]?.value, .string("a: tricky, string"))
        XCTAssertEqual(second["vars"]?["a"]?.list?.map(\.value), [.string("x"), .string("y z"), .string("3")])
        XCTAssertEqual(second["stages"]?["policy"]?["lr"]?.value, .double(2))
        XCTAssertEqual(second["stages"]?["policy"]?["task"]?.value, .string("a"))
        XCTAssertEqual(second["stages"]?["policy"]?.keys, ["kind", "task", "steps", "lr", "model"])
    }

    func testScalarTextRoundTrips() {
        for v: ConfigValue in [.double(5e-5), .double(1e20), .double(3), .string("true"), .string("1.5"),
                               .string("null"), .string(""), .string("a#b"), .string("-x"), .string("plain text")] {
            XCTAssertEqual(YAMLReader.scalarValue(ScalarText.yaml(v).trimmingCharacters(in: CharacterSet(charactersIn: "\"")), quoted: ScalarText.yaml(v).hasPrefix("\"")), v, "\(v)")
        }
        XCTAssertEqual(ScalarText.yaml(.double(5e-5)), "5.0e-05")
        XCTAssertEqual(ScalarText.yaml(.string("yes")), "yes")   // core schema: yes is a string
    }

    func testDiffReportsChangesPerCellAndCollapsesSharedOnes() throws {
        let base = """
            name: d
            vars: { steps: 10 }
            matrix: { seed: [1, 2] }
            stages:
              policy: { kind: sft, task: t, steps: "${vars.steps}", lr: "${matrix.seed}" }
            """
        let a = try loadText(base)
        XCTAssertTrue(RecipeDiff.between(a, a).isEmpty)
        XCTAssertEqual(RecipeDiff.between(a, a).render(), "no differences\n")

        let b = try loadText(base, overrides: ["vars.steps=20", "matrix.seed=[2, 3]", "stages.policy.model=small"])
        let d = RecipeDiff.between(a, b)
        XCTAssertEqual(d.cellsAdded, ["seed=3"])
        XCTAssertEqual(d.cellsRemoved, ["seed=1"])
        XCTAssertEqual(d.changes.map(\.path), ["cell[seed=2].stages.policy.steps", "cell[seed=2].stages.policy.model"])
        XCTAssertEqual(d.changes.first?.old, "10")
        XCTAssertEqual(d.changes.first?.new, "20")
        XCTAssertEqual(d.render(), """
            ~ cell[seed=2].stages.policy.steps: 10 -> 20
            ~ cell[seed=2].stages.policy.model: tiny -> small
            + cell seed=3
            - cell seed=1

            """)

        let c = try loadText(base, overrides: ["vars.steps=30", "name=e"])
        let d2 = RecipeDiff.between(a, c)
        XCTAssertEqual(d2.changes.map(\.path), ["name", "cell[*].stages.policy.steps"])
        XCTAssertTrue(d2.cellsAdded.isEmpty && d2.cellsRemoved.isEmpty)
    }

    func testDiffSeesAddedAndRemovedStages() throws {
        let a = try loadText("name: d\nstages:\n  p: { kind: sft, task: t }\n")
        let b = try loadText("name: d\nstages:\n  p: { kind: sft, task: t }\n  e: { kind: gold_reward, policy: p, task: t }\n")
        let d = RecipeDiff.between(a, b)
        XCTAssertEqual(d.changes.count, 5)
        XCTAssertTrue(d.changes.allSatisfy { $0.old == nil && $0.path.hasPrefix("cell[default].stages.e.") })
        XCTAssertEqual(RecipeDiff.between(b, a).changes.filter { $0.new == nil }.count, 5)
    }
}
