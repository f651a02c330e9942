import XCTest
@testable import Pipeline
import PipelineFakes
import RecipeSpec
#if canImport(Glibc)
import Glibc
#endif

/// Tests across real processes: the test binary re-runs itself as a child that executes one
/// `sleep` node on a shared store (see `testChildProcessEntryPoint`).
final class ProcessTests: XCTestCase {
    static let storeVariable = "PREFLAB_PIPELINE_CHILD_STORE"
    static let secondsVariable = "PREFLAB_PIPELINE_CHILD_SECONDS"
    static let reportVariable = "PREFLAB_PIPELINE_CHILD_REPORT"

    static func sleepGraph(seconds: Double) throws -> PipelineGraph {
        try graph([RecipeCell(matrix: [], stages: [
            FakeStages.stage("nap", "sleep", [("seconds", .double(seconds)), ("tag", .string("process"))]),
            FakeStages.stage("after", "sum", [("inputs", list("nap")), ("offset", .double(5))]),
        ])])
    }

    /// Not a test on its own: the body child processes run (skipped unless the variables are set).
    func testChildProcessEntryPoint() throws {
        let env = ProcessInfo.processInfo.environment
        guard let root = env[Self.storeVariable], let seconds = env[Self.secondsVariable].flatMap(Double.init) else {
            throw XCTSkip("runs only as the child of ProcessTests")
        }
        let report = try Executor(store: ArtifactStore(root: URL(fileURLWithPath: root)),
                                  runners: FakeStages.runners(ledger: FakeLedger())).run(Self.sleepGraph(seconds: seconds))
        if let path = env[Self.reportVariable] {
            try FileWriter.write("\(report.ranCount) \(report.cachedCount) \(report.failures.count)", to: URL(fileURLWithPath: path))
        }
    }

    func spawnChild(store: URL, seconds: Double, report: URL?) throws -> Process {
        #if os(Linux)
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let child = Process()
        child.executableURL = binary
        child.arguments = ["PipelineTests.ProcessTests/testChildProcessEntryPoint"]
        var env = ProcessInfo.processInfo.environment
        env[Self.storeVariable] = store.path
        env[Self.secondsVariable] = "\(seconds)"
        if let report { env[Self.reportVariable] = report.path }
        child.environment = env
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        return child
        #else
        throw XCTSkip("child processes are spawned through /proc/self/exe (Linux)")
        #endif
    }

    /// Polls until `condition` holds or `timeout` seconds pass.
    func wait(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return condition()
    }

    /// A child killed mid-node leaves a temporary folder and a lease naming a dead process of this machine (broken at once);
    /// the next run discards the leftover and computes the node.
    func testKilledChildLeavesNothingTrustedAndNoLock() throws {
        let root = try temporaryFolder(self).appendingPathComponent("store")
        let store = try ArtifactStore(root: root)
        let g = try Self.sleepGraph(seconds: 30)
        let nap = try XCTUnwrap(g.node(for: "default", stage: "nap")).hash
        let child = try spawnChild(store: root, seconds: 30, report: nil)
        let tmp = root.appendingPathComponent("tmp")
        let started = wait(timeout: 20) {
            ((try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? []).contains { $0.hasPrefix(nap) }
        }
        XCTAssertTrue(started, "child never started the node")
        XCTAssertNil(try store.tryLock(nap), "the running child holds the node lock")
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        XCTAssertFalse(store.isComplete(nap))
        let lock = try XCTUnwrap(try store.tryLock(nap), "the dead child's lease is broken at once (its process is gone)")
        lock.release()
        let ledger = FakeLedger()
        let quick = try Self.sleepGraph(seconds: 30)
        let report = try Executor(store: store, runners: [
            RunnerKey(kind: "sleep"): QuickSleep(ledger: ledger), RunnerKey(kind: "sum"): FakeStages.runners(ledger: ledger)[RunnerKey(kind: "sum")]!,
        ]).run(quick)
        XCTAssertEqual(report.ranCount, 2)
        XCTAssertEqual(ledger.calls("sleep"), 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp.path), [])
        XCTAssertEqual(store.summary(for: g.nodes[1].hash)?["value"], 5)
    }

    /// A parent and a child process run the same graph on one store at once: each node once.
    func testTwoProcessesRunEachNodeOnce() throws {
        let folder = try temporaryFolder(self)
        let root = folder.appendingPathComponent("store")
        let reportFile = folder.appendingPathComponent("child-report.txt")
        let store = try ArtifactStore(root: root)
        let g = try Self.sleepGraph(seconds: 0.3)
        let nap = try XCTUnwrap(g.node(for: "default", stage: "nap")).hash
        let child = try spawnChild(store: root, seconds: 0.3, report: reportFile)
        XCTAssertTrue(wait(timeout: 20) {
            ((try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("tmp").path)) ?? [])
                .contains { $0.hasPrefix(nap) }
        }, "child never started the node")
        let ledger = FakeLedger()
        let mine = try Executor(store: store, runners: FakeStages.runners(ledger: ledger), jobs: 2).run(g)
        child.waitUntilExit()
        XCTAssertEqual(child.terminationStatus, 0)
        let childCounts = try String(contentsOf: reportFile, encoding: .utf8).split(separator: " ").compactMap { Int($0) }
        XCTAssertEqual(childCounts.count, 3)
        XCTAssertEqual(ledger.calls("sleep"), 0, "the parent waited for the child's node instead of running it")
        XCTAssertEqual(mine.node(nap)?.outcome, .cached(waited: true))
        XCTAssertEqual(mine.ranCount + (childCounts.first ?? -1), 2, "every node ran exactly once over both processes")
        XCTAssertEqual(childCounts.last, 0)
        XCTAssertTrue(mine.succeeded)
    }
}

/// A `sleep` runner that does not sleep, for re-running a node a killed child was sleeping in.
struct QuickSleep: StageRunner {
    let ledger: FakeLedger
    func run(_ context: NodeContext) throws {
        try FakeStages.runners(ledger: ledger)[RunnerKey(kind: "sleep")]?.run(NodeContext(
            hash: context.hash, stage: ResolvedStage(name: context.stage.name, kind: "sleep",
                                                      config: ConfigNode(.map([("seconds", ConfigNode(.double(0)))])),
                                                      inputs: [], location: nil),
            inputs: context.inputs, outputDirectory: context.outputDirectory,
            resumeDirectory: context.resumeDirectory, reporter: context.reporter))
    }
}
