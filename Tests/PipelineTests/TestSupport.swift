import Foundation
import XCTest
@testable import Pipeline
import PipelineFakes
import RecipeSpec

/// A fresh temporary folder, removed when the test ends.
func temporaryFolder(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("preflab-pipeline-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// The three-stage chain many tests use: `base` (constant), `mid` = base + offset, `head` = mid + headOffset.
func chainCell(_ matrix: [(axis: String, value: ConfigValue)] = [], base: Double = 1, offset: Double = 10,
               headOffset: Double = 100) -> RecipeCell {
    RecipeCell(matrix: matrix, stages: [
        FakeStages.stage("base", "constant", [("value", .double(base))]),
        FakeStages.stage("mid", "sum", [("inputs", .list([ConfigNode(.string("base"))])), ("offset", .double(offset))]),
        FakeStages.stage("head", "sum", [("inputs", .list([ConfigNode(.string("mid"))])), ("offset", .double(headOffset))]),
    ])
}

func graph(_ cells: [RecipeCell], name: String = "test/recipe", table: TableSpec? = nil) throws -> PipelineGraph {
    try PipelineGraph(recipe: FakeStages.recipe(name, cells: cells, table: table), catalog: FakeStages.catalog)
}

func list(_ names: String...) -> ConfigValue { .list(names.map { ConfigNode(.string($0)) }) }
