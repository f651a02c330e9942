import XCTest
@testable import RecipeSpec

final class ReferenceTests: XCTestCase {
    func testWholeReferenceKeepsTypeAndInterpolationMakesText() throws {
        let r = try loadText("""
            name: m
            vars: { steps: 200, lr: 5.0e-5, model: { name: tiny } }
            matrix: { seed: [3] }
            stages:
              p: { kind: sft, task: "run-${vars.steps}-${matrix.seed}-${vars.lr}", steps: "${vars.steps}", lr: "${vars.lr}", model: "${vars.model.name}" }
            """)
        let c = r.cells[0]
        XCTAssertEqual(c.value("p", "steps"), .int(200))
        XCTAssertEqual(c.value("p", "lr"), .double(5.0e-5))
        XCTAssertEqual(c.value("p", "task"), .string("run-200-3-5.0e-05"))
        XCTAssertEqual(c.value("p", "model"), .string("tiny"))
    }

    func testEscapedReferenceStaysLiteral() throws {
        let r = try loadText("""
            name: m
            vars: { x: 1 }
            stages:
              p: { kind: sft, task: "cost $${vars.x} is ${vars.x}" }
            """)
        XCTAssertEqual(r.cells[0].value("p", "task"), .string("cost ${vars.x} is 1"))
    }

    func testStageFieldReferencesSeeResolvedValuesAndDefaults() throws {
        let r = try loadText("""
            name: m
            matrix: { n: [5, 6] }
            stages:
              policy: { kind: sft, task: t, steps: "${matrix.n}" }
              prefs: { kind: task_preferences, task: "${stages.policy.task}", policy: policy, size: "${stages.policy.steps}" }
              eval: { kind: gold_reward, policy: policy, task: "x", samples: "${stages.prefs.size}" }
              eval2: { kind: gold_reward, policy: policy, task: "n${stages.eval.samples}", samples: "${stages.eval.samples}" }
              eval3: { kind: gold_reward, policy: policy, task: t, samples: "${stages.eval2.samples}", greedy: "${stages.eval.greedy}" }
            """)
        XCTAssertEqual(r.cells[1].value("prefs", "size"), .int(6))
        XCTAssertEqual(r.cells[1].value("prefs", "task"), .string("t"))
        XCTAssertEqual(r.cells[0].value("eval", "samples"), .int(5))
        XCTAssertEqual(r.cells[0].value("eval2", "task"), .string("n5"))
        XCTAssertEqual(r.cells[0].value("eval3", "greedy"), .bool(false))  // a default of another stage
    }

    func testVarsMayDependOnTheCell() throws {
        let r = try loadText("""
            name: m
            vars: { run: "r-${matrix.seed}", steps: 10 }
            matrix: { seed: [1, 2] }
            stages:
              p: { kind: sft, task: "${vars.run}", steps: "${vars.steps}" }
            """)
        XCTAssertEqual(r.cells.map { $0.value("p", "task") }, [.string("r-1"), .string("r-2")])
        XCTAssertEqual(r.document["vars"]?["run"]?.value, .string("r-${matrix.seed}"))  // kept as written
    }

    func testReferenceCyclesAreReportedOnce() {
        let errs = errorsOf("""
            name: m
            vars: { a: "${vars.b}", b: "${vars.c}", c: "${vars.a}" }
            stages:
              p: { kind: sft, task: "${vars.a}" }
            """)
        XCTAssertEqual(errs, ["r.yaml:2:44: error: vars.c: reference cycle: vars.a -> vars.b -> vars.c -> vars.a"])
    }

    func testTemplateParsing() {
        XCTAssertEqual(try Template.parse("a${vars.x}b").get(), [.text("a"), .ref(["vars", "x"]), .text("b")])
        XCTAssertEqual(try Template.parse("$${x}").get(), [.text("${x}")])
        XCTAssertEqual(try Template.parse("${ matrix.seed }").get(), [.ref(["matrix", "seed"])])
        XCTAssertThrowsError(try Template.parse("${stages.p}").get())       // needs a field
        XCTAssertThrowsError(try Template.parse("${matrix.a.b}").get())
    }
}
