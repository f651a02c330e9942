import Foundation
import XCTest
import Pipeline
import RecipeSpec
import StageSpecs
import Stages
@testable import preflab

/// `preflab validate Recipes` passes on every checked-in recipe, at default and smoke scale.
final class ValidateRecipesTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testEveryCheckedInRecipeValidates() throws {
        let files = try RecipeFiles.find([Self.root.appendingPathComponent("Recipes").path])
        XCTAssertTrue(files.contains { $0.hasSuffix("quickstart.yaml") })
        for file in files {
            XCTAssertEqual(RecipeFiles.problems(file), [], file)
            XCTAssertEqual(RecipeFiles.problems(file, overrides: ["scale=smoke"]), [], "\(file) at smoke scale")
        }
    }

    /// Every cell of a checked-in table reads a different computation: two table cells (or two
    /// seeds of one) backed by the same node would make a comparison vacuous — e.g. a variant
    /// whose switch the stage silently ignores.
    func testEveryTableCellOfEveryRecipeIsADistinctNode() throws {
        for file in try RecipeFiles.find([Self.root.appendingPathComponent("Recipes").path]) {
            let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(file: file)
            guard let table = recipe.table, recipe.cells.count > 1 else { continue }
            let graph = try StageSpecs.graph(recipe)
            var seen: [String: String] = [:]
            for (i, cell) in recipe.cells.enumerated() {
                var value = table.value
                for m in cell.matrix { value = value.replacingOccurrences(of: "{\(m.axis)}", with: "\(m.value)") }
                let stage = String(value.prefix { $0 != "." })
                let node = try XCTUnwrap(graph.node(cellIndex: i, stage: stage), "\(file) \(cell.label)")
                let key = node.hash + "/" + value
                XCTAssertNil(seen[key], "\(file): cells \(seen[key] ?? "") and \(cell.label) read the same node for \(value)")
                seen[key] = cell.label
            }
        }
    }

    func testValidateReportsABrokenRecipeWithItsLocation() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID().uuidString).yaml")
        try """
        name: broken
        stages:
          policy: { kind: sfft, task: word_collector }
        """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let problems = RecipeFiles.problems(file.path)
        XCTAssertEqual(problems.count, 1)
        XCTAssertTrue(problems[0].contains(":3:"), problems[0])
        XCTAssertTrue(problems[0].contains("did you mean 'sft'"), problems[0])
    }
}
