import Preference
import XCTest

/// The labelling arithmetic behind `task_preferences` and `world_preferences` summaries.
final class PairSamplingTests: XCTestCase {
    /// Gold reward = response length, so the longer response is the better one.
    private struct LengthTask: GoldTask {
        let name = "length"
        func prompts(count: Int, split: TaskSplit, seed: UInt64) -> [Prompt] { (0..<count).map { Prompt("p\($0)") } }
        func reward(prompt: Prompt, response: String) -> Double { Double(response.count) }
        func demonstrations(count: Int, seed: UInt64) -> [(prompt: Prompt, response: String)] { [] }
    }

    /// Always prefers the first response shown.
    private struct FirstAnnotator: Annotator {
        func label(prompt: Prompt, _ a: String, _ b: String) throws -> PreferenceLabel { .first }
    }

    func testLabelCountsTiesAgreementAndGap() throws {
        var stats = PairSampling.Stats()
        let task = LengthTask(), annotator = FirstAnnotator(), p = Prompt("p")
        let agree = try PairSampling.label(prompt: p, "long", "ab", task: task, annotator: annotator, dropTies: true, stats: &stats)
        let disagree = try PairSampling.label(prompt: p, "a", "abcdef", task: task, annotator: annotator, dropTies: true, stats: &stats)
        let tie = try PairSampling.label(prompt: p, "xy", "zw", task: task, annotator: annotator, dropTies: true, stats: &stats)
        XCTAssertEqual(agree?.chosen, "long")
        XCTAssertEqual(agree?.margin, 2)
        XCTAssertEqual(disagree?.chosen, "a")
        XCTAssertNil(tie)
        XCTAssertEqual(stats.ties, 1)
        XCTAssertEqual(stats.labelled, 2)
        XCTAssertEqual(stats.agreement, 0.5)
        XCTAssertEqual(stats.meanGap, 3.5)   // (2 + 5) / 2
    }

    func testKeptTieIsLabelledAndCounted() throws {
        var stats = PairSampling.Stats()
        let pair = try PairSampling.label(prompt: Prompt("p"), "xy", "zw", task: LengthTask(), annotator: FirstAnnotator(),
                                          dropTies: false, stats: &stats)
        XCTAssertEqual(pair?.chosen, "xy")
        XCTAssertEqual(stats.ties, 1)
        XCTAssertEqual(stats.labelled, 1)
        XCTAssertEqual(stats.agreement, 1)   // a tie agrees either way (ra >= rb)
    }

    func testGoldAgreementFromMargins() {
        let p = Prompt("p")
        let pairs = [PreferencePair(prompt: p, chosen: "a", rejected: "b", margin: 0.4),
                     PreferencePair(prompt: p, chosen: "a", rejected: "b", margin: -0.1),
                     PreferencePair(prompt: p, chosen: "a", rejected: "b", margin: 0),
                     PreferencePair(prompt: p, chosen: "a", rejected: "b", margin: nil)]
        XCTAssertEqual(PairSampling.goldAgreement(pairs), 1.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(PairSampling.goldAgreement([]), 0)
    }
}
