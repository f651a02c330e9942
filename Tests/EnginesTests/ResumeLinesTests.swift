@testable import Engines
import Foundation
import XCTest

/// Which metric lines an interrupted TRL node keeps before it resumes: those of steps up to the checkpoint the job
/// resumes from (trl_train.py's rule), so that each step is reported once. No Python needed.
final class ResumeLinesTests: XCTestCase {
    func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-resume-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("checkpoints"), withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func checkpoint(_ dir: URL, _ step: Int, state: String?) throws {
        let folder = dir.appendingPathComponent("checkpoints/checkpoint-\(step)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if let state { try state.write(to: folder.appendingPathComponent("trainer_state.json"), atomically: false, encoding: .utf8) }
    }

    func keptSteps(_ dir: URL, lines: Int, lineEnds: [Int]? = nil) throws -> [Int] {
        let metrics = dir.appendingPathComponent("engine-metrics.jsonl")
        try (1...lines).map { "{\"step\": \($0), \"total\": \(lines), \"values\": {\"loss\": 0.5}}\n" }.joined()
            .write(to: metrics, atomically: true, encoding: .utf8)
        try TRLRunner.forgetUnsavedSteps(metrics: metrics, checkpoints: dir.appendingPathComponent("checkpoints"), lineEnds: lineEnds)
        return try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["step"] as? Int)
        }
    }

    /// A kill while HF writes checkpoint-4's trainer_state.json leaves it cut short: the job resumes from
    /// checkpoint-2, so lines 3 and 4 go (CI once saw them reported twice when only the file's existence counted).
    func testACheckpointWhoseStateIsCutShortDoesNotCount() throws {
        let dir = try folder()
        try checkpoint(dir, 2, state: "{\"global_step\": 2}\n")
        try checkpoint(dir, 4, state: "{\"global_step\": 4, \"log_hist")
        XCTAssertEqual(TRLRunner.lastCompleteCheckpoint(in: dir.appendingPathComponent("checkpoints")), 2)
        XCTAssertEqual(try keptSteps(dir, lines: 5), [1, 2])
    }

    func testStateMissingOrEmptyDoesNotCountAndCompleteOnesDo() throws {
        let dir = try folder()
        XCTAssertEqual(try keptSteps(dir, lines: 3), [], "no checkpoint: every line is reported again")
        try checkpoint(dir, 2, state: "{\"global_step\": 2}")
        try checkpoint(dir, 4, state: "")
        try checkpoint(dir, 6, state: nil)
        XCTAssertEqual(try keptSteps(dir, lines: 7), [1, 2])
        try checkpoint(dir, 6, state: "{\"global_step\": 6}")
        XCTAssertEqual(try keptSteps(dir, lines: 7), [1, 2, 3, 4, 5, 6])
    }

    /// An online job's line s ends at optimiser step lineEnds[s - 1]: a line is kept when its last update is saved.
    func testOnlineLinesEndAtTheirLastUpdate() throws {
        let dir = try folder()
        try checkpoint(dir, 5, state: "{}")
        XCTAssertEqual(try keptSteps(dir, lines: 4, lineEnds: [2, 4, 6, 8]), [1, 2])
    }
}
