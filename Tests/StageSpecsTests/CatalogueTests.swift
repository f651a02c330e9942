import Foundation
import XCTest
import Hyperparameters
import Pipeline
import RecipeSpec
import StageSpecs

/// The catalogue alone (no engine, no Preference linked: see this target's dependencies) validates and plans
/// every checked-in recipe, and its schemas are what the trainers take.
final class CatalogueTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func recipeFiles() -> [String] {
        let recipes = root.appendingPathComponent("Recipes")
        let all = (FileManager.default.enumerator(atPath: recipes.path)?.allObjects as? [String]) ?? []
        return all.filter { $0.hasSuffix(".yaml") && !$0.hasPrefix("base/") && !$0.hasPrefix("datasets/") }.sorted()
            .map { recipes.appendingPathComponent($0).path }
    }

    func testEveryCheckedInRecipeValidatesAndPlansFromTheCatalogueAlone() throws {
        let files = Self.recipeFiles()
        XCTAssertGreaterThan(files.count, 20)
        for file in files {
            for overrides in [[], ["scale=smoke"]] {
                let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(file: file, overrides: overrides)
                let graph = try StageSpecs.graph(recipe)
                XCTAssertFalse(graph.nodes.isEmpty, file)
                // Only the engines' parity check delegates (its matrix runs each stage on embedded and trl).
                let engines = Set(graph.nodes.map(\.engine))
                XCTAssertEqual(engines, file.hasSuffix("checks/engines.yaml") ? ["embedded", "trl"] : ["embedded"], file)
            }
        }
    }

    func testEveryFieldOfEveryKindHasADocAndKindsAndFieldsAreUnique() {
        XCTAssertEqual(Set(StageSpecs.all.map(\.kind)).count, StageSpecs.all.count)
        for spec in StageSpecs.all {
            let names = spec.schema.fields.map(\.name)
            XCTAssertEqual(Set(names).count, names.count, "duplicate field in \(spec.kind)")
            for field in spec.schema.fields {
                XCTAssertFalse(field.doc.isEmpty, "\(spec.kind).\(field.name) has no doc")
            }
            XCTAssertFalse(spec.schema.outputs.isEmpty && spec.layout != .metricsOnly, "\(spec.kind) declares no output")
        }
    }

    /// `preflab stages --markdown` is generated from the schemas: every field appears with its doc.
    func testMarkdownDocsListEveryField() {
        for spec in StageSpecs.all {
            let md = spec.schema.markdown()
            XCTAssertTrue(md.hasPrefix("## `\(spec.kind)`"), md)
            for f in spec.schema.fields { XCTAssertTrue(md.contains("| `\(f.name)` |"), "\(spec.kind).\(f.name)") }
        }
        XCTAssertTrue(StageSpecs.dpo.schema.markdown().contains("| `learning_rate` | number | default 5.0e-07 | > 0 |"),
                      StageSpecs.dpo.schema.markdown())
    }

    /// The schema's defaults, read back, give each trainer's defaults exactly (one declaration, no drift).
    func testSchemaDefaultsReadBackAsTrainerDefaults() throws {
        func defaults(_ fields: [FieldSchema]) -> ConfigNode {
            ConfigNode(.map(fields.compactMap { f in f.defaultValue.map { (key: f.name, value: ConfigNode($0)) } }))
        }
        XCTAssertEqual(try SFTParameters(config: defaults(StageSpecs.sft.schema.fields)), SFTParameters())
        XCTAssertEqual(try RewardModelParameters(config: defaults(StageSpecs.rewardModel.schema.fields)), RewardModelParameters())
        XCTAssertEqual(try DPOParameters(config: defaults(StageSpecs.dpo.schema.fields)), DPOParameters())
        XCTAssertEqual(try PPOParameters(config: defaults(StageSpecs.ppo.schema.fields)), PPOParameters())
        XCTAssertEqual(try OPOParameters(config: defaults(StageSpecs.opo.schema.fields)), OPOParameters())
        XCTAssertEqual(try D2POParameters(config: defaults(StageSpecs.d2po.schema.fields)), D2POParameters())
    }

    /// The Unpacking paper's Table 9 values are the PPO stage's defaults.
    func testPPODefaultsAreTable9() {
        let schema = StageSpecs.ppo.schema
        XCTAssertEqual(schema.field("prompt_batch")?.defaultValue, .int(64))
        XCTAssertEqual(schema.field("beta")?.defaultValue, .double(0.05))
        XCTAssertEqual(schema.field("lambda")?.defaultValue, .double(0.95))
        XCTAssertEqual(schema.field("clip")?.defaultValue, .double(0.2))
        XCTAssertEqual(schema.field("value_coefficient")?.defaultValue, .double(0.1))
        XCTAssertEqual(schema.field("learning_rate")?.defaultValue, .double(1e-6))
        XCTAssertEqual(schema.field("eos_penalty")?.defaultValue, .double(-10))
        XCTAssertEqual(schema.field("value_init")?.type, .choice(["reward_model", "sft"]))
    }

    /// Inputs are typed by what their producer outputs, not by a list of kind names.
    func testAnInputRefusesAStageOfTheWrongOutputType() {
        let yaml = """
            name: typed
            stages:
              tok: { kind: tokenizer, task: word_collector }
              sft: { kind: sft, task: word_collector, tokenizer: tok }
              rm: { kind: reward_model, init: sft, preferences: tok }
            """
        XCTAssertThrowsError(try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: "t.yaml")) { error in
            XCTAssertEqual("\(error)", "t.yaml:5:53: error: stages.rm.preferences: stage 'tok' (kind 'tokenizer') outputs tokenizer; "
                           + "expected a stage that outputs preferences")
        }
    }
}
