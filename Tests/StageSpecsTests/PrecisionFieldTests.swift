import Foundation
import XCTest
import Pipeline
import RecipeSpec
import StageSpecs

/// `precision` on the embedded trainers: absent and `fp32` are the same node (every hash from before the field
/// stays), `bf16` is a different one, a misspelling is refused at its line, and delegated engines refuse it.
final class PrecisionFieldTests: XCTestCase {
    private func dpoHash(_ extra: String) throws -> String {
        let yaml = EngineKeyTests.chain.replacingOccurrences(of: "preferences: prefs }", with: "preferences: prefs\(extra) }")
        return try XCTUnwrap(StageSpecs.graph(try EngineKeyTests.load(yaml)).node(cellIndex: 0, stage: "dpo")?.hash)
    }

    func testOnlyBF16EntersTheNodeHash() throws {
        let absent = try dpoHash("")
        XCTAssertEqual(try dpoHash(", precision: fp32"), absent, "writing the implied fp32 spells the same node")
        XCTAssertNotEqual(try dpoHash(", precision: bf16"), absent)
    }

    func testEveryEmbeddedTrainerTakesIt() throws {
        for kind in ["sft", "reward_model", "dpo", "ppo", "opo", "d2po"] {
            let schema = try XCTUnwrap(StageSpecs.catalog.schema(kind))
            XCTAssertTrue(schema.fields.contains { $0.name == "precision" }, kind)
        }
    }

    private func loadDPO(_ extra: String) -> String? {
        let yaml = EngineKeyTests.chain.replacingOccurrences(of: "preferences: prefs }", with: "preferences: prefs\(extra) }")
        do { _ = try EngineKeyTests.load(yaml); return nil } catch { return "\(error)" }
    }

    func testAMisspellingIsRefusedWithTheValues() {
        let text = loadDPO(", precision: bf61")
        XCTAssertTrue(text?.contains("stages.dpo.precision: 'bf61' is not an accepted value") ?? false, text ?? "accepted")
    }

    func testDelegatedEnginesPointToEngineArgs() {
        let text = loadDPO(", engine: trl, precision: bf16")
        XCTAssertTrue(text?.contains("TRL takes `engine_args: {precision: ...}` instead") ?? false, text ?? "accepted")
        XCTAssertNil(loadDPO(", engine: trl, engine_args: { precision: bf16 }"))
    }
}
