import XCTest
@testable import Pipeline
import PipelineFakes
import RecipeSpec

/// The executor with a dispatcher (what `--executor ray` is) on the fakes: the schedule stays the executor's,
/// each node is computed by another executor's `runNode` on a lease-locked store, as `preflab run-node` does on a
/// Ray worker. The same behaviour as the local executor's tests: cache, failures skip dependents only, one
/// computation per node across concurrent runs, resume after a failure.
final class DispatchedExecutorTests: XCTestCase {
    /// Stands in for Ray: computes the node "elsewhere", through a separate executor and store handle.
    struct WorkerDispatcher: NodeDispatcher {
        let root: URL
        let graph: PipelineGraph
        let ledger: FakeLedger

        func compute(_ node: GraphNode) throws {
            let store = try ArtifactStore(root: root, leaseSeconds: 5)
            let report = try Executor(store: store, runners: FakeStages.runners(ledger: ledger)).runNode(graph, hash: node.hash)
            if case .failed(let error, _) = report.outcome { throw StoreError.io(error) }
        }
    }

    private func executor(_ root: URL, _ graph: PipelineGraph, _ ledger: FakeLedger, jobs: Int = 4) throws -> Executor {
        Executor(store: try ArtifactStore(root: root, leaseSeconds: 5), runners: FakeStages.runners(ledger: ledger), jobs: jobs,
                 dispatcher: WorkerDispatcher(root: root, graph: graph, ledger: ledger))
    }

    func testRunAndRerunAreTheLocalExecutorsResults() throws {
        let root = try temporaryFolder(self).appendingPathComponent("store")
        let ledger = FakeLedger()
        let g = try graph([chainCell()])
        let first = try executor(root, g, ledger).run(g)
        XCTAssertTrue(first.succeeded)
        XCTAssertEqual(first.ranCount, 3)
        let head = try XCTUnwrap(g.node(for: "default", stage: "head"))
        XCTAssertEqual(first.node(head.hash)?.summary["value"], 111, "the summary is read back from the shared store")
        let second = try executor(root, g, ledger).run(g)
        XCTAssertEqual(second.cachedCount, 3)
        XCTAssertEqual(ledger.totalCalls, 3)

        let local = try ArtifactStore(root: try temporaryFolder(self).appendingPathComponent("local"))
        _ = try Executor(store: local, runners: FakeStages.runners(ledger: FakeLedger())).run(g)
        XCTAssertEqual(local.completeHashes(), try ArtifactStore(root: root).completeHashes())
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("locks/\(head.hash).lease").path), "leases released")
    }

    func testFailuresSkipOnlyTheirDependents() throws {
        let root = try temporaryFolder(self).appendingPathComponent("store")
        let ledger = FakeLedger()
        let g = try graph([RecipeCell(matrix: [], stages: [
            FakeStages.stage("broken", "fail", [("message", .string("disk on fire"))]),
            FakeStages.stage("after", "sum", [("inputs", list("broken"))]),
            FakeStages.stage("later", "sum", [("inputs", list("after"))]),
            FakeStages.stage("fine", "constant", [("value", .double(4))]),
        ])])
        let report = try executor(root, g, ledger).run(g)
        XCTAssertEqual(report.failures.map(\.stage), ["broken"])
        XCTAssertEqual(Set(report.skipped.map(\.stage)), ["after", "later"])
        XCTAssertEqual(ledger.calls("constant"), 1)
        let broken = try XCTUnwrap(g.node(for: "default", stage: "broken"))
        guard case let .failed(error, log)? = report.node(broken.hash)?.outcome else { return XCTFail("not failed") }
        XCTAssertTrue(error.contains("disk on fire"), error)
        XCTAssertTrue(try String(contentsOf: log, encoding: .utf8).contains("error: disk on fire"), "the worker's log, in the shared store")
    }

    func testTwoRunsOnOneStoreComputeEachNodeOnce() throws {
        try concurrentRuns(local: false)
    }

    /// A local `preflab run` (`--jobs` threads) and a Ray run on one store at once: one lock scheme, so each node once.
    func testALocalRunAndARayRunOnOneStoreComputeEachNodeOnce() throws {
        try concurrentRuns(local: true)
    }

    /// Two runs of one graph at once on one store, both dispatched or the second local; every node computed once.
    private func concurrentRuns(local: Bool) throws {
        let root = try temporaryFolder(self).appendingPathComponent("store")
        let ledger = FakeLedger()
        let g = try graph([RecipeCell(matrix: [], stages: [
            FakeStages.stage("slow", "sleep", [("seconds", .double(0.1))]),
            FakeStages.stage("slow2", "sleep", [("seconds", .double(0.05)), ("after", .string("slow"))]),
            FakeStages.stage("c", "constant", [("value", .double(3))]),
            FakeStages.stage("s", "sum", [("inputs", list("c", "slow2"))]),
        ])])
        var reports: [RunReport?] = [nil, nil]
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let run = local && i == 1
                ? { try Executor(store: try ArtifactStore(root: root), runners: FakeStages.runners(ledger: ledger), jobs: 4).run(g) }
                : { try self.executor(root, g, ledger).run(g) }
            let report = try? run()
            lock.lock(); reports[i] = report; lock.unlock()
        }
        for node in g.nodes { XCTAssertEqual(ledger.calls(hash: node.hash), 1, node.stage.name) }
        XCTAssertEqual(reports.compactMap { $0 }.filter(\.succeeded).count, 2)
    }

    func testAFailedNodeResumesOnTheNextRun() throws {
        let root = try temporaryFolder(self).appendingPathComponent("store")
        let ledger = FakeLedger()
        let g = try graph([RecipeCell(matrix: [], stages: [FakeStages.stage("train", "halfwrite", [("value", .double(7))])])])
        let first = try executor(root, g, ledger).run(g)
        XCTAssertFalse(first.succeeded)
        let second = try executor(root, g, ledger).run(g)
        XCTAssertTrue(second.succeeded)
        XCTAssertEqual(ledger.resumedHashes, [g.nodes[0].hash], "the second attempt finds the first one's resume folder")
        XCTAssertEqual(try ArtifactStore(root: root).summary(for: g.nodes[0].hash)?["value"], 7)
    }
}
