import XCTest
@testable import RecipeSpec

/// `claims:` is read into ClaimSpec and checked against the table's row and column labels with
/// file:line:column, key path and did-you-mean, like `table:` and `plots:`.
final class ClaimSpecTests: XCTestCase {
    static let base = """
        name: m
        matrix: { algo: [sft, dpo, ppo], task: [wc, math], seed: [1, 2, 3] }
        exclude: [{ algo: sft, seed: [2, 3] }]
        stages:
          policy: { kind: sft, task: t }
          prefs: { kind: task_preferences, task: t, policy: policy }
          train: { kind: dpo, policy: policy, preferences: prefs, seed: "${matrix.seed}" }
        table: { rows: [algo], columns: task, value: train.loss, aggregate: seed }

        """

    func testClaimsAreRead() throws {
        let r = try loadText(Self.base + """
            claims:
              - id: dpo-beats-sft
                text: "DPO beats SFT (§4)"
                a: { row: dpo, column: wc }
                b: { row: sft, fixed: true }
                expect: greater
              - { id: same, text: "PPO matches DPO", a: { row: ppo, column: math }, b: { row: dpo }, expect: equal, min_effect: 0.5, paired: true }
            """)
        XCTAssertEqual(r.claims.count, 2)
        var first = r.claims[0]
        first.location = nil
        XCTAssertEqual(first, ClaimSpec(id: "dpo-beats-sft", text: "DPO beats SFT (§4)", a: .init(row: "dpo", column: "wc"),
                                        b: .init(row: "sft", column: "wc", fixed: true), expect: .greater))
        XCTAssertEqual(r.claims[0].location?.line, 10)
        XCTAssertEqual(r.claims[1].b, .init(row: "dpo", column: "math"))
        XCTAssertEqual(r.claims[1].minEffect, 0.5)
        XCTAssertTrue(r.claims[1].paired)
    }

    /// A run narrowed with `--set matrix...` cannot judge claims about the whole table: they are left
    /// out of that run, not reported as errors (a claim naming a row the narrowed table lacks used to fail it).
    func testNarrowedMatrixDropsTheClaims() throws {
        let yaml = Self.base + """
            claims:
              - { id: dpo-beats-ppo, text: "DPO beats PPO", a: { row: dpo, column: wc }, b: { row: ppo }, expect: greater }
            """
        XCTAssertEqual(try loadText(yaml).claims.count, 1)
        let narrowed = try loadText(yaml, overrides: ["matrix.task=[math]"])
        XCTAssertEqual(narrowed.claims, [])
        XCTAssertEqual(narrowed.cells.count, 7)   // 3 algorithms × 3 seeds, sft on seed 1 only
    }

    func testMisspeltCellsAndKeys() {
        XCTAssertEqual(errorsOf(Self.base + """
            claims:
              - { id: a1, text: t, a: { row: dop, column: wc }, b: { row: sft, colum: math }, expect: greatr }
              - { id: a1, text: t, a: { row: ppo, column: mth }, b: { row: ppo }, expect: less, min_effect: -1 }
              - { id: "bad id", a: { row: ppo, column: wc }, b: { row: dpo, fixed: true }, expect: equal, paired: true }
            """), [
            "r.yaml:10:34: error: claims[0].a.row: 'dop' is not a row of the table; did you mean 'dpo'?",
            "r.yaml:10:68: error: claims[0].b.colum: unknown key in a claim arm; did you mean 'column'?",
            "r.yaml:10:91: error: claims[0].expect: unknown expectation 'greatr'; did you mean 'greater'?",
            "r.yaml:11:11: error: claims[1].id: duplicate claim id 'a1'; expected ids unique in the recipe (first at r.yaml:10:11)",
            "r.yaml:11:47: error: claims[1].a.column: 'mth' is not a column of the table; did you mean 'math'?",
            "r.yaml:11:57: error: claims[1].b: a and b name the same cell 'ppo | mth'; expected two different cells",
            "r.yaml:11:97: error: claims[1].min_effect: wrong type: got int -1; expected a number ≥ 0",
            "r.yaml:12:5: error: claims[2].text: missing required key 'text'; expected the paper's claim in words, with its section",
            "r.yaml:12:11: error: claims[2].id: invalid claim id 'bad id'; expected letters, digits, '_' and '-'",
            "r.yaml:12:88: error: claims[2].min_effect: expect: equal needs a margin; expected min_effect: the largest difference that still counts as no difference",
            "r.yaml:12:103: error: claims[2].paired: a fixed arm cannot be paired; expected paired: false (a fixed arm is tested with a one-sample test)",
        ])
    }

    /// `not_less` ("does not degrade") takes a margin, as `equal` does, and a zero one is refused.
    func testNotLessNeedsAMargin() throws {
        XCTAssertEqual(errorsOf(Self.base + """
            claims:
              - { id: n1, text: t, a: { row: dpo, column: wc }, b: { row: sft }, expect: not_less }
              - { id: n2, text: t, a: { row: ppo, column: wc }, b: { row: sft }, expect: not_less, min_effect: 0 }
            """), [
            "r.yaml:10:78: error: claims[0].min_effect: expect: not_less needs a margin; expected min_effect: the largest drop that still counts as no degradation",
            "r.yaml:11:100: error: claims[1].min_effect: wrong type: got int 0; expected a number > 0",
        ])
        let ok = try loadText(Self.base + """
            claims:
              - { id: n1, text: t, a: { row: dpo, column: wc }, b: { row: sft }, expect: not_less, min_effect: 0.05 }
            """)
        XCTAssertEqual(ok.claims.map(\.expect), [.notLess])
    }

    func testClaimsNeedATableAndAList() {
        let noTable = Self.base.replacingOccurrences(of: "table: { rows: [algo], columns: task, value: train.loss, aggregate: seed }\n", with: "")
        XCTAssertEqual(errorsOf(noTable + "claims:\n  - { id: x, text: t, a: { row: dpo, column: wc }, b: { row: sft }, expect: less }\n"), [
            "r.yaml:9:3: error: claims: claims compare table cells, but the recipe has no table:; expected a table: block with rows, columns and value",
        ])
        XCTAssertEqual(errorsOf(Self.base + "claims: { x: 1 }\n"), [
            "r.yaml:9:9: error: claims: wrong type: got a map; expected a list of { id, text, a, b, expect, min_effect? }",
        ])
        XCTAssertEqual(errorsOf(Self.base + "clams: []\n"), ["r.yaml:9:1: error: clams: unknown top-level key; did you mean 'claims'?"])
    }

    /// A claim's `note:` and the recipe's `findings_note:` are read as written; anything but a string is
    /// an error with its location, and a misspelt `findings_note` gets a did-you-mean.
    func testNotes() throws {
        let r = try loadText(Self.base + """
            claims:
              - { id: x, text: t, a: { row: dpo, column: wc }, b: { row: ppo }, expect: less, note: "one RM draw" }
            findings_note: |
              Setup line one.
              Line two.
            """)
        XCTAssertEqual(r.claims[0].note, "one RM draw")
        XCTAssertEqual(r.findingsNote, "Setup line one.\nLine two.")
        XCTAssertEqual(errorsOf(Self.base + """
            claims:
              - { id: x, text: t, a: { row: dpo, column: wc }, b: { row: ppo }, expect: less, note: [a] }
            findings_note: { a: 1 }
            """), [
            "r.yaml:10:89: error: claims[0].note: wrong type: got a list; expected a string: context for findings.md, not a verdict",
            "r.yaml:11:16: error: findings_note: wrong type: got a map; expected a string: context for findings.md, not a verdict",
        ])
        XCTAssertEqual(errorsOf(Self.base + "finding_note: x\n"),
                       ["r.yaml:9:1: error: finding_note: unknown top-level key; did you mean 'findings_note'?"])
    }
}
