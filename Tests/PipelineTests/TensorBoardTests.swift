import Foundation
import TestSupport
import XCTest
@testable import Pipeline
import PipelineFakes
import RecipeSpec

/// TensorBoard event files: CRC-32C and record framing checked byte for byte, and a run's files read back
/// by TensorBoard's own reader with the values the node logged.
final class TensorBoardTests: XCTestCase {
    func testCRC32CKnownVectors() {
        // RFC 3720 (iSCSI) appendix B.4 and the classic check value.
        XCTAssertEqual(TensorBoardEvents.crc32c([]), 0)
        XCTAssertEqual(TensorBoardEvents.crc32c(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(TensorBoardEvents.crc32c([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(TensorBoardEvents.crc32c([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(TensorBoardEvents.crc32c((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(TensorBoardEvents.crc32c((0..<32).map { UInt8(31 - $0) }), 0x113F_DB5C)
    }

    func testRecordFramingMatchesTensorBoardsWriter() {
        // Bytes of tensorboard.summary.writer.record_writer.RecordWriter(...).write(b"abc").
        XCTAssertEqual(TensorBoardEvents.record(Array("abc".utf8)),
                       [3, 0, 0, 0, 0, 0, 0, 0, 176, 153, 73, 14, 97, 98, 99, 110, 87, 241, 33])
        // event_pb2.Event(wall_time=1.5, step=3, summary={value: [{tag: "loss", simple_value: 0.25}]}).
        XCTAssertEqual(TensorBoardEvents.scalarEvent(wallTime: 1.5, step: 3, values: ["loss": 0.25]),
                       [9, 0, 0, 0, 0, 0, 0, 248, 63, 16, 3, 42, 13, 10, 11, 10, 4, 108, 111, 115, 115, 21, 0, 0, 128, 62])
        var long: [UInt8] = []
        TensorBoardEvents.appendVarint(300, to: &long)
        XCTAssertEqual(long, [0xAC, 0x02])
    }

    /// Every node of a run has `tensorboard/<cell>/<stage>/events.out.tfevents.*`; TensorBoard's
    /// EventAccumulator reads each curve point (as float32) and the summary under `summary/`.
    func testEventFilesLoadInTensorBoardWithTheLoggedValues() throws {
        let python = try Self.tensorboardPython()
        let store = try ArtifactStore(root: temporaryFolder(self).appendingPathComponent("store"))
        let g = try graph([chainCell(base: 0.3)])
        XCTAssertTrue(try Executor(store: store, runners: FakeStages.runners(ledger: FakeLedger())).run(g).succeeded)
        let base = try XCTUnwrap(g.node(for: "default", stage: "base"))
        let metrics = store.metrics(for: base.hash)
        XCTAssertEqual(metrics.count, 3)

        let script = """
        import json, sys, glob, os
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        out = {}
        for f in sorted(glob.glob(os.path.join(sys.argv[1], "**", "events.out.tfevents.*"), recursive=True)):
            acc = EventAccumulator(os.path.dirname(f)); acc.Reload()
            run = os.path.relpath(os.path.dirname(f), sys.argv[1])
            out[run] = {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}
        print(json.dumps(out))
        """
        let text = try ChildProcess.checked(python, ["-c", script, store.objectDirectory(for: "").path])
        let runs = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [String: [[Double]]]])
        XCTAssertEqual(runs.count, 3, text)
        let baseRun = try XCTUnwrap(runs[base.hash + "/tensorboard/default/base"], text)
        let loss = try XCTUnwrap(baseRun["loss"])
        XCTAssertEqual(loss.map { Int($0[0]) }, metrics.map(\.step))
        XCTAssertEqual(loss.map { Float($0[1]) }, metrics.map { Float($0.values["loss"] ?? .nan) })
        XCTAssertEqual(baseRun["summary/value"]?.map { Float($0[1]) }, [Float(0.3)])
        XCTAssertEqual(baseRun["summary/value"]?.map { Int($0[0]) }, [3])
        let head = try XCTUnwrap(g.node(for: "default", stage: "head"))
        let headRun = try XCTUnwrap(runs[head.hash + "/tensorboard/default/head"], text)
        // TensorBoard stores float32; compared as float32 (Foundation's JSON reader on Linux may miss the double's last bit).
        XCTAssertEqual(headRun["summary/value"]?.map { Float($0[1]) }, [Float(110.3)])
    }

    func testMetricsLinesCarryAWallClockTime() throws {
        let store = try ArtifactStore(root: temporaryFolder(self).appendingPathComponent("store"))
        let g = try graph([chainCell()])
        let before = Date().timeIntervalSince1970
        XCTAssertTrue(try Executor(store: store, runners: FakeStages.runners(ledger: FakeLedger())).run(g).succeeded)
        let base = try XCTUnwrap(g.node(for: "default", stage: "base"))
        let text = try String(contentsOf: store.objectDirectory(for: base.hash).appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        for line in text.split(separator: "\n") {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let time = try XCTUnwrap(object["time"] as? Double, String(line))
            XCTAssertGreaterThanOrEqual(time, before.rounded(.down))
            XCTAssertLessThanOrEqual(time, Date().timeIntervalSince1970 + 1)
        }
    }

    /// The engines' Python with TensorBoard's reader (scripts/setup-reference.sh); a skip that says why without it.
    static func tensorboardPython() throws -> String {
        switch ReferencePython.lookup(importing: "tensorboard.backend.event_processing.event_accumulator",
                                      setup: "scripts/setup-reference.sh") {
        case .success(let path): return path
        case .failure(let missing):
            print("skipping: \(missing.reason)")
            throw XCTSkip(missing.reason)
        }
    }
}
