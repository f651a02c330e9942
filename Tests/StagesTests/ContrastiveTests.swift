import Foundation
import XCTest
import Pipeline
import RecipeSpec
import StageSpecs
@testable import Stages

/// Contrastive Distillation from a recipe: two scorer policies trained on one corpus give R*.
final class ContrastiveTests: XCTestCase {
    func testTable2SmokeRunsContrastiveDistillationCells() throws {
        let run = try RecipeRun("Recipes/d2po/table2.yaml",
                                overrides: ["scale=smoke", "matrix.task=[contrastive_distillation]", "matrix.algorithm=[dpo]"],
                                jobs: 1)
        defer { run.remove() }
        XCTAssertTrue(run.report.succeeded, run.failures)
        let graph = run.graph, store = run.store
        let eval = try XCTUnwrap(graph.node(cellIndex: 0, stage: "eval"))
        let mean = try XCTUnwrap(store.summary(for: eval.hash)?["mean"])
        // Mean log-likelihood differences of two small models: finite, not exactly zero, a few nats at most.
        XCTAssertTrue(mean.isFinite && mean != 0 && abs(mean) < 10, "\(mean)")
        let scorer = try XCTUnwrap(graph.node(cellIndex: 0, stage: "scorer_large"))
        XCTAssertTrue(eval.inputs.contains { $0.field == "scorer_large" && $0.hash == scorer.hash })
    }

    func testContrastiveDistillationWithoutScorersFailsValidation() throws {
        let yaml = """
            name: cd
            stages:
              tokenizer: { kind: tokenizer, task: contrastive_distillation }
              sft: { kind: sft, task: contrastive_distillation, tokenizer: tokenizer }
              eval: { kind: gold_reward, policy: sft, task: contrastive_distillation }
              wc: { kind: gold_reward, policy: sft, task: word_collector, scorer_large: sft }
            """
        var problems: [String] = []
        XCTAssertThrowsError(try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: "cd.yaml")) { error in
            problems = (error as? RecipeErrors)?.errors.map(\.description) ?? ["\(error)"]
        }
        XCTAssertEqual(problems.count, 2, "\(problems)")
        // Each at the line of the key at fault: the task of `eval` (line 5), the scorer of `wc` (line 6).
        XCTAssertTrue(problems[0].hasPrefix("cd.yaml:5:"), problems[0])
        XCTAssertTrue(problems[1].hasPrefix("cd.yaml:6:"), problems[1])
        XCTAssertTrue(problems[0].contains("stages.eval") && problems[0].contains("needs 'scorer_large' and 'scorer_small'"), problems[0])
        XCTAssertTrue(problems[1].contains("stages.wc") && problems[1].contains("only used by task 'contrastive_distillation'"), problems[1])
    }
}
