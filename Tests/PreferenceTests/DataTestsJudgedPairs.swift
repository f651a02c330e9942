import XCTest
@testable import Preference

/// `fields.label`: rows holding two responses and a judge's verdict become pairs oriented by the verdict.
final class DataTestsJudgedPairs: XCTestCase {
    let rows = """
    {"instruction": "a", "output_1": "ref a", "output_2": "gen a", "preference": 2.0}
    {"instruction": "b", "output_1": "ref b", "output_2": "gen b", "preference": 1}
    {"instruction": "c", "output_1": "ref c", "output_2": "gen c", "preference": 1.5}
    {"instruction": "d", "output_1": "ref d", "output_2": "gen d", "preference": null}
    {"instruction": "e", "output_1": "ref e", "output_2": "gen e", "preference": 0}
    {"instruction": "f", "output_1": "ref f", "output_2": "gen f", "preference": 2}
    """

    func entry(_ path: String, map: String = #"{"2": 1, "1": -1, "1.5": 0, "0": 0}"#, extra: String = "") -> String {
        """
        source: {path: "\(path)"}
        layout: pair
        fields: {prompt: instruction, chosen: output_2, rejected: output_1, label: preference}
        score_map: \(map)
        \(extra)
        """
    }

    func testTheLabelOrientsEachPairAndDropsTiesAndNulls() throws {
        let c = try TempCatalog()
        try c.entry("judged", entry(try c.data("a.jsonl", rows)))
        let d = try c.load("judged")
        let pairs = d.train.sorted { $0.prompt.lastUserText < $1.prompt.lastUserText }
        XCTAssertEqual(pairs.map(\.prompt.lastUserText), ["a", "b", "f"])
        XCTAssertEqual(pairs.map(\.chosen), ["gen a", "ref b", "gen f"])
        XCTAssertEqual(pairs.map(\.rejected), ["ref a", "gen b", "ref f"])
        XCTAssertEqual(d.report.count(.tie), 2)
        XCTAssertEqual(d.report.count(.unscored), 1)
    }

    func testTiesAreKeptWhenAskedAndAnUnmappedLabelIsMalformed() throws {
        let c = try TempCatalog()
        let path = try c.data("a.jsonl", rows)
        try c.entry("keep", entry(path, extra: "filters: {drop_ties: false}"))
        XCTAssertEqual(try c.load("keep").train.count, 5)
        try c.entry("partial", entry(path, map: #"{"2": 1, "1": -1}"#))
        let d = try c.load("partial")
        XCTAssertEqual(d.report.count(.badScore), 2, "1.5 and 0 are not in the map")
    }

    func testALabelNeedsAScoreMapAndAPairLayout() throws {
        let c = try TempCatalog()
        let path = try c.data("a.jsonl", rows)
        try c.entry("nomap", """
        source: {path: "\(path)"}
        layout: pair
        fields: {prompt: instruction, chosen: output_2, rejected: output_1, label: preference}
        """)
        XCTAssertThrowsError(try c.load("nomap")) { XCTAssert("\($0)".contains("fields.label needs a score_map"), "\($0)") }
        try c.entry("rated", """
        source: {path: "\(path)"}
        layout: rated_rows
        fields: {prompt: instruction, response: output_2, overall: preference, label: preference}
        score_map: {"2": 1}
        """)
        XCTAssertThrowsError(try c.load("rated")) { XCTAssert("\($0)".contains("fields.label applies to layout pair only"), "\($0)") }
    }
}
