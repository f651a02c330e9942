import Foundation
import XCTest
import RecipeSpec
import StageSpecs

/// `validate` refuses, at the key's own line and column, every setting the TRL bridge cannot run exactly
/// (TRLChecks); the same settings load on the embedded engine.
final class TRLRefusalTests: XCTestCase {
    static let base = """
        name: e
        stages:
          tok: { kind: tokenizer, task: word_collector }
          sft: { kind: sft, task: word_collector, tokenizer: tok }
          prefs: { kind: task_preferences, policy: sft, task: word_collector }
          rm: { kind: reward_model, preferences: prefs, init: sft }
          prompts: { kind: task_prompts, task: word_collector }
        """

    static let blocks = [
        "dpo": "  s:\n    kind: dpo\n    policy: sft\n    preferences: prefs\n    engine: trl",
        "opo": "  s:\n    kind: opo\n    policy: sft\n    prompts: prompts\n    reward_model: rm\n    engine: trl",
        "d2po": "  s:\n    kind: d2po\n    policy: sft\n    prompts: prompts\n    task: word_collector\n    reward_model: rm\n    engine: trl",
    ]

    /// Loads stage `s` of `kind` with `extra` (one line, 4-space indented) appended; returns the error text or nil.
    func problem(_ kind: String, _ extra: String?, engine: String = "trl") -> String? {
        var yaml = Self.base + "\n" + Self.blocks[kind]!.replacingOccurrences(of: "engine: trl", with: "engine: \(engine)")
        if let extra { yaml += "\n    " + extra }
        do {
            _ = try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: "e.yaml")
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The location `validate` must name: the last line, at `token`'s column.
    func at(_ kind: String, _ extra: String, _ token: String) -> String {
        let line = (Self.base + "\n" + Self.blocks[kind]!).split(separator: "\n", omittingEmptySubsequences: false).count + 1
        let column = ("    " + extra).range(of: token)!.lowerBound.utf16Offset(in: "    " + extra) + 1
        return "e.yaml:\(line):\(column): error: stages.s."
    }

    func assertRefused(_ kind: String, _ extra: String, at token: String, key: String, saying words: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        let text = problem(kind, extra)
        XCTAssertNotNil(text, "\(kind) with `\(extra)` was accepted on trl", file: file, line: line)
        let expected = at(kind, extra, token) + key + ": "
        XCTAssertTrue(text?.contains(expected) ?? false, "expected \(expected)… in\n\(text ?? "")", file: file, line: line)
        XCTAssertTrue(text?.contains(words) ?? false, "expected “\(words)” in\n\(text ?? "")", file: file, line: line)
        XCTAssertTrue(text?.contains("(engine 'trl')") ?? false, "the engine is named: \(text ?? "")", file: file, line: line)
        XCTAssertNil(problem(kind, extra, engine: "embedded"), "the embedded engine runs it", file: file, line: line)
    }

    func testDPOLossesTRLCannotComputeAreRefusedAtLossKind() {
        XCTAssertNil(problem("dpo", "loss: { kind: sigmoid }"))
        assertRefused("dpo", "loss: { kind: ipo }", at: "ipo", key: "loss.kind", saying: "averages the log-ratio per token")
        assertRefused("dpo", "loss: { kind: conservative, label_smoothing: 0.2 }", at: "conservative", key: "loss.kind",
                      saying: "no conservative DPO")
        assertRefused("dpo", "loss: { kind: simpo }", at: "simpo", key: "loss.kind", saying: "CPOTrainer")
        XCTAssertTrue(problem("dpo", "loss: { kind: ipo }")?.contains("use loss.kind sigmoid or engine: embedded") ?? false)
    }


    /// The embedded engine's activation recomputation is not mapped: asking for it on TRL is refused, not dropped.
    func testRecomputeIsRefusedOnTRL() {
        assertRefused("dpo", "recompute: true", at: "true", key: "recompute", saying: "does not map it")
        assertRefused("opo", "recompute: true", at: "true", key: "recompute", saying: "does not map it")
        XCTAssertNil(problem("dpo", "recompute: false"))
        XCTAssertNil(problem("dpo", "recompute: true", engine: "embedded"))
    }
    func testLoRARunsOnTRL() {
        XCTAssertNil(problem("dpo", "lora: { rank: 4 }"), "the bridge carries PrefLab's initial adapters into peft")
        XCTAssertNil(problem("dpo", "lora: { rank: 4, alpha: 8, targets: [q_proj, k_proj, v_proj, o_proj] }"))
    }

    func testOnlineDPOMapsItsLossesAndTheProbeButNotSimPO() {
        XCTAssertNil(problem("opo", nil))
        XCTAssertNil(problem("opo", "loss: { kind: ipo }"), "the bridge sums IPO's log-ratios itself")
        XCTAssertNil(problem("opo", "loss: { kind: conservative }"))
        assertRefused("opo", "loss: { kind: simpo }", at: "simpo", key: "loss.kind", saying: "use loss.kind conservative or ipo or sigmoid")
        XCTAssertNil(problem("opo", "probe_every: 2\n    task: word_collector"),
                     "a static-RM opo's probe: the bridge scores the judges, `preflab annotate` the accuracy")
        // The probe's R* comes from `preflab annotate`, which cannot build reward_model_gold's annotator.
        let text = problem("opo", "probe_every: 2\n    task: reward_model_gold\n    gold_reward_model: rm\n    gold_prompts: prompts")
        XCTAssertTrue(text?.contains("stages.s.task: `preflab annotate` cannot build reward_model_gold") ?? false, text ?? "accepted")
        XCTAssertNil(problem("opo", "task: reward_model_gold\n    gold_reward_model: rm\n    gold_prompts: prompts"),
                     "without the probe a static-RM opo never asks the annotator")
    }

    /// CD's gold labels on TRL: the bridge scores the scorers' folders, so scorers PrefLab reads (its template and
    /// tokenizer) are refused at the scorer by the graph's check (SiteModels), not by the stage's.
    func testGoldOPOOnContrastiveDistillationWithPrefLabsScorersIsRefusedAtTheScorer() throws {
        let yaml = Self.base + "\n" + Self.blocks["opo"]! + """

                labeler: gold
                scorer_large: sft
                scorer_small: sft
                task: contrastive_distillation
            """
        let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: "e.yaml")
        let errors = SiteModels.errors(try StageSpecs.graph(recipe)).map(\.description)
        XCTAssertEqual(errors.count, 1, errors.joined(separator: "\n"))
        XCTAssertTrue(errors.first?.contains("e.yaml:15:19: error: stages.s.scorer_large: 'sft' is a model PrefLab reads; the TRL bridge scores Contrastive Distillation") ?? false, "\(errors)")
    }

    func testD2POOnTRLMapsItsDiscriminatorsAndTheProbeButNotSimPO() {
        XCTAssertNil(problem("d2po", nil))
        XCTAssertNil(problem("d2po", "selection: random"), "PrefLab's own permutation of each round goes to the bridge")
        XCTAssertNil(problem("d2po", "discriminator: self"))
        XCTAssertNil(problem("d2po", "loss: { kind: ipo }"))
        assertRefused("d2po", "loss: { kind: simpo }", at: "simpo", key: "loss.kind", saying: "use loss.kind conservative or ipo or sigmoid")
        XCTAssertNil(problem("d2po", "probe_every: 2"), "the bridge scores the judges, PrefLab's probe the accuracy")
        XCTAssertTrue(problem("d2po", "engine_args: { gradient_checkpointing: true }")?.contains("unknown TRL engine option") ?? false)
    }

    func testEngineArgsTheBridgeDoesNotReadAreRefused() {
        XCTAssertNil(problem("dpo", "engine_args: { precision: bf16 }"))
        XCTAssertTrue(problem("dpo", "engine_args: { gradient_checkpointing: true }")?
            .contains("unknown TRL engine option `gradient_checkpointing`") ?? false)
        XCTAssertTrue(problem("dpo", "engine_args: { precision: bfloat61 }")?.contains("did you mean 'bfloat16'?") ?? false)
    }

    /// Each kind TRL runs has its check; the recipe-level default also triggers them.
    func testRecipeDefaultEngineIsChecked() {
        for kind in ["sft", "reward_model", "dpo", "opo", "d2po"] { XCTAssertNotNil(TRLChecks.check(kind: kind), kind) }
        XCTAssertNil(TRLChecks.check(kind: "ppo"))
        let yaml = Self.base.replacingOccurrences(of: "name: e\n", with: "name: e\nengine: trl\n")
            + "\n  s: { kind: dpo, policy: sft, preferences: prefs, loss: { kind: ipo } }"
        XCTAssertThrowsError(try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: "e.yaml")) {
            XCTAssertTrue("\($0)".contains("stages.s.loss.kind: TRL's `ipo` averages"), "\($0)")
        }
    }
}
