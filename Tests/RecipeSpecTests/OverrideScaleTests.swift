import XCTest
@testable import RecipeSpec

final class OverrideScaleTests: XCTestCase {
    let recipe = """
        name: m
        vars: { steps: 100, lr: 0.01 }
        scales:
          smoke: { vars: { steps: 2 }, matrix: { seed: [1] } }
          big: { stages: { policy: { model: small } } }
        matrix: { seed: [1, 2, 3] }
        stages:
          policy: { kind: sft, task: t, steps: "${vars.steps}" }
        """

    func testSetOverridesExistingAndSchemaFields() throws {
        let r = try loadText(recipe, overrides: ["vars.steps=7", "stages.policy.lr=0.5", "matrix.seed=[4, 5]"])
        XCTAssertEqual(r.cells.map(\.label), ["seed=4", "seed=5"])
        XCTAssertEqual(r.cells[0].value("policy", "steps"), .int(7))
        XCTAssertEqual(r.cells[0].value("policy", "lr"), .double(0.5))   // lr was not written: a schema field
    }

    func testSetNullDeletesSoTheDefaultReturns() throws {
        let r = try loadText(recipe, overrides: ["stages.policy.steps=null"])
        XCTAssertEqual(r.cells[0].value("policy", "steps"), .int(100))  // schema default, not vars.steps
    }

    func testScaleSelectsOverridesBeforeExpansion() throws {
        let smoke = try loadText(recipe + "\nscale: smoke\n")
        XCTAssertEqual(smoke.scale, "smoke")
        XCTAssertEqual(smoke.cells.map(\.label), ["seed=1"])
        XCTAssertEqual(smoke.cells[0].value("policy", "steps"), .int(2))
        let big = try loadText(recipe, overrides: ["scale=big"])
        XCTAssertEqual(big.cells.count, 3)
        XCTAssertEqual(big.cells[0].value("policy", "model"), .string("small"))
        XCTAssertEqual(try loadText(recipe).scale, "default")
    }

    func testCommandLineWinsOverTheScale() throws {
        let r = try loadText(recipe, overrides: ["scale=smoke", "vars.steps=9"])
        XCTAssertEqual(r.cells.map(\.label), ["seed=1"])
        XCTAssertEqual(r.cells[0].value("policy", "steps"), .int(9))
    }

    func testOverrideErrorsAreLocatedOnTheCommandLine() {
        XCTAssertEqual(errorsOf(recipe, overrides: ["stages.polcy.steps=3"]),
                       ["<command line>:1:8: error: stages.polcy: --set names a key that is not in the recipe; did you mean 'stages.policy'?"])
        XCTAssertEqual(errorsOf(recipe, overrides: ["scale=smoek"]),
                       ["<command line>:1:7: error: scale: unknown scale 'smoek'; did you mean 'smoke'?"])
        XCTAssertEqual(errorsOf(recipe, overrides: ["vars.stepz=1", "vars.lrr=2"]).count, 2)  // all reported
    }

    func testOverrideParsing() throws {
        let o = try Override.parse("a.b=[1, 2]")
        XCTAssertEqual(o.path, ["a", "b"])
        XCTAssertEqual(o.value.value, .list([ConfigNode(.int(1)), ConfigNode(.int(2))]))
        XCTAssertEqual(o.value.location, SourceLocation(file: "<command line>", line: 1, column: 5))
        XCTAssertEqual(try Override.parse("x='5'").value.value, .string("5"))
        XCTAssertEqual(try Override.parse("x=").value.value, .null)
    }

    func testDefaultScaleEntryAppliesWhenNoScaleIsChosen() throws {
        let r = try loadText(recipe.replacingOccurrences(of: "  big:", with: "  default: { vars: { steps: 50 } }\n  big:"))
        XCTAssertEqual(r.cells[0].value("policy", "steps"), .int(50))
    }

    func testSetIndexesIntoLists() throws {
        let r = try loadText("""
            name: m
            vars: { seeds: [4, 5] }
            matrix: { seed: [1, 2, 3] }
            exclude: [ { seed: 1 } ]
            stages:
              p: { kind: sft, task: "t${vars.seeds.1}" }
            """, overrides: ["exclude.0.seed=2"])
        XCTAssertEqual(r.cells.map(\.label), ["seed=1", "seed=3"])
        XCTAssertEqual(r.cells[0].value("p", "task"), .string("t5"))
    }

    func testDocsReferenceExample() throws {
        let r = try loadText("""
            name: m
            vars: { steps: 200, lr: 5.0e-5 }
            matrix: { seed: [3] }
            stages:
              p: { kind: sft, task: "run-${vars.steps}-${matrix.seed}", steps: "${vars.steps}", lr: "${vars.lr}" }
              q: { kind: task_preferences, task: "${stages.p.task}", policy: p, size: "${stages.p.steps}" }
            """)
        XCTAssertEqual(r.cells[0].value("p", "task"), .string("run-200-3"))
        XCTAssertEqual(r.cells[0].value("q", "task"), .string("run-200-3"))
        XCTAssertEqual(r.cells[0].value("q", "size"), .int(200))
    }
}

/// What a scale does to stages beyond merging: `drop`, a replacing `kind`, and nulls that survive `extends`.
final class ScaleStagesTests: XCTestCase {
    func testAScaleReplacesAStageOfAnotherKindAndDropsOne() throws {
        let files = try RecipeFiles([
            "base.yaml": """
                scales:
                  paper:
                    stages:
                      pre: drop
                      policy: { kind: task_preferences, task: t, policy: seedpol }
                      seedpol: { kind: sft, task: t }
                stages:
                  pre: { kind: sft, task: t }
                  policy: { kind: sft, task: t, steps: 7 }
                """,
            "r.yaml": """
                name: r
                extends: base.yaml
                scales:
                  paper: { stages: { policy: { size: 5 }, dpo: { beta: null } } }
                per_cell:
                  one: { when: { seed: 1 }, stages: { pre: { steps: 3 } } }
                matrix: { seed: [1] }
                stages:
                  dpo: { kind: dpo, policy: seedpol, preferences: prefs, beta: 0.3 }
                  prefs: { kind: task_preferences, task: t, policy: seedpol }
                  seedpol: { kind: sft, task: t }
                """,
        ])
        let plain = try files.load("r.yaml")
        XCTAssertEqual(plain.cells[0].stages.map(\.name), ["pre", "policy", "dpo", "prefs", "seedpol"])
        XCTAssertEqual(plain.cells[0].value("dpo", "beta"), .double(0.3))
        let paper = try files.load("r.yaml", overrides: ["scale=paper"])
        XCTAssertEqual(paper.cells[0].stages.map(\.name), ["policy", "dpo", "prefs", "seedpol"], "pre and its per_cell patch are gone")
        XCTAssertEqual(paper.cells[0].stage("policy")?.kind, "task_preferences")
        XCTAssertNil(paper.cells[0].value("policy", "steps"), "replaced whole, not merged")
        XCTAssertEqual(paper.cells[0].value("policy", "size"), .int(5), "the child's scale merges into the replacement")
        XCTAssertEqual(paper.cells[0].value("dpo", "beta"), .double(0.1), "a scale's null outlives extends and restores the default")
    }
}
