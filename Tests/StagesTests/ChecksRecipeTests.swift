import Foundation
import XCTest
import Pipeline
import RecipeSpec
import StageSpecs
@testable import Stages

/// Recipes/checks/algorithms.yaml at smoke scale on the real engine: the budget and margin checks of issue 5
/// read from the node summaries, as the default-scale run's findings are.
final class ChecksRecipeTests: XCTestCase {
    func testSmokeChecksSpendExactlyTheGoldBudgetAndDPORaisesItsMargin() throws {
        let run = try RecipeRun("Recipes/checks/algorithms.yaml", overrides: ["scale=smoke", "matrix.task=[word_collector]"], jobs: 2)
        defer { run.remove() }
        XCTAssertTrue(run.report.succeeded, run.failures)

        func summary(_ stage: String) throws -> [String: Double] {
            let node = try XCTUnwrap(run.graph.nodes.first { $0.stage.name == stage }, "no \(stage) node")
            return try XCTUnwrap(run.store.summary(for: node.hash), "no summary for \(stage)")
        }
        // The smoke scale sets vars.budget = 8: both gold-labelled methods stop exactly there.
        XCTAssertEqual(try summary("opo_gold")["gold_used"], 8)
        XCTAssertEqual(try summary("d2po")["gold_used"], 8)
        // DPO starts at margin 0 (policy = reference); after training the chosen side leads.
        let margin = try XCTUnwrap(try summary("dpo")["margin"])
        XCTAssertGreaterThan(margin, 0)
        let accuracy = try XCTUnwrap(try summary("reward_model")["held_out_accuracy"])
        XCTAssertTrue((0...1).contains(accuracy), "\(accuracy)")
    }
}
