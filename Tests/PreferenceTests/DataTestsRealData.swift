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

    /// Every entry loads; AlpacaEval and its strength subsets and the mixture have the measured counts.
    func testEveryEntryValidatesWithItsCounts() throws {
        let results = try timed("validateAll") { try catalog().validateAll(seed: 1) }
        var reports: [String: LoadReport] = [:]
        for r in results {
            switch r.result {
            case .success(let rep): reports[r.name] = rep
            case .failure(let e): XCTFail("\(r.name): \(e)")
            }
        }
        XCTAssertEqual(results.map(\.name), ["alpaca_eval_gpt4", "alpaca_eval_gpt4_bottom", "alpaca_eval_gpt4_middle", "alpaca_eval_gpt4_pairs",
                                             "alpaca_eval_gpt4_pairs_short", "alpaca_eval_gpt4_short", "alpaca_eval_gpt4_top",
                                             "gsm8k_test", "gsm8k_train", "hh_rlhf_harmless_short", "hh_rlhf_harmless_test",
                                             "hh_rlhf_helpful_short", "hh_rlhf_helpful_test", "hh_rlhf_helpful_test_64",
                                             "hh_rlhf_helpful_test_parquet", "mix_real_short", "mix_rm"])
        let all = try XCTUnwrap(reports["alpaca_eval_gpt4"])
        XCTAssertEqual(all.rowsRead, 53 * 805)
        XCTAssertEqual(all.count(.unscored), 61)
        XCTAssertEqual(all.count(.emptyResponse), 16)
        XCTAssertEqual(all.generators.count, 53)
        XCTAssertEqual(all.generators.first?.name, "gpt4_1106_preview")
        XCTAssertEqual(all.generators.last?.name, "text_davinci_001")
        XCTAssertEqual(all.ties, 8)
        XCTAssertEqual(all.kept, 797)
        var groupSizes: [Int] = []
        for (g, index) in [("top", 1), ("middle", 2), ("bottom", 3)] {
            let rep = try XCTUnwrap(reports["alpaca_eval_gpt4_\(g)"])
            groupSizes.append(rep.generators.filter { $0.group == index }.count)
            XCTAssertEqual(rep.ties + rep.kept + rep.count(.tooFewResponses), 805, g)
            print("\(g): kept \(rep.kept), ties \(rep.ties), other_generator \(rep.count(.otherGenerator))")
        }
        XCTAssertEqual(groupSizes, [18, 18, 17])
        XCTAssertEqual(reports["alpaca_eval_gpt4_top"]?.kept, 282)
        XCTAssertEqual(reports["alpaca_eval_gpt4_middle"]?.kept, 495)
        XCTAssertEqual(reports["alpaca_eval_gpt4_bottom"]?.kept, 780)
        XCTAssertEqual(reports["gsm8k_train"]?.kept, 7473)
        XCTAssertEqual(reports["gsm8k_test"]?.kept, 1319)
        XCTAssertEqual(reports["hh_rlhf_harmless_test"]?.kept, 2308)
        // Mixture: 2000 HH + 500 AlpacaEval train pairs, plus both components' held-out pairs.
        XCTAssertEqual(reports["mix_rm"]?.kept, 2500 + 231 + 80)
    }

    /// The Parquet export (examples/data, by scripts/make_parquet_fixtures.py --real) added by YAML only:
    /// the same rows read, the same skips, the same train and held-out pairs as the JSONL original.
    func testParquetExportEqualsTheJSONLOriginal() throws {
        let c = try catalog()
        let jsonl = try timed("hh jsonl") { try c.load("hh_rlhf_helpful_test", seed: 1) }
        let parquet = try timed("hh parquet") { try c.load("hh_rlhf_helpful_test_parquet", seed: 1) }
        XCTAssertEqual(parquet.report.rowsRead, 2354)
        XCTAssertEqual(parquet.report.rowsRead, jsonl.report.rowsRead)
        XCTAssertEqual(parquet.report.kept, jsonl.report.kept)
        XCTAssertEqual(parquet.report.skipped.map(\.reason), jsonl.report.skipped.map(\.reason))
        XCTAssertEqual(parquet.report.skipped.map(\.count), jsonl.report.skipped.map(\.count))
        XCTAssertEqual(unsourced(parquet.train), unsourced(jsonl.train))
        XCTAssertEqual(unsourced(parquet.heldOut), unsourced(jsonl.heldOut))
    }
}
