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
        XCTAssertEqual(try StageConfig.decode(SFTTrainer.Parameters.self, from: defaults(SFTStage.trainerFields),
                                              keys: SFTStage.trainerKeys, stage: "t"), SFTTrainer.Parameters())
        XCTAssertEqual(try StageConfig.decode(DPOTrainer.Parameters.self, from: defaults(DPOStage.trainerFields),
                                              keys: DPOStage.trainerKeys, stage: "t"), DPOTrainer.Parameters())
        XCTAssertEqual(try StageConfig.decode(PPOTrainer.Parameters.self, from: defaults(PPOStage.trainerFields),
                                              keys: PPOStage.trainerKeys, stage: "t"), PPOTrainer.Parameters())
        XCTAssertEqual(try StageConfig.decode(OPOTrainer.Parameters.self, from: defaults(OPOStage.trainerFields),
                                              keys: OPOStage.trainerKeys, stage: "t"), OPOTrainer.Parameters())
        XCTAssertEqual(try StageConfig.decode(D2POTrainer.Parameters.self, from: defaults(D2POStage.trainerFields),
                                              keys: D2POStage.trainerKeys, stage: "t"), D2POTrainer.Parameters())
        XCTAssertEqual(try StageConfig.decode(RewardModelTrainer.Parameters.self, from: defaults(RewardModelStage.trainerFields),
                                              keys: RewardModelStage.trainerKeys, stage: "t"), RewardModelTrainer.Parameters())
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

    /// Acronyms stay one word in recipe keys (`adaptive_kl`, `clamp_kl`), as JSONEncoder writes them.
    func testAcronymKeysDecode() throws {
        XCTAssertEqual(ParameterSchema.snakeCase("adaptiveKL"), "adaptive_kl")
        XCTAssertEqual(ParameterSchema.snakeCase("klValue"), "kl_value")
        XCTAssertEqual(ParameterSchema.snakeCase("rolloutsPerGoldRound"), "rollouts_per_gold_round")
        XCTAssertNotNil(PPOStage.kind.schema.field("adaptive_kl"))
        let config = ConfigNode(.map([
            (key: "clamp_kl", value: ConfigNode(.bool(true))),
            (key: "adaptive_kl", value: ConfigNode(.map([(key: "target", value: ConfigNode(.double(3)))]))),
        ]))
        let p = try StageConfig.decode(PPOTrainer.Parameters.self, from: config, keys: PPOStage.trainerKeys, stage: "t")
        XCTAssertTrue(p.clampKL)
        XCTAssertEqual(p.adaptiveKL?.target, 3)
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
