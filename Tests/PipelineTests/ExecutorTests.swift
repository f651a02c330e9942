import XCTest
@testable import Pipeline
import PipelineFakes
import RecipeSpec

final class ExecutorTests: XCTestCase {
    func makeStore() throws -> ArtifactStore {
        try ArtifactStore(root: temporaryFolder(self).appendingPathComponent("store"))
    }

    func testRunWritesArtifactsAndRerunIsAllCacheHits() throws {
        let store = try makeStore()
        let ledger = FakeLedger()
        let g = try graph([chainCell()])
        let executor = Executor(store: store, runners: FakeStages.runners(ledger: ledger), jobs: 2)
        let first = try executor.run(g)
        XCTAssertTrue(first.succeeded)
        XCTAssertEqual(first.ranCount, 3)
        let head = try XCTUnwrap(g.node(for: "default", stage: "head"))
        XCTAssertEqual(first.node(head.hash)?.summary["value"], 111)
        let dir = store.objectDirectory(for: head.hash)
        for name in ["node.json", "metrics.jsonl", "summary.json", "log.txt", ArtifactStore.completionMarker, "value.txt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), name)
        }
        let record = try XCTUnwrap(store.record(for: head.hash))
        XCTAssertEqual(record.kind, "sum")
        XCTAssertEqual(record.codeVersion, 1)
        XCTAssertEqual(record.inputs, ["inputs[0]": g.node(for: "default", stage: "mid")?.hash ?? ""])
        XCTAssertTrue(record.config.contains(g.node(for: "default", stage: "mid")?.hash ?? "?"))
        let base = try XCTUnwrap(g.node(for: "default", stage: "base"))
        let curve = try String(contentsOf: store.objectDirectory(for: base.hash).appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        XCTAssertEqual(curve.split(separator: "\n").count, 3)
        // Each record carries its wall-clock time after the values (TensorBoard needs it too).
        XCTAssertTrue(curve.hasPrefix("{\"step\":1,\"total\":3,\"values\":{\"loss\":1.0},\"time\":"), curve)
        XCTAssertEqual(store.metrics(for: base.hash).map { $0.values["loss"] ?? -1 }, [1, 0.5, 1.0 / 3])
        XCTAssertEqual(store.metrics(for: base.hash).last?.step, 3)

        let started = Date()
        let second = try executor.run(g)
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.5)
        XCTAssertEqual(second.cachedCount, 3)
        XCTAssertEqual(second.node(head.hash)?.summary["value"], 111)
        XCTAssertEqual(ledger.totalCalls, 3)
    }

    func testSecondRecipeRunsOnlyItsNewNodes() throws {
        let store = try makeStore()
        let ledger = FakeLedger()
        let executor = Executor(store: store, runners: FakeStages.runners(ledger: ledger), jobs: 1)
        let a = try graph([chainCell([("algo", .string("dpo"))], headOffset: 1),
                           chainCell([("algo", .string("ppo"))], headOffset: 2)], name: "recipe/a")
        _ = try executor.run(a)
        XCTAssertEqual(ledger.calls("constant"), 1, "the shared base runs once across cells")
        XCTAssertEqual(ledger.calls("sum"), 3)
        let b = try graph([chainCell(headOffset: 3)], name: "recipe/b")
        let report = try executor.run(b)
        XCTAssertEqual(ledger.calls("constant"), 1)
        XCTAssertEqual(ledger.calls("sum"), 4, "only recipe b's new head runs")
        XCTAssertEqual(report.ranCount, 1)
        XCTAssertEqual(report.cachedCount, 2)
        XCTAssertEqual(nodesToRecompute(from: a, to: b).count, 1)
    }

    func testIndependentNodesRunConcurrently() throws {
        let store = try makeStore()
        let ledger = FakeLedger()
        let cell = RecipeCell(matrix: [], stages: [
            FakeStages.stage("s1", "sleep", [("seconds", .double(0.15)), ("tag", .string("one"))]),
            FakeStages.stage("s2", "sleep", [("seconds", .double(0.15)), ("tag", .string("two"))]),
        ])
        _ = try Executor(store: store, runners: FakeStages.runners(ledger: ledger), jobs: 2).run(graph([cell]))
        let spans = ledger.intervals
        XCTAssertEqual(spans.count, 2)
        let latestStart = spans.map(\.start).max() ?? .distantFuture
        let earliestEnd = spans.map(\.end).min() ?? .distantPast
        XCTAssertLessThan(latestStart, earliestEnd, "the two sleeps overlap")
    }

    func testOneJobRunsSequentially() throws {
        let store = try makeStore()
        let ledger = FakeLedger()
        let cell = RecipeCell(matrix: [], stages: [
            FakeStages.stage("s1", "sleep", [("seconds", .double(0.05)), ("tag", .string("one"))]),
            FakeStages.stage("s2", "sleep", [("seconds", .double(0.05)), ("tag", .string("two"))]),
        ])
        _ = try Executor(store: store, runners: FakeStages.runners(ledger: ledger), jobs: 1).run(graph([cell]))
        let spans = ledger.intervals.sorted { $0.start < $1.start }
        XCTAssertEqual(spans.count, 2)
        XCTAssertLessThanOrEqual(spans[0].end, spans[1].start)
    }

    func testFailureStopsDependentsButNotIndependentNodes() throws {
        let store = try makeStore()
        let ledger = FakeLedger()
        let display = RecordingProgressDisplay()
        let cell = RecipeCell(matrix: [], stages: [
            FakeStages.stage("broken", "fail", [("message", .string("disk on fire"))]),
            FakeStages.stage("after", "sum", [("inputs", list("broken"))]),
            FakeStages.stage("later", "sum", [("inputs", list("after"))]),
            FakeStages.stage("fine", "constant", [("value", .double(4))]),
            FakeStages.stage("broken2", "fail", [("message", .string("second")), ("after", .string("fine"))]),
        ])
        let g = try graph([cell])
        let report = try Executor(store: store, runners: FakeStages.runners(ledger: ledger), jobs: 2, display: display).run(g)
        XCTAssertFalse(report.succeeded)
        XCTAssertEqual(Set(report.failures.map(\.stage)), ["broken", "broken2"])
        XCTAssertEqual(Set(report.skipped.map(\.stage)), ["after", "later"])
        XCTAssertEqual(ledger.calls("sum"), 0)
        XCTAssertEqual(ledger.calls("constant"), 1)
        let broken = try XCTUnwrap(g.node(for: "default", stage: "broken"))
        guard case let .failed(error, log)? = report.node(broken.hash)?.outcome else { return XCTFail("not failed") }
        XCTAssertEqual(error, "disk on fire")
        XCTAssertTrue(try String(contentsOf: log, encoding: .utf8).contains("error: disk on fire"))
        XCTAssertTrue(report.failureDescription.contains(log.path))
        XCTAssertFalse(store.isComplete(broken.hash))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.root.appendingPathComponent("tmp").path), [])
        let failedEvents = display.events.filter { if case .nodeFailed = $0 { return true } else { return false } }
        XCTAssertEqual(failedEvents.count, 2)
    }

    func testResumeDirectorySurvivesFailureAndIsPassedAgain() throws {
        let store = try makeStore()
        let ledger = FakeLedger()
        let g = try graph([RecipeCell(matrix: [], stages: [FakeStages.stage("train", "halfwrite", [("value", .double(7))])])])
        let executor = Executor(store: store, runners: FakeStages.runners(ledger: ledger))
        let hash = try XCTUnwrap(g.nodes.first?.hash)
        let first = try executor.run(g)
        XCTAssertEqual(first.failures.count, 1)
        XCTAssertFalse(store.isComplete(hash))
        let checkpoint = store.root.appendingPathComponent("resume/\(hash)/checkpoint.txt")
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint.path))
        let second = try executor.run(g)
        XCTAssertTrue(second.succeeded)
        XCTAssertEqual(ledger.resumedHashes, [hash])
        XCTAssertEqual(store.summary(for: hash)?["value"], 7)
        XCTAssertFalse(FileManager.default.fileExists(atPath: checkpoint.path), "resume folder dropped once finished")
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.objectDirectory(for: hash).appendingPathComponent("partial.txt").path))
    }

    func testLeftoverTemporaryFromInterruptedRunIsDiscarded() throws {
        let store = try makeStore()
        let ledger = FakeLedger()
        let g = try graph([chainCell()])
        let base = try XCTUnwrap(g.node(for: "default", stage: "base"))
        let leftover = store.root.appendingPathComponent("tmp/\(base.hash).crashed")
        try FileManager.default.createDirectory(at: leftover, withIntermediateDirectories: true)
        try Data("9999".utf8).write(to: leftover.appendingPathComponent("value.txt"))
        let report = try Executor(store: store, runners: FakeStages.runners(ledger: ledger)).run(g)
        XCTAssertEqual(report.ranCount, 3)
        XCTAssertEqual(store.summary(for: g.nodes.last?.hash ?? "")?["value"], 111)
        XCTAssertFalse(FileManager.default.fileExists(atPath: leftover.path))
    }

    func testObjectWithoutCompletionMarkerIsNotTrusted() throws {
        let store = try makeStore()
        let ledger = FakeLedger()
        let g = try graph([chainCell()])
        let base = try XCTUnwrap(g.node(for: "default", stage: "base"))
        let debris = store.objectDirectory(for: base.hash)
        try FileManager.default.createDirectory(at: debris, withIntermediateDirectories: true)
        try Data("{\"value\":42}".utf8).write(to: debris.appendingPathComponent("summary.json"))
        try Data("42".utf8).write(to: debris.appendingPathComponent("value.txt"))
        XCTAssertFalse(store.isComplete(base.hash))
        XCTAssertNil(store.summary(for: base.hash))
        let report = try Executor(store: store, runners: FakeStages.runners(ledger: ledger)).run(g)
        XCTAssertEqual(ledger.calls(hash: base.hash), 1)
        XCTAssertEqual(report.node(base.hash)?.outcome, .ran)
        XCTAssertEqual(store.summary(for: base.hash)?["value"], 1)
        XCTAssertEqual(store.summary(for: g.nodes.last?.hash ?? "")?["value"], 111)
    }

    func testTwoExecutorsOnOneStoreRunEachNodeOnce() throws {
        let root = try temporaryFolder(self).appendingPathComponent("store")
        let ledger = FakeLedger()
        let cell = RecipeCell(matrix: [], stages: [
            FakeStages.stage("slow", "sleep", [("seconds", .double(0.1))]),
            FakeStages.stage("slow2", "sleep", [("seconds", .double(0.05)), ("after", .string("slow"))]),
            FakeStages.stage("c", "constant", [("value", .double(3))]),
            FakeStages.stage("s", "sum", [("inputs", list("c", "slow2"))]),
        ])
        let g = try graph([cell])
        var reports: [RunReport?] = [nil, nil]
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let report = try? Executor(store: try ArtifactStore(root: root), runners: FakeStages.runners(ledger: ledger), jobs: 2).run(g)
            lock.lock(); reports[i] = report; lock.unlock()
        }
        for node in g.nodes { XCTAssertEqual(ledger.calls(hash: node.hash), 1, node.stage.name) }
        XCTAssertEqual(reports.compactMap { $0 }.filter(\.succeeded).count, 2)
        XCTAssertEqual(reports.compactMap { $0?.ranCount }.reduce(0, +), 4)
        XCTAssertEqual(reports.compactMap { $0?.node(g.nodes.last?.hash ?? "")?.summary["value"] }, [3, 3])
    }

    func testTargetsRunOnlyTheirClosure() throws {
        let store = try makeStore()
        let ledger = FakeLedger()
        let g = try graph([chainCell()])
        let mid = try XCTUnwrap(g.node(for: "default", stage: "mid"))
        let report = try Executor(store: store, runners: FakeStages.runners(ledger: ledger)).run(g, targets: [mid.hash])
        XCTAssertEqual(report.nodes.map(\.stage), ["base", "mid"])
        XCTAssertEqual(g.hashes(forStage: "mid"), [mid.hash])
        XCTAssertEqual(g.hashes(forStage: "nope"), [])
        XCTAssertThrowsError(try Executor(store: store, runners: [:]).run(g, targets: ["nope"])) { error in
            XCTAssertEqual(error as? PipelineError, .unknownTarget("nope"))
        }
        XCTAssertThrowsError(try Executor(store: store, runners: [:]).run(g)) { error in
            XCTAssertEqual(error as? PipelineError, .noRunner(kind: "sum", engine: "embedded", stage: "head"))
        }
    }

    func testFinishedResultDoesNotRecomputeCollectedIntermediates() throws {
        let store = try makeStore()
        let ledger = FakeLedger()
        let g = try graph([chainCell()])
        let head = try XCTUnwrap(g.node(for: "default", stage: "head")).hash
        XCTAssertEqual(g.sinks, [head])
        _ = try Executor(store: store, runners: FakeStages.runners(ledger: ledger)).run(g)
        try store.gc(keeping: [head])
        let rerun = try Executor(store: store, runners: FakeStages.runners(ledger: ledger)).run(g)
        XCTAssertEqual(rerun.nodes.map(\.hash), [head])
        XCTAssertEqual(rerun.cachedCount, 1)
        XCTAssertEqual(ledger.totalCalls, 3)
        let mid = try XCTUnwrap(g.node(for: "default", stage: "mid")).hash
        let explicit = try Executor(store: store, runners: FakeStages.runners(ledger: ledger)).run(g, targets: [mid])
        XCTAssertEqual(explicit.ranCount, 2, "an explicit target is recomputed with what it needs")
    }

    func testGarbageCollectionKeepsOnlyTheGivenNodes() throws {
        let store = try makeStore()
        let ledger = FakeLedger()
        let g = try graph([chainCell()])
        _ = try Executor(store: store, runners: FakeStages.runners(ledger: ledger)).run(g)
        let failing = try graph([RecipeCell(matrix: [], stages: [FakeStages.stage("h", "halfwrite", [("value", .double(1))])])])
        _ = try Executor(store: store, runners: FakeStages.runners(ledger: ledger)).run(failing)
        let stale = store.root.appendingPathComponent("tmp/\(g.nodes[0].hash).old")
        try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
        let keep = Set(g.nodes.prefix(2).map(\.hash))
        let report = try store.gc(keeping: keep)
        XCTAssertEqual(report.removedObjects, [g.nodes[2].hash])
        XCTAssertEqual(report.removedResume, [failing.nodes[0].hash])
        XCTAssertEqual(report.removedLogs, [failing.nodes[0].hash])
        XCTAssertEqual(report.removedTemporaries, ["\(g.nodes[0].hash).old"])
        XCTAssertEqual(store.completeHashes(), keep.sorted())
        let rerun = try Executor(store: store, runners: FakeStages.runners(ledger: ledger)).run(g)
        XCTAssertEqual(rerun.ranCount, 1)
        XCTAssertEqual(rerun.cachedCount, 2)
    }

    func testProgressEventsAndPlainLogLines() throws {
        let store = try makeStore()
        let display = RecordingProgressDisplay()
        let g = try graph([chainCell()])
        _ = try Executor(store: store, runners: FakeStages.runners(ledger: FakeLedger()), display: display).run(g)
        let events = display.events
        guard case let .runStarted(total, cached)? = events.first else { return XCTFail("no start event") }
        XCTAssertEqual(total, 3); XCTAssertEqual(cached, 0)
        let progress = events.compactMap { e -> (Int, Int)? in
            if case let .nodeProgress(t, step, of, _, _) = e, t.kind == "constant" { return (step, of) } else { return nil }
        }
        XCTAssertEqual(progress.map(\.0), [1, 2, 3])
        let ticket = NodeTicket(index: 2, total: 5, hash: String(repeating: "ab", count: 32), kind: "sft", stage: "policy")
        XCTAssertEqual(TerminalProgressDisplay.progressText(ticket, step: 25, of: 100, values: ["loss": 0.6931, "kl": 1], elapsed: 10),
                       "[2/5] sft abababababab step 25/100 loss 0.6931 ETA 30.0s")
        XCTAssertEqual(TerminalProgressDisplay.progressText(ticket, step: 1, of: 2, values: ["reward": 2.5], elapsed: 100),
                       "[2/5] sft abababababab step 1/2 reward 2.5 ETA 1m40s")
        XCTAssertEqual(TerminalProgressDisplay.plainText(.nodeFinished(ticket, seconds: 3725, summary: [:])),
                       "[2/5] sft abababababab (policy) done in 1h02m")
    }

    func testNonTerminalDisplayWritesPlainLines() throws {
        let folder = try temporaryFolder(self)
        let file = folder.appendingPathComponent("log.txt")
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        let g = try graph([chainCell()])
        let display = TerminalProgressDisplay(output: handle)
        _ = try Executor(store: try makeStore(), runners: FakeStages.runners(ledger: FakeLedger()), display: display).run(g)
        try handle.close()
        let text = try String(contentsOf: file, encoding: .utf8)
        XCTAssertFalse(text.contains("\u{1B}"), "no terminal escapes when not a TTY")
        XCTAssertTrue(text.hasPrefix("pipeline: 3 nodes, 0 cached, 3 to run\n"), text)
        XCTAssertTrue(text.contains("constant \(g.nodes[0].shortHash) step 3/3 loss 0.3333"), text)
        XCTAssertTrue(text.contains("pipeline: 3 nodes: 3 ran, 0 cached, 0 failed, 0 skipped"), text)
    }

    func testTerminalDisplayRewritesOneLiveLine() throws {
        let file = try temporaryFolder(self).appendingPathComponent("tty.txt")
        try FileWriter.write("", to: file)
        let handle = try FileHandle(forWritingTo: file)
        let display = TerminalProgressDisplay(output: handle, live: true)
        let ticket = NodeTicket(index: 1, total: 2, hash: String(repeating: "0", count: 64), kind: "sft", stage: "policy")
        display.handle(.nodeStarted(ticket))
        display.handle(.nodeProgress(ticket, step: 1, of: 4, values: ["loss": 2], elapsed: 1))
        display.handle(.nodeProgress(ticket, step: 2, of: 4, values: ["loss": 1], elapsed: 2))
        display.handle(.nodeFinished(ticket, seconds: 4, summary: [:]))
        try handle.close()
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8),
                       "[1/2] sft 000000000000 (policy) started\n"
                       + "\r\u{1B}[K[1/2] sft 000000000000 step 1/4 loss 2 ETA 3.0s"
                       + "\r\u{1B}[K[1/2] sft 000000000000 step 2/4 loss 1 ETA 2.0s"
                       + "\r\u{1B}[K[1/2] sft 000000000000 (policy) done in 4.0s\n")
    }
}
