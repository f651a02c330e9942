import XCTest
@testable import Preference

/// AlpacaEval's win rate and the external judge protocol, including judges that misbehave.
final class BenchmarkJudgeTests: XCTestCase {
    struct FixedJudge: PairwiseJudge {
        var preference: (JudgeRequest) -> Double
        func judge(_ requests: [JudgeRequest]) throws -> [Double] { requests.map(preference) }
    }

    var dir: URL!
    override func setUpWithError() throws { dir = try temporaryFolder("judge") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func annotations(_ n: Int) throws -> URL {
        let rows = (0..<n).map { ["instruction": "Say \($0).", "output_1": "ref \($0)", "generator_1": "text_davinci_003"] }
        let url = dir.appendingPathComponent("model.json")
        try JSONSerialization.data(withJSONObject: rows).write(to: url)
        return url
    }

    func script(_ body: String) throws -> [String] {
        let url = dir.appendingPathComponent("judge-\(UUID().uuidString).py")
        try body.write(to: url, atomically: true, encoding: .utf8)
        return ["python3", url.path]
    }

    func testWinRateCountsTiesHalf() throws {
        let judge = FixedJudge { r in r.instruction == "Say 0." ? 2 : r.instruction == "Say 1." ? 1.5 : 1 }
        let bench = AlpacaEvalBenchmark(file: try annotations(4), judge: judge)
        let r = try BenchmarkRunner.run(bench, model: ScriptedModel(respond: { _ in "mine" }), ledger: nil)
        XCTAssertEqual(r.map(\.score), [1, 0.5, 0, 0])
        XCTAssertEqual(bench.summarize(r)["win_rate"], 0.375)
    }

    func testExternalJudgeFollowsTheProtocol() throws {
        // Prefers the longer answer; ids in reverse order to show order does not matter.
        let cmd = try script("""
        import json, sys
        rows = [json.loads(l) for l in sys.stdin]
        for r in reversed(rows):
            p = 2 if len(r["output_2"]) > len(r["output_1"]) else 1.5 if len(r["output_2"]) == len(r["output_1"]) else 1
            print(json.dumps({"id": r["id"], "preference": p}))
        """)
        let bench = AlpacaEvalBenchmark(file: try annotations(3), judge: JudgeCommand(command: cmd, timeLimit: 20))
        let answers = ["a much longer answer", "ref 1", "x"]
        var i = 0
        let r = try BenchmarkRunner.run(bench, model: ScriptedModel(respond: { _ in defer { i += 1 }; return answers[i] }), ledger: nil)
        XCTAssertEqual(r.map(\.score), [1, 0.5, 0])
    }

    func testAJudgeThatHangsIsKilledWithAClearError() throws {
        let judge = JudgeCommand(command: try script("import time\ntime.sleep(60)\n"), timeLimit: 1)
        let t0 = Date()
        XCTAssertThrowsError(try judge.judge([JudgeRequest(id: "a", instruction: "i", output_1: "r", output_2: "o")])) {
            XCTAssert("\($0)".contains("gave no answer within 1.0 s"), "\($0)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 10)
    }

    func testGarbageAndIncompleteAnswersAreRejected() throws {
        let one = [JudgeRequest(id: "a", instruction: "i", output_1: "r", output_2: "o"),
                   JudgeRequest(id: "b", instruction: "i", output_1: "r", output_2: "o")]
        let cases: [(String, String)] = [
            ("{\"id\": \"a\", \"preference\": 2}\nthe model is great\n", "output line 2: expected {"),
            ("{\"id\": \"a\", \"preference\": 2}\n", "did not answer 1 of 2 requests (first: b)"),
            ("{\"id\": \"a\", \"preference\": 3}\n{\"id\": \"b\", \"preference\": 1}\n", "must be a number in [1, 2], got 3"),
            ("{\"id\": \"a\", \"preference\": \"2\"}\n", "must be a number in [1, 2]"),
            ("{\"id\": \"a\", \"preference\": true}\n", "must be a number in [1, 2]"),
            ("{\"id\": \"z\", \"preference\": 1}\n", "unknown id 'z'"),
            ("{\"id\": \"a\", \"preference\": 1}\n{\"id\": \"a\", \"preference\": 1}\n", "id 'a' answered twice"),
            ("", "printed no answers"),
        ]
        for (output, expected) in cases {
            XCTAssertThrowsError(try JudgeCommand.parse(Data(output.utf8), requests: one, name: "j")) {
                XCTAssert("\($0)".contains(expected), "\(output.debugDescription): \($0)")
            }
        }
        XCTAssertEqual(try JudgeCommand.parse(Data("\n{\"id\": \"b\", \"preference\": 1}\n{\"id\": \"a\", \"preference\": 1.5}".utf8),
                                              requests: one, name: "j"), [1.5, 1])
        let failing = JudgeCommand(command: try script("import sys\nsys.stderr.write('no key')\nsys.exit(3)\n"), timeLimit: 20)
        XCTAssertThrowsError(try failing.judge(one)) { XCTAssert("\($0)".contains("exited with status 3: no key"), "\($0)") }
    }

    func testAFailingJudgeLosesNoFinishedItem() throws {
        let bench = AlpacaEvalBenchmark(file: try annotations(4), judge: FixedJudge { r in r.instruction == "Say 3." ? 7 : 2 })
        let ledger = try BenchmarkLedger(url: dir.appendingPathComponent("resume/items.jsonl"))
        XCTAssertThrowsError(try BenchmarkRunner.run(bench, model: ScriptedModel(respond: { _ in "a" }), ledger: ledger, block: 2)) {
            XCTAssert("\($0)".contains("is 7.0, expected a number in [1, 2]"), "\($0)")
        }
        XCTAssertEqual(try BenchmarkLedger(url: ledger.url).items.map(\.id), ["alpaca_eval/0", "alpaca_eval/1"])
    }
}
