import Foundation
import XCTest
@testable import Pipeline
import PipelineFakes
import RecipeSpec

/// What a damaged store, a diverging node or a failing disk does to a run (issue 16).
final class ReliabilityStoreTests: XCTestCase {
    private func makeStore() throws -> ArtifactStore {
        try ArtifactStore(root: temporaryFolder(self).appendingPathComponent("store"))
    }

    /// A run of the three-stage chain; returns the store, the graph, the ledger and the head's hash
    /// (the sink: a damaged intermediate whose dependents are finished is not needed again).
    private func ranChain() throws -> (ArtifactStore, PipelineGraph, FakeLedger, String) {
        let store = try makeStore()
        let ledger = FakeLedger()
        let g = try graph([chainCell()])
        XCTAssertTrue(try Executor(store: store, runners: FakeStages.runners(ledger: ledger)).run(g).succeeded)
        return (store, g, ledger, try XCTUnwrap(g.node(for: "default", stage: "head")).hash)
    }

    func testManifestListsSizeAndDigestOfEveryFile() throws {
        let (store, _, _, head) = try ranChain()
        let listed = try XCTUnwrap(try store.manifest(of: head))
        XCTAssertEqual(Set(listed.keys.filter { !$0.hasPrefix("tensorboard/") }),
                       ["log.txt", "metrics.jsonl", "node.json", "summary.json", "value.txt"])
        XCTAssertEqual(listed.keys.filter { $0.hasPrefix("tensorboard/default/head/events.out.tfevents.") }.count, 1)
        let value = store.objectDirectory(for: head).appendingPathComponent("value.txt")
        XCTAssertEqual(listed["value.txt"], ManifestEntry(size: try ArtifactStore.fileSize(value), sha256: try SHA256.hex(file: value)))
        XCTAssertEqual(store.verify(head, digests: true), .intact)
    }

    /// The file hasher agrees with the in-memory digest on sizes around block and read boundaries.
    func testFileDigestMatchesMemoryDigest() throws {
        let dir = try temporaryFolder(self)
        for n in [0, 55, 64, 1000, (1 << 20) + 3] {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let url = dir.appendingPathComponent("f\(n)")
            try Data(bytes).write(to: url)
            XCTAssertEqual(try SHA256.hex(file: url), SHA256.hex(bytes: bytes), "length \(n)")
        }
    }

    /// A truncated summary.json used to be "cached" forever with its cells empty: now the node is
    /// moved to quarantine with a warning naming the file, and recomputed.
    func testTruncatedSummaryIsQuarantinedAndRecomputed() throws {
        let (store, g, ledger, head) = try ranChain()
        let summary = store.objectDirectory(for: head).appendingPathComponent("summary.json")
        let text = try Data(contentsOf: summary)
        try text.prefix(text.count / 2).write(to: summary)
        let display = RecordingProgressDisplay()
        let report = try Executor(store: store, runners: FakeStages.runners(ledger: ledger), display: display).run(g)
        XCTAssertTrue(report.succeeded)
        XCTAssertEqual(report.node(head)?.outcome, .ran)
        XCTAssertEqual(report.node(head)?.summary["value"], 111)
        XCTAssertEqual(ledger.calls(hash: head), 2)
        let warnings = display.events.compactMap { if case let .storeWarning(m) = $0 { return m } else { return nil } }
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings.first?.contains("summary.json") ?? false, "\(warnings)")
        let kept = try FileManager.default.contentsOfDirectory(atPath: store.root.appendingPathComponent("quarantine").path)
        XCTAssertEqual(kept.count, 1)
        XCTAssertTrue(kept.first?.hasPrefix(head) ?? false)
        XCTAssertEqual(store.verify(head, digests: true), .intact)
    }

    /// One flipped bit in a stored file (same size) is caught by the digest check on first open.
    func testFlippedBitIsCaughtAndNodeRecomputed() throws {
        let (store, g, ledger, head) = try ranChain()
        let value = store.objectDirectory(for: head).appendingPathComponent("value.txt")
        var bytes = [UInt8](try Data(contentsOf: value))
        bytes[0] ^= 0x04
        try Data(bytes).write(to: value)
        XCTAssertEqual(store.verify(head, digests: false), .intact, "same size: only the digest can tell")
        guard case let .damaged(file, _) = store.verify(head, digests: true) else { return XCTFail("not caught") }
        XCTAssertEqual(file, "value.txt")
        let report = try Executor(store: store, runners: FakeStages.runners(ledger: ledger)).run(g)
        XCTAssertTrue(report.succeeded)
        XCTAssertEqual(ledger.calls(hash: head), 2)
        XCTAssertEqual(store.verify(head, digests: true), .intact)
    }

    func testVerifyAllReportsAndRepairMovesAside() throws {
        let (store, _, _, head) = try ranChain()
        try FileManager.default.removeItem(at: store.objectDirectory(for: head).appendingPathComponent("metrics.jsonl"))
        let found = try store.verifyAll(repair: false)
        XCTAssertEqual(found.count, 3)
        XCTAssertEqual(found.first { $0.hash == head }?.result, .damaged(file: "metrics.jsonl", reason: "missing"))
        XCTAssertTrue(store.isComplete(head), "verify without --repair changes nothing")
        let repaired = try store.verifyAll(repair: true)
        XCTAssertNotNil(repaired.first { $0.hash == head }?.quarantined)
        XCTAssertFalse(store.isComplete(head))
        XCTAssertEqual(try store.verifyAll(repair: false).filter { $0.result != .intact }.count, 0)
    }

    /// Power loss: every file and folder of a node is flushed before the rename that commits it, and
    /// `objects/` after it, so the disk never holds a committed name whose bytes were not written.
    func testCommitFlushesTheNodeBeforeTheRenameAndObjectsAfter() throws {
        let store = try makeStore()
        let tmp = try store.makeTemporaryDirectory(for: "abc")
        try FileManager.default.createDirectory(at: tmp.appendingPathComponent("model"), withIntermediateDirectories: true)
        try Data("w".utf8).write(to: tmp.appendingPathComponent("model/weights.bin"))
        try Data("{}".utf8).write(to: tmp.appendingPathComponent("summary.json"))
        var flushed: [String] = []
        let objects = store.objectDirectory(for: "abc").deletingLastPathComponent().standardizedFileURL.path
        FileWriter.syncObserver = { url in
            let path = url.standardizedFileURL.path
            // Which side of the rename: the temporary folder is gone once the node is committed.
            let committed = FileManager.default.fileExists(atPath: store.objectDirectory(for: "abc").path)
            flushed.append((committed ? "after:" : "before:") + (path == objects ? "objects" : url.lastPathComponent))
        }
        defer { FileWriter.syncObserver = nil }
        try store.commit(temporary: tmp, as: "abc")
        let before = Set(flushed.filter { $0.hasPrefix("before:") })
        for name in ["weights.bin", "summary.json", "manifest.json", ArtifactStore.completionMarker, "model", tmp.lastPathComponent] {
            XCTAssertTrue(before.contains("before:" + name), "\(name) not flushed before the rename: \(flushed)")
        }
        XCTAssertEqual(flushed.last, "after:objects")
        XCTAssertEqual(flushed.firstIndex(of: "before:model").map { $0 < flushed.firstIndex(of: "before:" + tmp.lastPathComponent)! }, true,
                       "a folder is flushed after the folders inside it")
    }

    /// A node without a manifest (committed by an older PrefLab) is still used, and reported as unverifiable.
    func testNodeWithoutManifestStaysUsable() throws {
        let (store, _, _, head) = try ranChain()
        try FileManager.default.removeItem(at: store.objectDirectory(for: head).appendingPathComponent(ArtifactStore.manifestName))
        XCTAssertEqual(store.verify(head, digests: true), .unverifiable)
        XCTAssertTrue(store.isIntact(head))
    }

    /// `store verify --adopt`: a sound node without a manifest gets one and is verified from then on; one
    /// whose JSON is broken is reported damaged and left without a manifest.
    func testAdoptionChecksStructureThenWritesTheManifest() throws {
        let (store, _, _, head) = try ranChain()
        let dir = store.objectDirectory(for: head)
        let manifest = dir.appendingPathComponent(ArtifactStore.manifestName)
        try FileManager.default.removeItem(at: manifest)
        XCTAssertEqual(try store.verifyAll(repair: false, adopt: false).first { $0.hash == head }?.result, .unverifiable)
        XCTAssertEqual(try store.verifyAll(repair: false, adopt: true).first { $0.hash == head }?.result, .intact)
        XCTAssertEqual(store.verify(head, digests: true), .intact)

        try FileManager.default.removeItem(at: manifest)
        try Data("{\"loss\": 0.5".utf8).write(to: dir.appendingPathComponent("summary.json"))
        XCTAssertEqual(try store.verifyAll(repair: false, adopt: true).first { $0.hash == head }?.result,
                       .damaged(file: "summary.json", reason: "is not valid JSON"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: manifest.path))
    }

    /// The safetensors length check: a whole file passes, a cut or padded one does not.
    func testSafetensorsStructure() {
        let header = Data(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"a":"b"}}"#.utf8)
        var file = Data((0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) })
        file.append(header)
        file.append(Data(count: 8))
        XCTAssertNil(ArtifactStore.safetensorsProblem(file))
        XCTAssertEqual(ArtifactStore.safetensorsProblem(file.dropLast(3)), "safetensors data is 5 bytes, the header needs 8")
        XCTAssertNotNil(ArtifactStore.safetensorsProblem(file + Data(count: 4)))
        XCTAssertEqual(ArtifactStore.safetensorsProblem(Data(file.prefix(20))), "safetensors header is unreadable")
    }

    /// A NaN summary or curve value fails the node as "diverged" (step and value), nothing is
    /// committed, dependents are skipped, and no file holds a bare `nan`.
    func testDivergedNodeIsNotCommitted() throws {
        let store = try makeStore()
        let cell = RecipeCell(matrix: [], stages: [
            FakeStages.stage("base", "constant", [("value", .double(.nan))]),
            FakeStages.stage("head", "sum", [("inputs", list("base"))]),
        ])
        let g = try graph([cell])
        let report = try Executor(store: store, runners: FakeStages.runners(ledger: FakeLedger())).run(g)
        let base = try XCTUnwrap(g.node(for: "default", stage: "base")).hash
        XCTAssertEqual(report.node(base)?.status, "diverged")
        guard case let .failed(error, log)? = report.node(base)?.outcome else { return XCTFail("not failed") }
        XCTAssertTrue(error.hasPrefix("diverged: loss = nan at step 1"), error)
        XCTAssertTrue(try String(contentsOf: log, encoding: .utf8).contains("diverged"))
        XCTAssertFalse(store.isComplete(base))
        XCTAssertEqual(report.skipped.map(\.stage), ["head"])
    }

    /// Canonical JSON (node.json's config) stays JSON with non-finite numbers in it.
    func testCanonicalJSONOfNonFiniteNumbersIsValidJSON() throws {
        let config = ConfigValue.map([("a", ConfigNode(.double(.nan))), ("b", ConfigNode(.double(-.infinity)))]).canonicalJSON
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(config.utf8)))
        XCTAssertEqual(NodeRecorder.json(["x": .infinity, "y": 1]), "{\"x\":null,\"y\":1.0}")
    }

    /// A full disk while a node writes its metrics (here /dev/full, which answers every write with
    /// ENOSPC) fails the node with a message; it used to abort the process in a `try!` inside FileHandle.
    func testWriteFailureFailsTheNodeInsteadOfCrashing() throws {
        let full = URL(fileURLWithPath: "/dev/full")
        guard FileManager.default.isWritableFile(atPath: full.path) else { throw XCTSkip("no /dev/full here") }
        let ticket = NodeTicket(index: 1, total: 1, hash: "h", kind: "k", stage: "s")
        let recorder = try NodeRecorder(metricsFile: full, logFile: full, display: SilentProgressDisplay(), ticket: ticket, start: Date())
        recorder.record(step: 1, of: 1, values: ["loss": 1])
        recorder.log("a line")
        recorder.close()
        XCTAssertThrowsError(try recorder.checkHealthy()) { error in
            XCTAssertTrue("\(error)".contains("cannot write"), "\(error)")
        }
    }
}

/// An interruption (what `preflab run` does on SIGINT/SIGTERM before exiting) flushes each running
/// node's log with the reason into `logs/<hash>.log`, and leaves the resume folder alone.
final class InterruptLogTests: XCTestCase {
    func testInterruptFlushesRunningNodesLogs() throws {
        let store = try ArtifactStore(root: temporaryFolder(self).appendingPathComponent("store"))
        let g = try graph([RecipeCell(matrix: [], stages: [FakeStages.stage("s", "sleep", [("seconds", .double(1.0))])])])
        let hash = try XCTUnwrap(g.nodes.first?.hash)
        let executor = Executor(store: store, runners: FakeStages.runners(ledger: FakeLedger()))
        let done = expectation(description: "run finished")
        Thread.detachNewThread {
            _ = try? executor.run(g)
            done.fulfill()
        }
        Thread.sleep(forTimeInterval: 0.4)
        Executor.interruptRunningNodes(signal: SIGINT)
        let log = try String(contentsOf: store.logFile(for: hash), encoding: .utf8)
        XCTAssertTrue(log.contains("started"), log)
        XCTAssertTrue(log.hasSuffix("error: interrupted by SIGINT — rerun to resume\n"), log)
        XCTAssertTrue(FileManager.default.fileExists(atPath: store.root.appendingPathComponent("resume/\(hash)").path))
        wait(for: [done], timeout: 10)
    }
}
