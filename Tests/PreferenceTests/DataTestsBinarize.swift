import XCTest
@testable import Preference

/// Rated multi-response data: a new format added by a YAML entry alone, and the binarization strategies.
final class DataTestsBinarize: XCTestCase {
    /// UltraFeedback-like rows (never named in the code): a list of completions with an overall score
    /// and per-aspect ratings written as strings.
    func ratedEntry(_ binarize: String, _ extra: String = "") -> String {
        """
        description: rated multi-response fixture with per-aspect scores
        source: {path: "\(TempCatalog.fixture("rated.jsonl"))"}
        layout: rated
        fields:
          prompt: instruction
          category: source
          responses: completions
          response: response
          generator: model
          overall: fine_grained_score
          aspects:
            helpfulness: annotations.helpfulness.Rating
            truthfulness: annotations.truthfulness.Rating
        binarize: \(binarize)
        \(extra)
        """
    }

    func load(_ binarize: String, _ extra: String = "", seed: UInt64 = 7) throws -> LoadedDataset {
        let t = try TempCatalog()
        try t.entry("rated", ratedEntry(binarize, extra))
        return try t.load("rated", seed: seed)
    }

    func testOverallBestVsRandomLower() throws {
        let d = try load("{strategy: overall}")
        XCTAssertEqual(d.report.rowsRead, 4)
        XCTAssertEqual(d.train.count, 2)
        XCTAssertEqual(d.report.ties, 1)  // p2: every overall score is 5
        XCTAssertEqual(d.report.count(.tooFewResponses), 1)  // p3: one response
        XCTAssertEqual(d.report.count(.unscored), 1)  // p4: A4 has a null overall
        XCTAssertEqual(d.train[0].chosen, "A1")
        XCTAssertTrue(["B1", "C1"].contains(d.train[0].rejected))
        XCTAssertEqual(d.train[1].chosen, "B4")
        XCTAssertEqual(d.train[1].rejected, "C4")
        XCTAssertEqual(d.train[1].margin, 4)
        XCTAssertEqual(d.train[0].prompt.source, "flan")
        // The rejected one is drawn from the seed: both lower responses occur over seeds, each seed repeats.
        let rejected = try (0..<16).map { try load("{strategy: overall}", seed: UInt64($0)).train[0].rejected }
        XCTAssertEqual(Set(rejected), ["B1", "C1"])
        XCTAssertEqual(try load("{strategy: overall}", seed: 3).train, try load("{strategy: overall}", seed: 3).train)
    }

    func testFineGrainedMeanAveragesAspects() throws {
        let d = try load("{strategy: fine_grained_mean}")
        XCTAssertEqual(d.train.map(\.chosen), ["B1", "A2", "C4"])  // means 5, 4 (vs 2 and 3: N/A not counted), 5
        XCTAssertEqual(d.report.ties, 0)
        XCTAssertEqual(d.report.count(.unscored), 0)
        XCTAssertTrue(["A1", "C1"].contains(d.train[0].rejected))
        XCTAssertTrue(["B2", "C2"].contains(d.train[1].rejected))
        XCTAssertTrue(["A4", "B4"].contains(d.train[2].rejected))
    }

    func testBestVsWorstIsDeterministicWithoutTies() throws {
        let byOverall = try load("{strategy: best_vs_worst}")
        XCTAssertEqual(byOverall.train.map(\.chosen), ["A1", "B4"])
        XCTAssertEqual(byOverall.train.map(\.rejected), ["C1", "C4"])
        XCTAssertEqual(byOverall.train.map(\.margin), [6, 4])
        let byAspects = try load("{strategy: best_vs_worst, score: fine_grained_mean}")
        XCTAssertEqual(byAspects.train.map(\.chosen), ["B1", "A2", "C4"])
        XCTAssertEqual(byAspects.train.map(\.rejected), ["C1", "B2", "A4"])
        XCTAssertEqual(byAspects.train.map(\.margin), [4, 2, 4])
    }

    func testGeneratorAndCategorySelection() throws {
        let gens = try load("{strategy: overall, generators: [m1, m3]}")
        XCTAssertEqual(gens.train.map(\.chosen), ["A1"])
        XCTAssertEqual(gens.train.map(\.rejected), ["C1"])
        XCTAssertEqual(gens.report.count(.otherGenerator), 3)
        XCTAssertEqual(gens.report.ties, 1)
        XCTAssertEqual(gens.report.count(.tooFewResponses), 2)
        let flan = try load("{strategy: best_vs_worst}", "filters: {categories: [flan]}")
        XCTAssertEqual(flan.train.map(\.chosen), ["A1", "B4"])
        XCTAssertEqual(flan.report.count(.otherCategory), 1)
    }

    /// AlpacaEval-shaped folder: one file per generator, each output judged against a reference.
    func judgedEntry(_ group: String) -> String {
        """
        source: {path: "\(TempCatalog.fixture("judged"))", pattern: "*.json.gz", generator_from_filename: true}
        layout: rated_rows
        fields: {prompt: instruction, response: output_2, overall: preference}
        score_map: {"2": 1, "1.5": 0.5, "0": 0.5, "1": 0}
        \(group)
        """
    }

    func testJudgedRowsGroupedPerInstructionAndStrengthGroups() throws {
        let t = try TempCatalog()
        try t.entry("all", judgedEntry(""))
        try t.entry("top", judgedEntry("binarize: {strategy: overall, generator_groups: 2, generator_group: top}"))
        try t.entry("bottom", judgedEntry("binarize: {strategy: overall, generator_groups: 2, generator_group: bottom}"))
        let all = try t.load("all")
        XCTAssertEqual(all.report.rowsRead, 16)
        XCTAssertEqual(all.report.count(.unscored), 1)
        XCTAssertEqual(all.train.count, 3)
        XCTAssertEqual(all.report.ties, 1)
        XCTAssertEqual(all.report.generators.map(\.name), ["gen_a", "gen_b", "gen_d", "gen_c"])
        XCTAssertEqual(all.report.generators.map(\.mean), [0.75, 0.375, 0.375, 0])
        XCTAssertEqual(all.train[2].chosen, "gen_a says 2")
        let top = try t.load("top")
        XCTAssertEqual(top.report.generators.map(\.group), [1, 1, 2, 2])
        XCTAssertEqual(top.train.map(\.chosen), ["gen_a says 1", "gen_a says 2"])
        XCTAssertEqual(top.train.map(\.rejected), ["gen_b says 1", "gen_b says 2"])
        XCTAssertEqual(top.train.map(\.margin), [1, 0.5])
        XCTAssertEqual(top.report.ties, 2)
        XCTAssertEqual(top.report.count(.otherGenerator), 7)
        let bottom = try t.load("bottom")
        XCTAssertEqual(bottom.train.map(\.chosen), ["gen_d says 1", "gen_d says 2"])
        XCTAssertEqual(bottom.report.ties, 1)
        XCTAssertEqual(bottom.report.count(.tooFewResponses), 1)
    }

    func testSameTextIsNeverPairedWithItself() throws {
        let t = try TempCatalog()
        let rows = [#"{"q": "a", "r": "x", "s": 1}"#, #"{"q": "a", "r": "x", "s": 0}"#, #"{"q": "a", "r": "y", "s": 0}"#,
                    #"{"q": "b", "r": "z", "s": 1}"#, #"{"q": "b", "r": "z", "s": 0}"#].joined(separator: "\n")
        try t.entry("e", "source: {path: \"\(try t.data("same.jsonl", rows))\"}\nlayout: rated_rows\nfields: {prompt: q, response: r, overall: s}\n")
        for seed in 0..<8 {
            let d = try t.load("e", seed: UInt64(seed))
            XCTAssertEqual(d.train.map(\.rejected), ["y"])  // never the other "x"
            XCTAssertEqual(d.report.ties, 1)  // "b": its only lower response is the same text
        }
    }
}
