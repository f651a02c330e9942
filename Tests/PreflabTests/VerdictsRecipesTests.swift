import Foundation
import XCTest
import Pipeline
import RecipeSpec
import StageSpecs
import Stages
@testable import preflab

/// Every checked-in recipe with `claims:` has a verdicts.md that PrefLab regenerates byte for byte
/// from its committed results.json (no verdict is hand-edited), and the null check finds no effect.
final class VerdictsRecipesTests: XCTestCase {
    static let root = ValidateRecipesTests.root

    func testCommittedVerdictsAreRegenerated() throws {
        var judged = 0
        for file in try RecipeFiles.find([Self.root.appendingPathComponent("Recipes").path]) {
            let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(file: file)
            guard !recipe.claims.isEmpty else { continue }
            let folder = Self.root.appendingPathComponent("Results").appendingPathComponent(recipe.name)
            let report = try VerdictsReport.judge(claims: recipe.claims,
                                                  resultsJSON: folder.appendingPathComponent("results.json"))
            let committed = try String(contentsOf: folder.appendingPathComponent("verdicts.md"), encoding: .utf8)
            XCTAssertEqual(report.markdown, committed, "\(recipe.name): verdicts.md is not what `preflab verdicts` writes")
            judged += 1
        }
        XCTAssertGreaterThanOrEqual(judged, 9)
    }

    func testNullCheckFindsNoEffect() throws {
        let file = Self.root.appendingPathComponent("Recipes/checks/null.yaml").path
        let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(file: file)
        let report = try VerdictsReport.judge(claims: recipe.claims, resultsJSON:
            Self.root.appendingPathComponent("Results/checks/null/results.json"))
        XCTAssertEqual(report.verdicts.count, 2)
        for v in report.verdicts {
            XCTAssertEqual(v.outcome, .undecided, v.reason)
            XCTAssertEqual(v.a.n, 3)
            XCTAssertEqual(v.b.n, 3)
        }
    }
}
