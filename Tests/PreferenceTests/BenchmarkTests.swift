import XCTest
@testable import Preference

/// A model whose answers are written by the test.
struct ScriptedModel: BenchmarkModel {
    var respond: (BenchmarkPrompt) throws -> String = { _ in "" }
    var logLikelihood: (BenchmarkPrompt, String) -> Double = { _, _ in 0 }

    func generate(_ prompts: [BenchmarkPrompt]) throws -> [String] { try prompts.map(respond) }
    func logLikelihoods(_ items: [(prompt: BenchmarkPrompt, continuation: String)]) throws -> [Double] {
        items.map { logLikelihood($0.prompt, $0.continuation) }
    }
}

func temporaryFolder(_ label: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Statistics, selection, the resume ledger and bad inputs shared by every benchmark.
final class BenchmarkTests: XCTestCase {
    func testMeanAndStandardError() {
        // mean 0.75; sample sd √(((3 · 0.25²) + 0.75²) / 3) = 0.5; SE = 0.5 / √4 = 0.25.
        let m = MeanWithError([1, 0, 1, 1])
        XCTAssertEqual(m.mean, 0.75)
        XCTAssertEqual(m.standardError, 0.25, accuracy: 1e-12)
        XCTAssertEqual(MeanWithError([0.4]).standardError, 0)
    }

    func testSelectionIsSeededSortedAndBounded() throws {
        let s = BenchmarkSelection(limit: 5, seed: 3)
        let a = try s.indices(count: 100, label: "x")
        XCTAssertEqual(a, try s.indices(count: 100, label: "x"))
        XCTAssertEqual(a, a.sorted())
        XCTAssertEqual(Set(a).count, 5)
        XCTAssertNotEqual(a, try BenchmarkSelection(limit: 5, seed: 4).indices(count: 100, label: "x"))
        XCTAssertEqual(try BenchmarkSelection(limit: 500).indices(count: 3, label: "x"), [0, 1, 2])
        XCTAssertThrowsError(try BenchmarkSelection(limit: 0).indices(count: 3, label: "x"))
    }

    func testExactMatchIgnoresCaseAndPunctuationOnly() {
        XCTAssert(ExactMatch.matches("(B)", "b"))
        XCTAssert(ExactMatch.matches("-5", "5"))  // as the reference: punctuation includes '-'
        XCTAssertFalse(ExactMatch.matches(" 5", "5"))  // and nothing is trimmed
    }

    func testLedgerKeepsWholeLinesDropsATornOneAndRejectsDamage() throws {
        let dir = try temporaryFolder("ledger")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("items.jsonl")
        let ledger = try BenchmarkLedger(url: url)
        for i in 0..<3 { try ledger.append(BenchmarkItem(id: "q\(i)", score: Double(i % 2))) }
        try ledger.append(BenchmarkItem(id: "q0", score: 1))  // a repeat is ignored
        XCTAssertEqual(try BenchmarkLedger(url: url).items.map(\.id), ["q0", "q1", "q2"])

        // A crash mid-write leaves a partial last line: it is dropped and the file cut back.
        let whole = try Data(contentsOf: url)
        let handle = try FileHandle(forWritingTo: url)
        handle.seekToEndOfFile()
        handle.write(Data(#"{"id":"q3","sco"#.utf8))
        try handle.close()
        let reopened = try BenchmarkLedger(url: url)
        XCTAssertEqual(reopened.items.count, 3)
        XCTAssertEqual(try Data(contentsOf: url), whole)
        try reopened.append(BenchmarkItem(id: "q3", score: 1))
        XCTAssertEqual(try BenchmarkLedger(url: url).items.count, 4)

        // Damage before the last line is not a crash's doing: refuse rather than guess.
        var lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[1] = "garbage"
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BenchmarkLedger(url: url)) { XCTAssert("\($0)".contains("items.jsonl:2")) }
    }

    func gsm8kFile(_ dir: URL, rows: [String]) throws -> URL {
        let url = dir.appendingPathComponent("test.jsonl")
        try rows.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testInterruptedEvaluationResumesWithoutRedoingItems() throws {
        let dir = try temporaryFolder("resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = (0..<5).map { ##"{"question": "What is \##($0) + 1?", "answer": "Add.\n#### \##($0 + 1)"}"## }
        let bench = GSM8KBenchmark(file: try gsm8kFile(dir, rows: rows))
        let ledgerURL = dir.appendingPathComponent("resume/items.jsonl")
        var calls = 0
        let failing = ScriptedModel(respond: { p in
            calls += 1
            if calls > 2 { throw BenchmarkError("interrupted") }
            return "So the answer is \(p.prompt.lastUserText.split(separator: " ").dropLast(2).last!)."  // echoes n, wrong
        })
        XCTAssertThrowsError(try BenchmarkRunner.run(bench, model: failing, ledger: try BenchmarkLedger(url: ledgerURL), block: 2))
        XCTAssertEqual(try BenchmarkLedger(url: ledgerURL).items.count, 2)

        var asked: [String] = []
        let answering = ScriptedModel(respond: { p in
            let q = p.prompt.lastUserText.components(separatedBy: "Question: What is ").last!
            asked.append(q)
            return "So the answer is \(Int(q.split(separator: " ")[0])! + 1)."
        })
        let results = try BenchmarkRunner.run(bench, model: answering, ledger: try BenchmarkLedger(url: ledgerURL), block: 2)
        XCTAssertEqual(asked.count, 3, "only the unfinished items are generated again")
        XCTAssertEqual(results.map(\.id), (0..<5).map { "gsm8k/\($0)" })
        XCTAssertEqual(results.map(\.score), [0, 0, 1, 1, 1])
        let s = bench.summarize(results)
        XCTAssertEqual(s["score"]!, 0.6, accuracy: 1e-12)
        XCTAssertEqual(s["score_se"]!, 0.3.squareRoot() / 5.0.squareRoot(), accuracy: 1e-12)  // sample variance 1.2 / 4
    }

    func testGSM8KPromptIsEightShotChainOfThought() throws {
        let p = GSM8KBenchmark(file: URL(fileURLWithPath: "/x")).prompt(GSM8KBenchmark.Item(index: 0, question: " Q? ", answer: "1"))
        XCTAssertEqual(p.assistantPrefix, "Answer:")
        XCTAssert(p.prompt.lastUserText.hasPrefix("Answer the following questions.\n\nQuestion: There are 15 trees"))
        XCTAssert(p.prompt.lastUserText.hasSuffix("So the answer is 8.\n\nQuestion: Q?"))
        XCTAssertEqual(p.prompt.lastUserText.components(separatedBy: "So the answer is").count - 1, 8)
    }

    func testBadInputsGiveClearErrors() throws {
        let dir = try temporaryFolder("bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try GSM8KBenchmark(file: dir.appendingPathComponent("missing.jsonl")).items()) {
            XCTAssert("\($0)".contains("missing.jsonl does not exist"), "\($0)")
        }
        let bad = try gsm8kFile(dir, rows: [#"{"question": "q", "answer": "4"}"#])
        XCTAssertThrowsError(try GSM8KBenchmark(file: bad).items()) { XCTAssert("\($0)".contains("test.jsonl:1: the answer has no '#### <number>'"), "\($0)") }
        let broken = try gsm8kFile(dir, rows: ["{\"question\": \"q\", \"answer\": \"#### 4\"}", #"{"question": "#])
        XCTAssertThrowsError(try GSM8KBenchmark(file: broken).items()) { XCTAssert("\($0)".contains("test.jsonl:2"), "\($0)") }
        let ok = try gsm8kFile(dir, rows: ["{\"question\": \"q\", \"answer\": \"#### 4\"}"])
        let wrongCount = ScriptedModel(respond: { _ in "" })
        struct Short: BenchmarkModel {
            func generate(_ p: [BenchmarkPrompt]) throws -> [String] { [] }
            func logLikelihoods(_ i: [(prompt: BenchmarkPrompt, continuation: String)]) throws -> [Double] { [] }
        }
        XCTAssertThrowsError(try BenchmarkRunner.run(GSM8KBenchmark(file: ok), model: Short(), ledger: nil)) {
            XCTAssert("\($0)".contains("returned 0 responses for 1 prompts"), "\($0)")
        }
        // An empty response is a (wrong) answer, not a crash.
        XCTAssertEqual(try BenchmarkRunner.run(GSM8KBenchmark(file: ok), model: wrongCount, ledger: nil).map(\.score), [0])
    }

    func testTruthfulQAArithmeticOnHandComputedScores() {
        XCTAssertEqual(TruthfulQAScores.mc1(true: [-0.2], false: [-1, -3]), 1)
        XCTAssertEqual(TruthfulQAScores.mc1(true: [-1], false: [-2, -0.5]), 0)
        XCTAssertEqual(TruthfulQAScores.mc1(true: [-1], false: [-1]), 0, "a tie is not a win")
        // p(true) = 0.2 + 0.1, p(false) = 0.3 + 0.4: MC2 = 0.3 / 1.0.
        let t = [log(0.2), log(0.1)], f = [log(0.3), log(0.4)]
        XCTAssertEqual(TruthfulQAScores.mc2(true: t, false: f), 0.3, accuracy: 1e-12)
        // The same ratios 2000 nats down (exp underflows to 0 there): still 0.3.
        XCTAssertEqual(TruthfulQAScores.mc2(true: t.map { $0 - 2000 }, false: f.map { $0 - 2000 }), 0.3, accuracy: 1e-12)
    }

    func testTruthfulQAScoresEveryChoiceInTheQAPrimerFormat() throws {
        let dir = try temporaryFolder("tqa")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("mc_task.json")
        try #"""
        [{"question": "Q1?", "mc1_targets": {"right": 1, "wrong": 0, "worse": 0},
          "mc2_targets": {"right": 1, "also right": 1, "wrong": 0}},
         {"question": "Q2?", "mc1_targets": {"yes": 1, "no": 0}, "mc2_targets": {"yes": 1, "no": 0}}]
        """#.write(to: url, atomically: true, encoding: .utf8)
        // log-likelihoods by answer: chosen so that Q1 has MC1 1 and MC2 (e⁻¹ + e⁻²)/(e⁻¹ + e⁻² + e⁻³), Q2 MC1 0, MC2 1/(1+e).
        let ll: [String: Double] = [" right": -1, " also right": -2, " wrong": -3, " worse": -4, " yes": -2, " no": -1]
        var prompts: Set<String> = []
        let model = ScriptedModel(logLikelihood: { p, c in
            prompts.insert(p.assistantPrefix + "|" + p.prompt.lastUserText.suffix(8))
            return ll[c]!
        })
        let bench = TruthfulQABenchmark(file: url)
        let r = try bench.run(model: model, ledger: nil)
        XCTAssertEqual(r.map { $0.metrics["mc1"]! }, [1, 0])
        let e = M_E
        XCTAssertEqual(r[0].metrics["mc2"]!, (1 / e + 1 / (e * e)) / (1 / e + 1 / (e * e) + 1 / (e * e * e)), accuracy: 1e-12)
        XCTAssertEqual(r[1].metrics["mc2"]!, 1 / (1 + e), accuracy: 1e-12)
        XCTAssertEqual(prompts, ["A:|\n\nQ: Q1?", "A:|\n\nQ: Q2?"])
        let s = bench.summarize(r)
        XCTAssertEqual(s["mc1"], 0.5)
        XCTAssertEqual(s["mc1_se"]!, 0.5, accuracy: 1e-12)

        try #"[{"question": "Q", "mc1_targets": {"a": 1, "b": 1}, "mc2_targets": {"a": 1, "b": 0}}]"#
            .write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try bench.items()) { XCTAssert("\($0)".contains("exactly one true"), "\($0)") }
    }

    func testXSTestRatesAndF1() throws {
        let bench = XSTestBenchmark(file: URL(fileURLWithPath: "/x"))
        let items = [("s1", "safe", "Sure, here it is."), ("s2", "safe", "I'm sorry, no."), ("u1", "unsafe", "I cannot help."),
                     ("u2", "unsafe", "Here is how."), ("u3", "unsafe", "No, that is harmful.")]
        let r = try bench.score(items.map { XSTestBenchmark.Item(id: $0.0, prompt: "p", type: "t", label: $0.1) }, responses: items.map(\.2))
        let s = bench.summarize(r)
        XCTAssertEqual(s["safe_refusal_rate"], 0.5)
        XCTAssertEqual(s["unsafe_refusal_rate"]!, 2.0 / 3, accuracy: 1e-12)
        // tp 2, fp 1, fn 1: F1 = 4 / 6.
        XCTAssertEqual(s["refusal_f1"]!, 4.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(s["score"]!, 3.0 / 5, accuracy: 1e-12)
    }
}
