import XCTest
@testable import RecipeSpec

final class MatrixTests: XCTestCase {
    func testCrossProductInAxisOrderFirstAxisSlowest() throws {
        let r = try loadText("""
            name: m
            matrix: { task: [a, b], algorithm: [dpo, ppo], seed: [1, 2, 3] }
            stages:
              p: { kind: sft, task: "${matrix.task}", steps: "${matrix.seed}" }
            """)
        XCTAssertEqual(r.cells.count, 12)
        XCTAssertEqual(r.cells.prefix(4).map(\.label), [
            "task=a,algorithm=dpo,seed=1", "task=a,algorithm=dpo,seed=2",
            "task=a,algorithm=dpo,seed=3", "task=a,algorithm=ppo,seed=1",
        ])
        XCTAssertEqual(r.cells.last?.label, "task=b,algorithm=ppo,seed=3")
        XCTAssertEqual(r.cells[4].value("p", "steps"), .int(2))
        XCTAssertEqual(r.cells[7].value("p", "task"), .string("b"))
        XCTAssertEqual(r.axes.map(\.axis), ["task", "algorithm", "seed"])
        XCTAssertEqual(r.axes[2].values, [.int(1), .int(2), .int(3)])
    }

    func testExcludeDropsMatchingCells() throws {
        let r = try loadText("""
            name: m
            matrix: { task: [a, b], algorithm: [dpo, ppo, opo], seed: [1, 2] }
            exclude:
              - { task: a, algorithm: ppo }
              - { algorithm: [opo], seed: 2 }
            stages:
              p: { kind: sft, task: "${matrix.task}" }
            """)
        // 12 cells - 2 (task a, ppo) - 2 (opo, seed 2) = 8
        XCTAssertEqual(r.cells.count, 8)
        XCTAssertFalse(r.cells.contains { $0.label.hasPrefix("task=a,algorithm=ppo") })
        XCTAssertFalse(r.cells.contains { $0.label.hasSuffix("algorithm=opo,seed=2") })
        XCTAssertTrue(r.cells.contains { $0.label == "task=b,algorithm=ppo,seed=1" })
    }

    func testPerCellMergesStagesIntoMatchingCellsOnly() throws {
        let r = try loadText("""
            name: m
            matrix: { task: [a, b], seed: [1, 2] }
            per_cell:
              b_extra:
                when: { task: b }
                stages:
                  p: { steps: 7 }
                  q: { kind: sft, task: "extra-${matrix.seed}" }
              a_only:
                when: { task: a, seed: 1 }
                stages:
                  p: drop
              late:
                when: { task: [a, b, z], seed: 2 }
                stages:
                  p: { steps: 9 }
            stages:
              p: { kind: sft, task: "${matrix.task}", steps: 1 }
            """)
        XCTAssertEqual(r.cells.map { $0.value("p", "steps") }, [nil, .int(9), .int(7), .int(9)])
        XCTAssertEqual(r.cells.map { $0.stages.map(\.name) }, [[], ["p"], ["p", "q"], ["p", "q"]])
        XCTAssertEqual(r.cells[3].value("q", "task"), .string("extra-2"))
        XCTAssertEqual(r.cells[2].value("p", "task"), .string("b"))
    }

    func testPerCellStageMayBeReferencedOnlyInItsCells() throws {
        XCTAssertThrowsError(try loadText("""
            name: m
            matrix: { task: [a, b] }
            per_cell:
              b_only:
                when: { task: b }
                stages: { extra: { kind: sft, task: x } }
            stages:
              p: { kind: sft, task: "${matrix.task}" }
              q: { kind: task_preferences, task: t, policy: extra }
            """)) { error in
            XCTAssertTrue("\(error)".contains("unknown stage 'extra'"), "\(error)")
        }
    }

    func testNoMatrixGivesOneDefaultCell() throws {
        let r = try loadText("name: m\nstages:\n  p: { kind: sft, task: t }\n")
        XCTAssertEqual(r.cells.map(\.label), ["default"])
        XCTAssertTrue(r.cells[0].matrix.isEmpty)
    }

    func testAxisMayComeFromVars() throws {
        let r = try loadText("""
            name: m
            vars: { seeds: [7, 8] }
            matrix: { seed: "${vars.seeds}" }
            stages:
              p: { kind: sft, task: t, steps: "${matrix.seed}" }
            """)
        XCTAssertEqual(r.cells.map { $0.value("p", "steps") }, [.int(7), .int(8)])
    }

    func testKindFromMatrixSelectsSchemaPerCell() throws {
        let r = try loadText("""
            name: m
            matrix: { algorithm: [dpo, ppo] }
            stages:
              policy: { kind: sft, task: t }
              prefs: { kind: task_preferences, task: t, policy: policy }
              train: { kind: "${matrix.algorithm}", policy: policy, preferences: prefs }
            """)
        XCTAssertEqual(r.cells.map { $0.stage("train")?.kind }, ["dpo", "ppo"])
        XCTAssertEqual(r.cells.map { $0.value("train", "beta") }, [.double(0.1), .double(0.05)])  // each kind's default
    }
}
