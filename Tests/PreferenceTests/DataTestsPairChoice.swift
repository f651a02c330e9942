import Foundation
import XCTest
@testable import Preference

/// Pairs whose chosen side a rule picks (SHP: `labels` 1 keeps A as chosen, 0 swaps to B; or numeric
/// scores), with the label checked against the scores.
final class DataTestsPairChoice: XCTestCase {
    let shp = TempCatalog.fixture("shp_like.jsonl")

    func entry(_ rule: String) -> String {
        """
        source: {path: "\(shp)"}
        layout: pair
        fields:
          prompt: history
          chosen: human_ref_A
          rejected: human_ref_B
        \(rule)
        """
    }

    /// The 9 rows with labels 0 prefer B; every chosen text is the side the label names.
    func testLabelPicksTheChosenSide() throws {
        let c = try TempCatalog()
        try c.entry("shp", entry("  label: labels\nscore_map: {1: 1, 0: -1}"))
        let d = try c.load("shp")
        XCTAssertEqual(d.train.count, 24)
        XCTAssertEqual(d.train.filter { $0.chosen.hasPrefix("Answer B") }.count, 9)
        XCTAssertTrue(d.train.allSatisfy { $0.rejected.hasPrefix($0.chosen.hasPrefix("Answer A") ? "Answer B" : "Answer A") })
    }

    /// Scores alone give the same pairs, with the score difference as margin; label and scores together agree.
    func testScoresPickTheSameSideAndGiveTheMargin() throws {
        let c = try TempCatalog()
        try c.entry("by_score", entry("  chosen_score: score_A\n  rejected_score: score_B"))
        try c.entry("both", entry("  label: labels\n  chosen_score: score_A\n  rejected_score: score_B\nscore_map: {\"1\": 1, \"0.0\": -1}"))
        try c.entry("by_label", entry("  label: labels\nscore_map: {1: 1, 0: -1}"))
        let byScore = try c.load("by_score"), both = try c.load("both"), byLabel = try c.load("by_label")
        XCTAssertEqual(byScore.train.map(\.chosen), byLabel.train.map(\.chosen))
        XCTAssertEqual(both.train.map(\.chosen), byLabel.train.map(\.chosen))
        XCTAssertEqual(both.report.count(.labelMismatch), 0)
        XCTAssertEqual(byScore.train.first?.margin, 10)  // row 0: score_A 12, score_B 2
    }

    /// A reversed score_map disagrees with the scores on every row: the load is an error, not 24 reversed pairs.
    func testReversedLabelMapIsAnError() throws {
        let c = try TempCatalog()
        try c.entry("reversed", entry("  label: labels\n  chosen_score: score_A\n  rejected_score: score_B\nscore_map: {1: -1, 0: 1}"))
        XCTAssertThrowsError(try c.load("reversed")) { error in
            XCTAssertTrue("\(error)".contains("disagrees with chosen_score/rejected_score on 24 of 24 rows"), "\(error)")
        }
    }

    /// A label value outside the map, one score without the other and a label without a map are clear errors.
    func testBadLabelsAndMissingRules() throws {
        let c = try TempCatalog()
        try c.entry("partial", entry("  label: labels\nscore_map: {1: 1}\non_error: fail"))
        XCTAssertThrowsError(try c.load("partial")) { error in
            XCTAssertTrue("\(error)".contains("label '0' in 'labels' is not in score_map (1)"), "\(error)")
        }
        try c.entry("onescore", entry("  chosen_score: score_A"))
        XCTAssertThrowsError(try c.load("onescore")) { error in
            XCTAssertTrue("\(error)".contains("fields.chosen_score and fields.rejected_score go together"), "\(error)")
        }
        try c.entry("nomap", entry("  label: labels"))
        XCTAssertThrowsError(try c.load("nomap")) { error in
            XCTAssertTrue("\(error)".contains("fields.label needs a score_map"), "\(error)")
        }
    }

    /// Label values match score_map keys by value: numeric strings, floats and booleans; a list is wrong_type.
    func testLabelValuesMatchByValue() throws {
        let c = try TempCatalog()
        let path = try c.data("l.jsonl", """
        {"q": "a", "x": "A a", "y": "B a", "l": "1"}
        {"q": "b", "x": "A b", "y": "B b", "l": 1.0}
        {"q": "c", "x": "A c", "y": "B c", "l": " 0.0"}
        {"q": "d", "x": "A d", "y": "B d", "l": false}
        {"q": "e", "x": "A e", "y": "B e", "l": [1]}
        """)
        try c.entry("l", """
        source: {path: "\(path)"}
        layout: pair
        fields: {prompt: q, chosen: x, rejected: y, label: l}
        score_map: {"1": 1, "0": -1, "false": -1}
        """)
        let d = try c.load("l")
        let chosen = Dictionary(uniqueKeysWithValues: (d.train + d.heldOut).map { ($0.prompt.lastUserText, $0.chosen) })
        XCTAssertEqual(chosen, ["a": "A a", "b": "A b", "c": "B c", "d": "B d"])
        XCTAssertEqual(d.report.count(.wrongType), 1)
    }
}
