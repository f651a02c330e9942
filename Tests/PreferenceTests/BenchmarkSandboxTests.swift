import XCTest
@testable import Preference

/// HumanEval's code runs contained: a time limit, no network, no writes outside its scratch folder,
/// and the scratch folder is gone afterwards. Every test uses a sacrificial temporary root.
final class BenchmarkSandboxTests: XCTestCase {
    var root: URL!
    var sentinel: URL { root.appendingPathComponent("sentinel.txt") }

    override func setUpWithError() throws {
        root = try temporaryFolder("sandbox-root")
        try Data("keep me".utf8).write(to: sentinel)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func sandbox(_ limit: Double = 3) -> CodeSandbox { CodeSandbox(timeLimit: limit, root: root) }

    func testAPassingAndAFailingProgramAndTheScratchFolderIsRemoved() throws {
        XCTAssertEqual(try sandbox().run("assert sum([1, 2]) == 3\nopen('out.txt', 'w').write('x')\n"), .passed)
        guard case .failed(let tail) = try sandbox().run("assert 1 == 2, 'boom'\n") else { return XCTFail("should fail") }
        XCTAssert(tail.contains("AssertionError: boom"), tail)
        let left = try FileManager.default.contentsOfDirectory(atPath: root.path)
        XCTAssertEqual(left, ["sentinel.txt"], "scratch folders are deleted")
    }

    func testAnInfiniteLoopIsStoppedAtTheTimeLimit() throws {
        let t0 = Date()
        XCTAssertEqual(try sandbox(1).run("while True:\n    pass\n"), .timedOut)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 6)
    }

    /// `rm -rf` of the sacrificial root (the scratch folder's grandparent) by every route Python has.
    func testRemovingTheScratchParentIsContained() throws {
        let program = """
        import os, shutil, subprocess
        target = os.path.dirname(os.path.dirname(os.getcwd()))
        assert os.path.exists(os.path.join(target, "sentinel.txt")), target
        for attempt in (lambda: subprocess.run(["rm", "-rf", target]), lambda: shutil.rmtree(target),
                        lambda: os.remove(os.path.join(target, "sentinel.txt"))):
            try:
                attempt()
            except Exception as e:
                print("blocked:", e)
        """
        _ = try sandbox().run(program)
        XCTAssertEqual(try String(contentsOf: sentinel, encoding: .utf8), "keep me")
    }

    /// A listener on this machine's loopback is reachable from here but not from inside the sandbox.
    func testANetworkCallIsBlocked() throws {
        let listener = Process()
        listener.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        listener.arguments = ["python3", "-c", "import socket,time\ns=socket.socket();s.bind(('127.0.0.1',0));s.listen()\n"
                              + "print(s.getsockname()[1],flush=True)\ntime.sleep(30)"]
        let out = Pipe()
        listener.standardOutput = out
        try listener.run()
        defer { listener.terminate() }
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        let port = try XCTUnwrap(Int(line.trimmingCharacters(in: .whitespacesAndNewlines)))
        let connect = "import socket\nsocket.create_connection(('127.0.0.1', \(port)), timeout=2).close()\n"
        guard case .failed = try sandbox(5).run(connect) else { return XCTFail("the connection went through") }
        // Control: the same program outside the sandbox connects, so the failure above is the sandbox's doing.
        let control = Process()
        control.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        control.arguments = ["python3", "-c", connect]
        try control.run()
        control.waitUntilExit()
        XCTAssertEqual(control.terminationStatus, 0)
    }

    func testTheFallbackGuardAlsoContainsDeletionAndNetwork() throws {
        let guarded = CodeSandbox(timeLimit: 3, root: root, isolation: .pythonGuard)
        _ = try guarded.run("import shutil, os\nshutil.rmtree(os.path.dirname(os.path.dirname(os.getcwd())))\n")
        XCTAssertEqual(try String(contentsOf: sentinel, encoding: .utf8), "keep me")
        guard case .failed(let tail) = try guarded.run("import urllib.request\nurllib.request.urlopen('http://127.0.0.1:9')\n") else {
            return XCTFail("network should fail")
        }
        XCTAssert(tail.contains("blocked by the PrefLab code sandbox"), tail)
        XCTAssertEqual(try guarded.run("while True:\n    pass\n"), .timedOut)
    }

    func testHumanEvalReadsTheFunctionOutOfAChatAnswer() throws {
        let item = HumanEvalBenchmark.Item(taskID: "T/0", prompt: "from typing import List\n\n\ndef add(a, b):\n    \"\"\"Sum.\"\"\"\n",
                                           entryPoint: "add", canonicalSolution: "    return a + b\n",
                                           test: "def check(candidate):\n    assert candidate(2, 3) == 5\n")
        // As the prompt opens a fence, the answer starts inside it; the example call and assert after the
        // function are dropped, the prose after the fence too.
        let answer = "def add(a, b):\n    return a + b\n\nprint(add(1, 2))\nassert add(1, 1) == 3\n```\nIt adds."
        XCTAssertEqual(HumanEvalCode.sanitized(answer, entryPoint: "add"), "def add(a, b):\n    return a + b\n")
        XCTAssertNil(HumanEvalCode.sanitized("It cannot be done.\n```python\nx = 1\n```", entryPoint: "add"))
        XCTAssert(HumanEvalBenchmark.program(item, response: answer).hasPrefix("from typing import List\ndef add("))
        let bench = HumanEvalBenchmark(file: URL(fileURLWithPath: "/x"), sandbox: sandbox())
        let r = try bench.score([item, item, item], responses: [answer, "def add(a, b):\n    return a - b\n```", "    return a + b\n```"])
        XCTAssertEqual(r.map(\.score), [1, 0, 0], "a bare body defines no function: it fails, as under evalplus")
        XCTAssertEqual(bench.summarize(r)["pass@1"] ?? 0, 1.0 / 3, accuracy: 1e-12)
    }

    /// Every answer of the golden file (scripts/benchmarks/make_humaneval_golden.py: SmolLM2-135M-Instruct's
    /// real answers and made-up chat answers) passes or fails as it does under evalplus's `sanitize`.
    func testHumanEvalExtractionAgreesWithEvalplusSanitizeOnTheGoldenAnswers() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/benchmarks/humaneval_golden.jsonl")
        let rows = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(rows.count, 183)
        var disagreements: [String] = [], passed = 0
        for r in rows {
            let item = HumanEvalBenchmark.Item(taskID: r["task_id"] as! String, prompt: r["prompt"] as! String,
                                               entryPoint: r["entry_point"] as! String, canonicalSolution: "", test: r["test"] as! String)
            let ours = try sandbox(10).run(HumanEvalBenchmark.program(item, response: r["response"] as! String)) == .passed
            passed += ours ? 1 : 0
            if ours != (r["evalplus_passed"] as! Bool) { disagreements.append("\(item.taskID) \(r["source"]!): ours \(ours)") }
        }
        XCTAssertEqual(disagreements, [])
        XCTAssertEqual(passed, 63)
    }
}
