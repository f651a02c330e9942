import XCTest
@testable import Pipeline
import PipelineFakes
import RecipeSpec

/// Golden plan outputs. The hashes are part of the golden text on purpose: a change to the hashing
/// scheme invalidates every store, and must show up here.
final class PlanTests: XCTestCase {
    func twoCellGraph() throws -> PipelineGraph {
        try graph([chainCell([("algo", .string("dpo"))], headOffset: 1),
                   chainCell([("algo", .string("ppo"))], headOffset: 2)])
    }

    func partlyRunStore(_ g: PipelineGraph) throws -> ArtifactStore {
        let store = try ArtifactStore(root: temporaryFolder(self))
        let mid = try XCTUnwrap(g.node(for: "algo=dpo", stage: "mid"))
        _ = try Executor(store: store, runners: FakeStages.runners(ledger: FakeLedger())).run(g, targets: [mid.hash])
        return store
    }

    func testTextPlan() throws {
        let g = try twoCellGraph()
        XCTAssertEqual(PlanRenderer.text(graph: g, store: try partlyRunStore(g)), """
        plan: 4 nodes, 2 cached, 2 to run
        constant db298904a18f  base  cells: all (2)  [cached]
          sum ae9ca8bac768  mid  cells: all (2)  [cached]
            sum 4bd4c0409e6c  head  cells: algo=dpo
            sum 7cb949c61feb  head  cells: algo=ppo

        """)
    }

    func testDotPlan() throws {
        let g = try twoCellGraph()
        XCTAssertEqual(PlanRenderer.dot(graph: g, store: try partlyRunStore(g)), """
        digraph pipeline {
          rankdir=TB;
          node [shape=box, fontname="monospace"];
          "db298904a18f" [label="constant\\ndb298904a18f\\nbase", style=filled, fillcolor="#d9d9d9", tooltip="cached"];
          "ae9ca8bac768" [label="sum\\nae9ca8bac768\\nmid", style=filled, fillcolor="#d9d9d9", tooltip="cached"];
          "4bd4c0409e6c" [label="sum\\n4bd4c0409e6c\\nhead"];
          "7cb949c61feb" [label="sum\\n7cb949c61feb\\nhead"];
          "db298904a18f" -> "ae9ca8bac768" [label="inputs[0]"];
          "ae9ca8bac768" -> "4bd4c0409e6c" [label="inputs[0]"];
          "ae9ca8bac768" -> "7cb949c61feb" [label="inputs[0]"];
        }

        """)
    }

    func testManyCellsAreAbbreviatedAndDepthFollowsLongestPath() throws {
        let cells = (1...5).map { seed in
            RecipeCell(matrix: [("seed", .int(seed))], stages: [
                FakeStages.stage("shared", "constant", [("value", .double(1))]),
                FakeStages.stage("x", "constant", [("value", .double(2)), ("tag", .string(seed < 5 ? "most" : "last"))]),
                FakeStages.stage("both", "sum", [("inputs", list("shared", "x"))]),
            ])
        }
        let g = try graph(cells)
        let lines = PlanRenderer.text(graph: g, store: nil).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 1 + 5)
        XCTAssertTrue(lines[2].hasSuffix("x  cells: seed=1; seed=2; seed=3; +1 more"), lines[2])
        XCTAssertTrue(lines[3].hasPrefix("  sum "), lines[3])
        XCTAssertFalse(lines.contains { $0.contains("[cached]") })
    }
}
