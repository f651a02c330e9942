import Foundation
import XCTest
import Pipeline
import RecipeSpec
import StageSpecs

/// Every stored result names the nodes it was computed from; those must be nodes of its recipe as the code
/// hashes them now. A code-version bump or a recipe edit that moves a node leaves Results describing a run
/// that the recipe no longer produces — this test is what says so (a rerun of the recipe mends it).
final class ResultsProvenanceTests: XCTestCase {
    static let root = RecipeHashesTests.root

    /// Results knowingly older than their recipe's nodes, each with why it was not rerun (empty when all are current).
    static let knownStale: [String: String] = [:]

    func testEveryResultNamesNodesOfItsRecipeAsHashedNow() throws {
        let results = Self.root.appendingPathComponent("Results")
        var checked = 0, unreadable: [String] = [], stale: [String] = [], current: [String] = []
        for case let path as String in FileManager.default.enumerator(atPath: results.path) ?? .init()
        where path.hasSuffix("/results.json") && !path.hasPrefix("paper/") {
            let name = String(path.dropLast("/results.json".count))
            let recipe = Self.root.appendingPathComponent("Recipes/\(name).yaml")
            guard FileManager.default.fileExists(atPath: recipe.path) else {
                XCTFail("Results/\(path) has no recipe Recipes/\(name).yaml"); continue
            }
            let named = try Self.nodes(in: results.appendingPathComponent(path))
            let hashes: Set<String>
            do {
                let loaded = try RecipeLoader(catalog: StageSpecs.catalog).load(file: recipe.path, overrides: [])
                hashes = Set(try StageSpecs.graph(loaded).nodes.map(\.hash))
            } catch {
                // A recipe over files this machine lacks (the real data, the SmolLM2 GGUF) cannot be hashed here.
                unreadable.append("\(name): \(error)"); continue
            }
            checked += 1
            let moved = named.subtracting(hashes)
            if moved.isEmpty, Self.knownStale[name] != nil { current.append(name) }
            if !moved.isEmpty, Self.knownStale[name] == nil {
                stale.append("\(name): \(moved.count) of \(named.count) nodes, e.g. \(moved.sorted().first!.prefix(12))")
            }
        }
        if !unreadable.isEmpty { print("ResultsProvenanceTests: not hashable here:\n  " + unreadable.joined(separator: "\n  ")) }
        XCTAssertGreaterThan(checked, 15, "the simulated-world recipes need no external files and must all be checked")
        XCTAssertEqual(current, [], "listed as stale but current again: take them off knownStale")
        XCTAssertEqual(stale, [], "Results naming nodes their recipe no longer has (rerun them): \n" + stale.joined(separator: "\n"))
    }

    /// The node hashes a results.json cites.
    static func nodes(in url: URL) throws -> Set<String> {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let cells = json?["cells"] as? [[String: Any]] ?? []
        return Set(cells.flatMap { $0["nodes"] as? [String] ?? [] })
    }
}
