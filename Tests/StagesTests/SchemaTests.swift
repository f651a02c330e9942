import XCTest
import Preference
import RecipeSpec
@testable import Stages

/// The stage schemas recipes are checked against must agree with the trainers they configure.
final class SchemaTests: XCTestCase {
    func testEveryFieldOfEveryKindHasADoc() {
        for kind in StageKinds.all {
            for field in kind.schema.fields {
                XCTAssertFalse(field.doc.isEmpty, "\(kind.schema.kind).\(field.name) has no doc; run scripts/gen-parameter-docs.py")
            }
        }
    }

    func testKindsAreUniqueAndFieldsUniquePerKind() {
        let kinds = StageKinds.all.map(\.schema.kind)
        XCTAssertEqual(Set(kinds).count, kinds.count)
        for kind in StageKinds.all {
            let names = kind.schema.fields.map(\.name)
            XCTAssertEqual(Set(names).count, names.count, "duplicate field in \(kind.schema.kind)")
        }
    }

    /// Decoding the schema's own defaults must give the trainer's default parameters exactly.
    func testSchemaDefaultsDecodeToTrainerDefaults() throws {
        func defaults(_ fields: [FieldSchema]) -> ConfigNode {
            ConfigNode(.map(fields.compactMap { f in f.defaultValue.map { (key: f.name, value: ConfigNode($0)) } }))
        }
        let names = { (f: [FieldSchema]) in Set(f.map(\.name)) }
        XCTAssertEqual(try StageConfig.decode(SFTTrainer.Parameters.self, from: defaults(SFTStage.trainerFields),
                                              keys: names(SFTStage.trainerFields), stage: "t"), SFTTrainer.Parameters())
        XCTAssertEqual(try StageConfig.decode(DPOTrainer.Parameters.self, from: defaults(DPOStage.trainerFields),
                                              keys: names(DPOStage.trainerFields), stage: "t"), DPOTrainer.Parameters())
        XCTAssertEqual(try StageConfig.decode(PPOTrainer.Parameters.self, from: defaults(PPOStage.trainerFields),
                                              keys: names(PPOStage.trainerFields), stage: "t"), PPOTrainer.Parameters())
        XCTAssertEqual(try StageConfig.decode(OPOTrainer.Parameters.self, from: defaults(OPOStage.trainerFields),
                                              keys: names(OPOStage.trainerFields), stage: "t"), OPOTrainer.Parameters())
        XCTAssertEqual(try StageConfig.decode(D2POTrainer.Parameters.self, from: defaults(D2POStage.trainerFields),
                                              keys: names(D2POStage.trainerFields), stage: "t"), D2POTrainer.Parameters())
        XCTAssertEqual(try StageConfig.decode(RewardModelTrainer.Parameters.self, from: defaults(RewardModelStage.trainerFields),
                                              keys: names(RewardModelStage.trainerFields), stage: "t"), RewardModelTrainer.Parameters())
    }

    /// The Unpacking paper's Table 9 values are the PPO stage's defaults.
    func testPPODefaultsAreTable9() {
        let schema = PPOStage.kind.schema
        XCTAssertEqual(schema.field("prompt_batch")?.defaultValue, .int(64))
        XCTAssertEqual(schema.field("beta")?.defaultValue, .double(0.05))
        XCTAssertEqual(schema.field("lambda")?.defaultValue, .double(0.95))
        XCTAssertEqual(schema.field("clip")?.defaultValue, .double(0.2))
        XCTAssertEqual(schema.field("value_coefficient")?.defaultValue, .double(0.1))
        XCTAssertEqual(schema.field("learning_rate")?.defaultValue, .double(1e-6))
        XCTAssertEqual(schema.field("eos_penalty")?.defaultValue, .double(-10))
    }

    func testMisspeltNestedParameterIsReportedAtValidateTime() throws {
        let stage = ResolvedStage(name: "train", kind: "dpo",
                                  config: ConfigNode(.map([(key: "loss", value: ConfigNode(.map([(key: "kindd", value: ConfigNode(.string("ipo")))])))])),
                                  inputs: [], location: nil)
        let kind = try XCTUnwrap(StageKinds.all.first { $0.schema.kind == "dpo" })
        XCTAssertThrowsError(try kind.check(stage)) { error in
            XCTAssertTrue("\(error)".contains("kindd"), "\(error)")
        }
    }
}
