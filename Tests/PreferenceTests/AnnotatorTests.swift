import Foundation
import XCTest
@testable import Preference

/// Gold, simulated and external annotators: labels, ties, caching, budgets, noise.
final class AnnotatorTests: XCTestCase {
    let p = Prompt("q")

    func testGoldAnnotatorFollowsRewardAndCountsDistinctPairs() throws {
        let gold = GoldAnnotator(task: WordCollectorTask(), budget: 2)
        XCTAssertEqual(try gold.label(prompt: p, "data hope", "data"), .first)
        XCTAssertEqual(try gold.label(prompt: p, "data", "data hope"), .second)  // same pair, free
        XCTAssertEqual(gold.used, 1)
        XCTAssertEqual(try gold.label(prompt: p, "x", "your code"), .second)
        XCTAssertEqual(gold.used, 2)
        XCTAssertEqual(gold.remaining, 0)
        XCTAssertThrowsError(try gold.label(prompt: p, "a", "b")) { error in
            XCTAssertEqual(error as? BudgetExhausted, BudgetExhausted(budget: 2))
        }
        XCTAssertEqual(try gold.label(prompt: p, "data hope", "data"), .first)  // cached after exhaustion
        XCTAssertEqual(gold.used, 2)
    }

    /// Ties go to a content-seeded coin: fair, reproducible, and consistent under swapping.
    func testGoldTiesAreSeededCoins() throws {
        let a1 = GoldAnnotator(task: WordCollectorTask(), budget: nil, seed: 7)
        let a2 = GoldAnnotator(task: WordCollectorTask(), budget: nil, seed: 7)
        var firsts = 0
        for i in 0..<300 {
            let x = "cat \(i)", y = "dog \(i)"  // both score 0
            let l = try a1.label(prompt: p, x, y)
            XCTAssertEqual(try a2.label(prompt: p, y, x), l == .first ? .second : .first)
            if l == .first { firsts += 1 }
        }
        XCTAssertEqual(Double(firsts) / 300, 0.5, accuracy: 0.1)
    }

    func testSimulatedNoiseRateAndLengthBias() throws {
        let task = WordCollectorTask()
        let noisy = try SimulatedAnnotator(task: task, noiseRate: 0.3, seed: 1)
        let biased = try SimulatedAnnotator(task: task, lengthBias: 1, seed: 1)
        var disagree = 0
        for i in 0..<2000 {
            let good = "data hope \(i)", bad = "nothing here at all \(i)"  // bad is longer
            if try noisy.label(prompt: p, good, bad) == .second { disagree += 1 }
            XCTAssertEqual(try biased.label(prompt: p, good, bad), .second)
        }
        XCTAssertEqual(Double(disagree) / 2000, 0.3, accuracy: 0.035)
        XCTAssertEqual(noisy.used, 2000)
        XCTAssertThrowsError(try SimulatedAnnotator(task: task, noiseRate: 1.5))
        XCTAssertThrowsError(try SimulatedAnnotator(task: task, judgement: .aspect("style"))) { error in
            XCTAssertTrue("\(error)".contains("has no aspect scores"), "\(error)")
        }
    }

    /// A two-aspect task: length in words vs number of exclamation marks.
    struct TwoAspects: AspectScoredTask {
        let name = "two_aspects"
        let aspects = ["words", "excitement"]
        func prompts(count: Int, split: TaskSplit, seed: UInt64) -> [Prompt] { [] }
        func demonstrations(count: Int, seed: UInt64) -> [(prompt: Prompt, response: String)] { [] }
        func aspectScores(prompt: Prompt, response: String) -> [String: Double] {
            ["words": Double(TaskText.words(response).count), "excitement": Double(response.filter { $0 == "!" }.count)]
        }
        func reward(prompt: Prompt, response: String) -> Double { aspectScores(prompt: prompt, response: response).values.reduce(0, +) }
    }

    func testSimulatedPerAspectJudgement() throws {
        let a = "one two three four", b = "wow!!"
        XCTAssertEqual(try SimulatedAnnotator(task: TwoAspects(), judgement: .aspect("words")).label(prompt: p, a, b), .first)
        XCTAssertEqual(try SimulatedAnnotator(task: TwoAspects(), judgement: .aspect("excitement")).label(prompt: p, a, b), .second)
        XCTAssertEqual(try SimulatedAnnotator(task: TwoAspects()).label(prompt: p, a, b), .first)  // 4 vs 3
        XCTAssertThrowsError(try SimulatedAnnotator(task: TwoAspects(), judgement: .aspect("tone")))
    }

    func judgePath() throws -> String {
        let root = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return root.appendingPathComponent("tasks/judge.sh").path
    }

    func testExternalAnnotatorTalksJSONLines() throws {
        let judge = try ExternalAnnotator(command: ["sh", try judgePath()], budget: 4, seed: 3)
        XCTAssertEqual(try judge.label(prompt: p, "good answer", "meh"), .first)
        XCTAssertEqual(try judge.label(prompt: p, "meh", "good answer"), .second)  // cached
        XCTAssertEqual(try judge.label(prompt: Prompt("scores"), "x", "y"), .second)
        let tie = try judge.label(prompt: Prompt("tie"), "x", "y")
        XCTAssertEqual(try judge.label(prompt: Prompt("tie"), "y", "x"), tie == .first ? .second : .first)
        XCTAssertEqual(judge.used, 3)
        XCTAssertThrowsError(try judge.label(prompt: p, "so", "so")) { error in
            XCTAssertTrue("\(error)".contains("expected \"a\" or \"b\""), "\(error)")
        }
        XCTAssertEqual(judge.used, 3)  // a failed request costs nothing
        XCTAssertThrowsError(try judge.label(prompt: Prompt("garbage"), "x", "y")) { error in
            XCTAssertTrue("\(error)".contains("not a JSON object"), "\(error)")
        }
        XCTAssertThrowsError(try judge.label(prompt: Prompt("quit"), "x", "y")) { error in
            XCTAssertTrue("\(error)".contains("closed its output"), "\(error)")
        }
        judge.close()
    }

    func testExternalAnnotatorBadCommand() {
        XCTAssertThrowsError(try ExternalAnnotator(command: []))
    }
}
