import XCTest
@testable import RecipeSpec

/// Odd inputs give located errors, never a crash.
final class RobustnessTests: XCTestCase {
    func testOddInputsGiveErrors() {
        let cases: [(String, String)] = [
            ("", "r.yaml:1:1: error: name: missing required key 'name'"),
            ("# only a comment\n", "r.yaml:1:1: error: name: missing required key 'name'"),
            ("name: m\nstages: {}\n", "r.yaml:2:9: error: stages: wrong type: got a map; expected a non-empty map"),
            ("name: m\nmatrix: {}\nstages:\n  p: { kind: 5 }\n", "r.yaml:4:14: error: stages.p.kind: wrong type: got int 5; expected a stage kind name"),
            ("name: m\nmatrix: { a: [[1]] }\nstages:\n  p: { kind: sft, task: t }\n", "r.yaml:2:15: error: matrix.a[0]: wrong type: got a list; expected a string, number or bool"),
            ("name: m\nmatrix: { a: 3 }\nstages:\n  p: { kind: sft, task: t }\n", "r.yaml:2:14: error: matrix.a: wrong type: got int 3; expected a list of values"),
            ("name: m\nexclude: { a: 1 }\nstages:\n  p: { kind: sft, task: t }\n", "r.yaml:2:10: error: exclude: wrong type: got a map"),
            ("name: [m]\nstages:\n  p: { kind: sft, task: t }\n", "r.yaml:1:7: error: name: wrong type: got a list; expected a non-empty string"),
            ("name: m\nvars: 3\nstages:\n  p: { kind: sft, task: t }\n", "r.yaml:2:7: error: vars: wrong type: got int 3; expected a map of named values"),
            ("name: m\nscale: [a]\nstages:\n  p: { kind: sft, task: t }\n", "r.yaml:2:8: error: scale: wrong type: got a list; expected a scale name"),
            ("name: m\nscales: { s: 3 }\nstages:\n  p: { kind: sft, task: t }\n", "r.yaml:2:14: error: scales.s: wrong type: got int 3"),
            ("name: m\nstages:\n  p: { kind: sft, task: t, steps: 1.5 }\n", "r.yaml:3:35: error: stages.p.steps: wrong type: got number 1.5; expected int"),
            ("name: m\nstages:\n  p: { kind: sft, task: t }\ntable: 3\n", "r.yaml:4:8: error: table: wrong type: got int 3; expected a map"),
            ("name: m\nstages:\n  p: { kind: sft, task: \"${}\" }\n", "r.yaml:3:25: error: stages.p.task: empty reference '${}'"),
            ("name: m\nstages:\n  p: { kind: sft, task: &x t }\n  q: { kind: sft, task: *x, *x : 1 }\n", "r.yaml:3:25: error: stages.q.t: unknown key for stage kind 'sft'; expected one of"),
            ("name: m\nstages:\n  ? [a]\n  : { kind: sft }\n", "r.yaml:3:5: error: stages: map keys must be plain names"),
            ("\u{FEFF}name: m\nstages:\n  p: { kind: sft, task: 9999999999999999999999 }\n", "r.yaml:3:25: error: stages.p.task: integer 9999999999999999999999 is out of range"),
        ]
        for (yaml, prefix) in cases {
            let errs = errorsOf(yaml)
            XCTAssertTrue(errs.first?.hasPrefix(prefix) ?? false, "\(yaml.debugDescription)\n got: \(errs)")
        }
    }

    func testLargeMatrixStaysFast() throws {
        let start = Date()
        let r = try loadText("""
            name: m
            matrix: { a: [1, 2, 3, 4, 5, 6, 7, 8], b: [1, 2, 3, 4, 5, 6, 7, 8], c: [1, 2, 3, 4, 5] }
            stages:
              policy: { kind: sft, task: "t${matrix.a}", steps: "${matrix.b}" }
              prefs: { kind: task_preferences, task: t, policy: policy, size: "${stages.policy.steps}" }
              train: { kind: dpo, policy: policy, preferences: prefs, seed: "${matrix.c}" }
              eval: { kind: gold_reward, policy: train, task: "${stages.policy.task}" }
            """)
        XCTAssertEqual(r.cells.count, 320)
        XCTAssertEqual(r.cells[319].value("eval", "task"), .string("t8"))
        XCTAssertLessThan(Date().timeIntervalSince(start), 5.0)
    }
}
