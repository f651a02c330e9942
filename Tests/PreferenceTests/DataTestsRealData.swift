import XCTest
@testable import Preference

/// Loads every real catalogue entry from ../shared/data and checks its counts (skipped when absent).
final class DataTestsRealData: XCTestCase {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The catalogue with a root whose ../shared/data exists: the repository itself, or (in a helper's
    /// worktree one level deeper) the nearest ancestor that has shared/data.
    func catalog() throws -> DatasetCatalog {
        var dir = Self.repoRoot
        var root: URL?
        for _ in 0..<3 {
            let shared = dir.appendingPathComponent("../shared/data").standardizedFileURL
            if FileManager.default.fileExists(atPath: shared.path) { root = dir; break }
            dir = dir.deletingLastPathComponent()
        }
        guard let root else { throw XCTSkip("../shared/data is absent") }
        return try DatasetCatalog(directory: Self.repoRoot.appendingPathComponent("Recipes/datasets"), root: root)
    }

    func timed<T>(_ label: String, _ f: () throws -> T) rethrows -> T {
        let t0 = Date()
        defer { print("\(label): \(String(format: "%.2f", Date().timeIntervalSince(t0)))s") }
        return try f()
    }

    func testHHRLHFHarmlessTest() throws {
        let d = try timed("hh") { try catalog().load("hh_rlhf_harmless_test", seed: 1) }
        print(DatasetInspector.render(d, examples: 0))
        XCTAssertEqual(d.report.rowsRead, 2312)
        XCTAssertEqual(d.report.count(.emptyResponse), 4)
        XCTAssertEqual(d.report.kept, 2308)
        XCTAssertEqual(d.train.count + d.heldOut.count, 2308)
        let trainPrompts = Set(d.train.map(\.prompt.messages)), heldPrompts = Set(d.heldOut.map(\.prompt.messages))
        XCTAssertTrue(trainPrompts.isDisjoint(with: heldPrompts))
        XCTAssertEqual(heldPrompts.count, Int((Double(trainPrompts.count + heldPrompts.count) * 0.1).rounded()))
        XCTAssertTrue(d.train.allSatisfy { $0.prompt.messages.last?.role == "user" && !$0.chosen.isEmpty })
    }

    func testGSM8K() throws {
        let c = try catalog()
        let train = try timed("gsm8k_train") { try c.load("gsm8k_train", seed: 1) }
        let test = try c.load("gsm8k_test", seed: 1)
        XCTAssertEqual(train.prompts.count, 7473)
        XCTAssertEqual(train.verifiable.count, 7473)
        XCTAssertEqual(test.verifiable.count, 1319)
        XCTAssertEqual(test.verifiable[0].answer, "18")
        // Every reference solution checks as correct against its own answer.
        XCTAssertTrue(test.verifiable.allSatisfy { GSM8K.isCorrect(response: $0.reference ?? "", answer: $0.answer) })
        let prompts = try c.loadPrompts(PromptSetSpec(dataset: "gsm8k_train", size: 100), seed: 3)
        XCTAssertEqual(prompts.count, 100)
        XCTAssertEqual(Set(prompts).count, 100)
    }

    func testAlpacaEvalBinarizedAndStrengthSubsets() throws {
        let c = try catalog()
        let all = try timed("alpaca_eval_gpt4") { try c.load("alpaca_eval_gpt4", seed: 1) }
        print(DatasetInspector.render(all, examples: 0))
        XCTAssertEqual(all.report.rowsRead, 53 * 805)
        XCTAssertEqual(all.report.count(.unscored), 61)
        XCTAssertEqual(all.report.count(.emptyResponse), 16)
        XCTAssertEqual(all.report.generators.count, 53)
        XCTAssertEqual(all.report.ties + all.train.count + all.heldOut.count, 805)
        XCTAssertTrue(all.train.allSatisfy { ($0.margin ?? 0) > 0 })
        var sizes: [Int] = []
        for g in ["top", "middle", "bottom"] {
            let d = try timed("alpaca_eval_gpt4_\(g)") { try c.load("alpaca_eval_gpt4_\(g)", seed: 1) }
            print("\(g): train \(d.train.count), ties \(d.report.ties), other_generator \(d.report.count(.otherGenerator))")
            sizes.append(d.report.generators.filter { $0.group == ["top": 1, "middle": 2, "bottom": 3][g] }.count)
            XCTAssertEqual(d.report.ties + d.train.count + d.report.count(.tooFewResponses), 805)
        }
        XCTAssertEqual(sizes, [18, 18, 17])
    }

    func testEveryEntryValidates() throws {
        let results = try catalog().validateAll(seed: 0)
        for r in results { if case .failure(let e) = r.result { XCTFail("\(r.name): \(e)") } }
        XCTAssertEqual(results.count, 8)
    }
}
