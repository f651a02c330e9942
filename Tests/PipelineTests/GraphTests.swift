import XCTest
@testable import Pipeline
import PipelineFakes
import RecipeSpec

final class GraphTests: XCTestCase {
    func testKeyOrderAndLocationsDoNotChangeHashes() throws {
        let a = try graph([chainCell()])
        var reordered = chainCell()
        for i in reordered.stages.indices {
            guard case let .map(entries) = reordered.stages[i].config.value else { return XCTFail("not a map") }
            let moved = entries.reversed().map { ($0.key, ConfigNode($0.value.value, at: SourceLocation(file: "x.yaml", line: 9, column: 3))) }
            reordered.stages[i].config = ConfigNode(.map(moved), at: SourceLocation(file: "x.yaml", line: 1, column: 1))
        }
        reordered.stages.reverse()
        let b = try graph([reordered])
        XCTAssertEqual(a.nodes.map(\.hash), b.nodes.map(\.hash))
        XCTAssertEqual(a.nodes.count, 3)
        XCTAssertEqual(a.nodes.first?.hash.count, 64)
    }

    func testValueChangeChangesExactlyDownstreamNodes() throws {
        let a = try graph([chainCell()])
        let midChanged = try graph([chainCell(offset: 11)])
        let headChanged = try graph([chainCell(headOffset: 101)])
        let baseChanged = try graph([chainCell(base: 2)])
        func hashes(_ g: PipelineGraph) -> [String] { ["base", "mid", "head"].map { g.node(for: "default", stage: $0)?.hash ?? "" } }
        let (h, m, hd, b) = (hashes(a), hashes(midChanged), hashes(headChanged), hashes(baseChanged))
        XCTAssertEqual(m[0], h[0]); XCTAssertNotEqual(m[1], h[1]); XCTAssertNotEqual(m[2], h[2])
        XCTAssertEqual(hd[0], h[0]); XCTAssertEqual(hd[1], h[1]); XCTAssertNotEqual(hd[2], h[2])
        XCTAssertNotEqual(b[0], h[0]); XCTAssertNotEqual(b[1], h[1]); XCTAssertNotEqual(b[2], h[2])
        XCTAssertEqual(nodesToRecompute(from: a, to: midChanged).map(\.stage.name), ["mid", "head"])
        XCTAssertEqual(nodesToRecompute(from: a, to: headChanged).map(\.stage.name), ["head"])
        XCTAssertEqual(nodesToRecompute(from: a, to: a).count, 0)
    }

    /// Stage names are not content: renaming a stage (and its references) keeps every hash.
    func testRenamingStagesKeepsHashes() throws {
        let a = try graph([chainCell()])
        let renamed = RecipeCell(matrix: [], stages: [
            FakeStages.stage("b0", "constant", [("value", .double(1))]),
            FakeStages.stage("m0", "sum", [("inputs", list("b0")), ("offset", .double(10))]),
            FakeStages.stage("h0", "sum", [("inputs", list("m0")), ("offset", .double(100))]),
        ])
        XCTAssertEqual(try graph([renamed]).nodes.map(\.hash), a.nodes.map(\.hash))
    }

    func testCodeVersionEntersHash() throws {
        let recipe = FakeStages.recipe("r", cells: [chainCell()])
        var catalog = FakeStages.catalog
        var schema = try XCTUnwrap(catalog.schema("sum"))
        schema.codeVersion = 2
        catalog.register(schema)
        let a = try PipelineGraph(recipe: recipe, catalog: FakeStages.catalog)
        let b = try PipelineGraph(recipe: recipe, catalog: catalog)
        XCTAssertEqual(nodesToRecompute(from: a, to: b).map(\.stage.name), ["mid", "head"])
    }

    /// An external fingerprint joins the hash of the stages it names (and so their dependents'); nil leaves
    /// a hash as it was without fingerprints; a failing fingerprint names the stage.
    func testExternalFingerprintsEnterHashes() throws {
        let recipe = FakeStages.recipe("r", cells: [chainCell()])
        let plain = try PipelineGraph(recipe: recipe, catalog: FakeStages.catalog)
        func fingerprinting(_ text: String) throws -> PipelineGraph {
            try PipelineGraph(recipe: recipe, catalog: FakeStages.catalog) { $0.name == "mid" ? text : nil }
        }
        let v1 = try fingerprinting("file v1"), v2 = try fingerprinting("file v2")
        XCTAssertEqual(nodesToRecompute(from: plain, to: v1).map(\.stage.name), ["mid", "head"])
        XCTAssertEqual(nodesToRecompute(from: v1, to: v2).map(\.stage.name), ["mid", "head"])
        XCTAssertEqual(nodesToRecompute(from: v1, to: try fingerprinting("file v1")).count, 0)
        XCTAssertEqual(v1.node(for: "default", stage: "mid")?.external, "file v1")
        XCTAssertNil(v1.node(for: "default", stage: "base")?.external)
        struct Unreadable: Error, CustomStringConvertible { var description: String { "permission denied" } }
        XCTAssertThrowsError(try PipelineGraph(recipe: recipe, catalog: FakeStages.catalog) { _ in throw Unreadable() }) {
            XCTAssertTrue("\($0)".contains("cannot fingerprint the files it reads: permission denied"), "\($0)")
        }
    }

    func testEqualStagesAcrossCellsAreOneNode() throws {
        let cells = [chainCell([("algo", .string("dpo"))], headOffset: 1),
                     chainCell([("algo", .string("ppo"))], headOffset: 2)]
        let g = try graph(cells)
        XCTAssertEqual(g.nodes.count, 4)
        let base = try XCTUnwrap(g.node(for: "algo=dpo", stage: "base"))
        XCTAssertEqual(base.hash, g.node(for: "algo=ppo", stage: "base")?.hash)
        XCTAssertEqual(base.usedBy.map(\.cell), ["algo=dpo", "algo=ppo"])
        XCTAssertNotEqual(g.node(for: "algo=dpo", stage: "head")?.hash, g.node(for: "algo=ppo", stage: "head")?.hash)
        XCTAssertEqual(g.edges.count, 3)
        XCTAssertEqual(g.node(cellIndex: 1, stage: "mid")?.inputs.map(\.field), ["inputs[0]"])
    }

    func testTopologicalOrderWithForwardReferences() throws {
        let cell = RecipeCell(matrix: [], stages: [
            FakeStages.stage("total", "sum", [("inputs", list("a", "b"))]),
            FakeStages.stage("a", "constant", [("value", .double(1))]),
            FakeStages.stage("b", "constant", [("value", .double(2))]),
        ])
        let g = try graph([cell])
        XCTAssertEqual(g.nodes.map(\.stage.name), ["a", "b", "total"])
        XCTAssertEqual(g.node(for: "default", stage: "total")?.inputs.map(\.field), ["inputs[0]", "inputs[1]"])
    }

    /// Declared inputs (list elements as `field[i]`, or none at all) give the same edges and hashes.
    func testDeclaredInputsMatchSchemaReferences() throws {
        let plain = try graph([chainCell()])
        var stripped = chainCell()
        for i in stripped.stages.indices { stripped.stages[i].inputs = [] }
        XCTAssertEqual(try graph([stripped]).nodes.map(\.hash), plain.nodes.map(\.hash))
        let head = try XCTUnwrap(plain.node(for: "default", stage: "head"))
        XCTAssertEqual(head.stage.inputs.map(\.field), ["inputs[0]"])
        XCTAssertEqual(head.inputs.count, 1)
        XCTAssertEqual(plain.edges.count, 2)
    }

    func testInputListKeepsNumericOrder() {
        let urls = (0..<12).map { URL(fileURLWithPath: "/s/\($0)") }
        var inputs: [String: URL] = ["after": URL(fileURLWithPath: "/a")]
        for (i, u) in urls.enumerated() { inputs["terms[\(i)]"] = u }
        let context = NodeContext(hash: "h", stage: FakeStages.stage("x", "constant", [("value", .double(1))]), inputs: inputs,
                                  outputDirectory: URL(fileURLWithPath: "/o"), resumeDirectory: URL(fileURLWithPath: "/r"),
                                  reporter: NullReporter())
        XCTAssertEqual(context.inputList("terms"), urls)
        XCTAssertEqual(context.input("after")?.path, "/a")
        XCTAssertEqual(context.inputList("after"), [])
    }

    func testErrorsNameTheProblem() throws {
        let unknownKind = RecipeCell(matrix: [], stages: [FakeStages.stage("x", "nope", [])])
        XCTAssertThrowsError(try graph([unknownKind])) { error in
            XCTAssertEqual(error as? PipelineError, .unknownKind(cell: "default", stage: "x", kind: "nope", location: nil))
        }
        let dangling = RecipeCell(matrix: [], stages: [FakeStages.stage("s", "sum", [("inputs", list("ghost"))])])
        XCTAssertThrowsError(try graph([dangling])) { error in
            XCTAssertTrue("\(error)".contains("'ghost'"), "\(error)")
        }
        let cycle = RecipeCell(matrix: [], stages: [
            FakeStages.stage("p", "sum", [("inputs", list("q"))]),
            FakeStages.stage("q", "sum", [("inputs", list("p"))]),
        ])
        XCTAssertThrowsError(try graph([cycle])) { error in
            XCTAssertEqual(error as? PipelineError, .referenceCycle(cell: "default", stages: ["p", "q", "p"]))
        }
        let badRef = RecipeCell(matrix: [], stages: [FakeStages.stage("s", "sleep", [("after", .int(3))])])
        XCTAssertThrowsError(try graph([badRef])) { error in
            XCTAssertTrue("\(error)".contains("field 'after' holds 3"), "\(error)")
        }
    }

    func testRecipeContentHashIgnoresKeyOrder() {
        let a = ResolvedRecipe(name: "r", file: "r.yaml", cells: [], table: nil,
                               document: ConfigNode(.map([("a", ConfigNode(.int(1))), ("b", ConfigNode(.int(2)))])))
        var b = a
        b.document = ConfigNode(.map([("b", ConfigNode(.int(2))), ("a", ConfigNode(.int(1)))]))
        XCTAssertEqual(a.contentHash, b.contentHash)
        b.document = ConfigNode(.map([("b", ConfigNode(.int(3))), ("a", ConfigNode(.int(1)))]))
        XCTAssertNotEqual(a.contentHash, b.contentHash)
    }
}

struct NullReporter: ProgressReporter {
    func record(step: Int, of total: Int, values: [String: Double]) {}
    func log(_ message: String) {}
    func summary(_ values: [String: Double]) {}
}
