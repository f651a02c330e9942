import Foundation
import XCTest
import Pipeline
import RecipeSpec
import StageSpecs

/// Every checked-in recipe's node hashes, at default and smoke scale, against the golden list
/// recorded before the binding layer was reshaped: a refactor that moves a hash would orphan stored
/// Results. Files read from outside the graph enter as a fixed stand-in fingerprint (the real one
/// depends on this machine's data), so the list is the same on every machine.
/// `PREFLAB_WRITE_GOLDEN=1` rewrites the list (only when a result really changes, with a codeVersion bump).
final class RecipeHashesTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden/recipe-hashes.txt")

    static let standIn: ExternalInputs = { stage in
        ["dataset", "prompt_set", "pretrained"].contains(stage.kind) ? "stand-in:" + stage.kind : nil
    }

    static func lines(external: @escaping ExternalInputs = standIn) throws -> [String] {
        let recipes = root.appendingPathComponent("Recipes")
        var files: [String] = []
        for case let path as String in FileManager.default.enumerator(atPath: recipes.path) ?? .init()
        where path.hasSuffix(".yaml") && !path.hasPrefix("base/") && !path.hasPrefix("datasets/") {
            files.append(path)
        }
        var out: [String] = []
        for file in files.sorted() {
            for scale in ["default", "smoke"] {
                let recipe = try RecipeLoader(catalog: StageSpecs.catalog)
                    .load(file: recipes.appendingPathComponent(file).path, overrides: scale == "default" ? [] : ["scale=smoke"])
                let graph = try PipelineGraph(recipe: recipe, catalog: StageSpecs.catalog, external: external)
                for (i, cell) in recipe.cells.enumerated() {
                    for stage in cell.stages {
                        guard let node = graph.node(cellIndex: i, stage: stage.name) else { continue }
                        out.append("\(file) \(scale) \(cell.label) \(stage.name) \(node.hash)")
                    }
                }
            }
        }
        return out
    }

    func testEveryCheckedInRecipeKeepsItsNodeHashes() throws {
        let now = try Self.lines()
        // This machine's real fingerprints, for comparing by hand across a change (not checked here).
        if let path = ProcessInfo.processInfo.environment["PREFLAB_REAL_HASHES"] {
            try (try Self.lines(external: StageSpecs.externalInputs).joined(separator: "\n") + "\n")
                .write(toFile: path, atomically: true, encoding: .utf8)
        }
        if ProcessInfo.processInfo.environment["PREFLAB_WRITE_GOLDEN"] == "1" {
            try (now.joined(separator: "\n") + "\n").write(to: Self.golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: Self.golden, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertGreaterThan(expected.count, 100)
        let missing = Set(expected).subtracting(now), extra = Set(now).subtracting(expected)
        XCTAssertEqual(missing.count, 0, "hashes that moved or vanished, e.g. " + missing.sorted().prefix(5).joined(separator: "; "))
        XCTAssertEqual(extra.count, 0, "new hashes, e.g. " + extra.sorted().prefix(5).joined(separator: "; "))
    }
}
