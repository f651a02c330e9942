import Foundation
import XCTest
import Hyperparameters
import RecipeSpec
import StageSpecs

/// A trainer field declared once: YAML → schema check at the key's own line → the struct the trainer takes.
final class ParameterFieldTests: XCTestCase {
    static func dpoRecipe(_ fields: String) -> String {
        """
        name: p
        stages:
          tok: { kind: tokenizer, task: word_collector }
          sft: { kind: sft, task: word_collector, tokenizer: tok }
          prefs: { kind: task_preferences, policy: sft, task: word_collector }
          dpo:
            kind: dpo
            policy: sft
            preferences: prefs
        \(fields)
        """
    }

    static func errors(_ yaml: String) -> [String] {
        do {
            _ = try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: "p.yaml")
            return []
        } catch let e as RecipeErrors {
            return e.errors.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    func testBetaTravelsFromTheRecipeToTheTrainersParameters() throws {
        let recipe = try RecipeLoader(catalog: StageSpecs.catalog)
            .load(yaml: Self.dpoRecipe("    loss: { beta: 0.25, kind: ipo }\n    learning_rate: 2e-6"), file: "p.yaml")
        let p = try DPOParameters(config: try XCTUnwrap(recipe.cells[0].stage("dpo")).config)
        XCTAssertEqual(p.loss.beta, 0.25)
        XCTAssertEqual(p.loss.kind, .ipo)
        XCTAssertEqual(p.loss.labelSmoothing, 0.1, "absent nested keys keep the trainer's default")
        XCTAssertEqual(p.learningRate, 2e-6)
        XCTAssertEqual(p.epochs, DPOParameters().epochs)
    }

    func testWrongTypeOrRangeIsReportedAtTheKeysOwnLine() {
        XCTAssertEqual(Self.errors(Self.dpoRecipe("    loss: { beta: -0.1 }")),
                       ["p.yaml:10:19: error: stages.dpo.loss.beta: -0.1 is out of range; expected a number > 0"])
        XCTAssertEqual(Self.errors(Self.dpoRecipe("    loss:\n      beta: fast")),
                       ["p.yaml:11:13: error: stages.dpo.loss.beta: wrong type: got string \"fast\"; expected number"])
        XCTAssertEqual(Self.errors(Self.dpoRecipe("    warmup_fraction: 1.5")),
                       ["p.yaml:10:22: error: stages.dpo.warmup_fraction: 1.5 is out of range; expected a number in [0, 1]"])
        // NaN passes every comparison, so finiteness is its own check (before, `.nan` reached the trainer).
        XCTAssertEqual(Self.errors(Self.dpoRecipe("    warmup_fraction: .nan")).count, 1)
        XCTAssertTrue(Self.errors(Self.dpoRecipe("    warmup_fraction: .nan")).first?
            .hasPrefix("p.yaml:10:22: error: stages.dpo.warmup_fraction: ") == true)
        XCTAssertTrue(Self.errors(Self.dpoRecipe("    loss: { beta: .inf }")).first?.hasSuffix("is not a finite number; expected a finite number") == true,
                      "\(Self.errors(Self.dpoRecipe("    loss: { beta: .inf }")))")
        XCTAssertEqual(Self.errors(Self.dpoRecipe("    loss: { kindd: ipo }")),
                       ["p.yaml:10:13: error: stages.dpo.loss.kindd: unknown key; did you mean 'kind'?"])
        XCTAssertEqual(Self.errors(Self.dpoRecipe("    loss: { kind: simpoo }")),
                       ["p.yaml:10:19: error: stages.dpo.loss.kind: 'simpoo' is not an accepted value; did you mean 'simpo'?"])
        XCTAssertEqual(Self.errors(Self.dpoRecipe("    loss: { kind: hinge }")),
                       ["p.yaml:10:19: error: stages.dpo.loss.kind: 'hinge' is not an accepted value; expected one of sigmoid, ipo, conservative, simpo"])
    }

    func testLoRASettingsAreCheckedByTheSchema() throws {
        XCTAssertEqual(Self.errors(Self.dpoRecipe("    lora: { rank: 0 }")),
                       ["p.yaml:10:19: error: stages.dpo.lora.rank: 0 is out of range; expected a number ≥ 1"])
        XCTAssertEqual(Self.errors(Self.dpoRecipe("    lora: { rank: 4, targets: [q_proj, qkv] }")).count, 1)
        XCTAssertEqual(Self.errors(Self.dpoRecipe("    lora: { alpha: 4 }")).first?.contains("missing required key 'rank'"), true)
        let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: Self.dpoRecipe("    lora: { rank: 8 }"), file: "p.yaml")
        let lora = try XCTUnwrap(try DPOParameters(config: try XCTUnwrap(recipe.cells[0].stage("dpo")).config).lora)
        XCTAssertEqual(lora, LoRASettings(rank: 8))
        XCTAssertEqual(lora.effectiveAlpha, 8)
        XCTAssertEqual(lora.targets.names, ["q_proj", "v_proj"])
        XCTAssertNil(DPOParameters().lora)
    }

    /// Acronyms stay one word in recipe keys; nested maps (adaptive KL) are read field by field.
    func testNestedAndAcronymKeysRead() throws {
        let config = ConfigNode(.map([
            (key: "clamp_kl", value: ConfigNode(.bool(true))),
            (key: "adaptive_kl", value: ConfigNode(.map([(key: "target", value: ConfigNode(.double(3)))]))),
            (key: "policy", value: ConfigNode(.string("sft"))),  // a stage field, not a trainer parameter
        ]))
        let p = try PPOParameters(config: config)
        XCTAssertTrue(p.clampKL)
        XCTAssertEqual(p.adaptiveKL?.target, 3)
        XCTAssertEqual(p.adaptiveKL?.horizon, 10_000)
    }
}
