import XCTest
@testable import Pipeline
import PipelineFakes
import RecipeSpec

/// The machine facts an executor records (its `host`) reach node.json and the table's kernel line.
final class HostProvenanceTests: XCTestCase {
    func recipe() -> ResolvedRecipe {
        let cells = [1, 2].map { seed in
            RecipeCell(matrix: [("seed", .int(seed)), ("task", .string("a"))],
                       stages: [FakeStages.stage("eval", "constant", [("value", .double(Double(seed))), ("tag", .string("\(seed)"))])])
        }
        return FakeStages.recipe("host/table", cells: cells,
                                 table: TableSpec(rows: ["seed"], columns: ["task"], value: "eval.value"))
    }

    func run(host: [String: String], targets: Int? = nil) throws -> (ArtifactStore, PipelineGraph) {
        let store = try ArtifactStore(root: temporaryFolder(self).appendingPathComponent("store"))
        let graph = try PipelineGraph(recipe: recipe(), catalog: FakeStages.catalog)
        _ = try Executor(store: store, runners: FakeStages.runners(ledger: FakeLedger()), host: host).run(graph)
        return (store, graph)
    }

    func testHostIsRecordedPerNodeAndCountedByTheTable() throws {
        let (store, graph) = try run(host: ["blas_core": "Haswell", "cpu": "Test CPU"])
        let node = try XCTUnwrap(graph.node(cellIndex: 0, stage: "eval"))
        XCTAssertEqual(store.record(for: node.hash)?.host, ["blas_core": "Haswell", "cpu": "Test CPU"])
        let table = try TableBuilder.build(recipe: recipe(), graph: graph, store: store, command: "preflab run host.yaml")
        XCTAssertEqual(table.blasCores, ["Haswell": graph.nodes.count])
        XCTAssertTrue(table.markdown.contains("Computed with OpenBLAS kernels: Haswell (\(graph.nodes.count) nodes)"), table.markdown)
        XCTAssertTrue(table.json.contains("\"blasCores\""))
        XCTAssertEqual(table.bf16Kernels, [:], "no node asked for bf16")
        XCTAssertFalse(table.markdown.contains("bf16"))
    }

    /// Nodes hashed with `precision: bf16` are counted by the bf16 kernel their host recorded.
    func testBF16NodesAreCountedByKernel() throws {
        func record(_ config: String, _ host: [String: String]) -> NodeRecord {
            NodeRecord(hash: "h", kind: "dpo", stage: "dpo", config: config, inputs: [:], codeVersion: 1, created: "",
                       wallSeconds: 0, host: host)
        }
        XCTAssertTrue(TableBuilder.isBF16(record(#"{"kind":"dpo","precision":"bf16"}"#, [:])))
        XCTAssertFalse(TableBuilder.isBF16(record(#"{"kind":"dpo","precision":"fp32"}"#, [:])))
        XCTAssertFalse(TableBuilder.isBF16(record(#"{"kind":"dpo","loss":{"precision":"bf16"}}"#, [:])))
        let (store, graph) = try run(host: ["blas_core": "Haswell"])
        var table = try TableBuilder.build(recipe: recipe(), graph: graph, store: store, command: "preflab run host.yaml")
        table.bf16Kernels = ["avx2": 2, "amx": 1]
        XCTAssertTrue(table.markdown.contains("bf16 products by kernel: amx (1 nodes), avx2 (2 nodes)"), table.markdown)
        XCTAssertTrue(table.json.contains("\"bf16Kernels\""))
    }

    func testNodesWithoutHostLeaveTheTableAsBefore() throws {
        let (store, graph) = try run(host: [:])
        let node = try XCTUnwrap(graph.node(cellIndex: 0, stage: "eval"))
        XCTAssertEqual(store.record(for: node.hash)?.host, [:])
        let table = try TableBuilder.build(recipe: recipe(), graph: graph, store: store, command: "preflab run host.yaml")
        XCTAssertEqual(table.blasCores, [:])
        XCTAssertFalse(table.markdown.contains("OpenBLAS"))
        XCTAssertFalse(table.json.contains("blasCores"))
    }
}
