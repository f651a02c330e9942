import Foundation
import XCTest
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
