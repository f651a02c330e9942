import Foundation
import XCTest
import Pipeline
import RecipeSpec
import StageSpecs
@testable import Stages

/// `concat` joins preference sets or prompt sets; `task_prompts` draws world prompts by category.
final class ConcatStageTests: XCTestCase {
    func testConcatJoinsSamplesAndRefusesMixedKinds() throws {
        let yaml = """
            name: cc
            stages:
              a: { kind: world_preferences, dataset: hh_like, size: 20, held_out: 4, seed: 1 }
              b: { kind: world_preferences, dataset: math_like, size: 30, held_out: 4, seed: 1 }
              ab: { kind: concat, parts: [a, b], size: 25, seed: 1 }
              all: { kind: concat, parts: [b, a] }
              p1: { kind: task_prompts, task: world, size: 10, categories: [reasoning] }
              p2: { kind: task_prompts, task: world, size: 10 }
              pp: { kind: concat, parts: [p1, p2] }
              bad: { kind: concat, parts: [a, p1] }
            """
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-cc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: dir.appendingPathComponent("r.yaml").path)
        let graph = try StageSpecs.graph(recipe)
        let store = try ArtifactStore(root: dir)
        let report = try Executor(store: store, runners: EmbeddedRunners.all, jobs: 1, display: SilentProgressDisplay()).run(graph)
        XCTAssertEqual(report.failures.map(\.stage), ["bad"])
        let summary = { (stage: String) in store.summary(for: graph.node(cellIndex: 0, stage: stage)!.hash) ?? [:] }
        XCTAssertEqual(summary("ab")["pairs"], 25)
        XCTAssertEqual(summary("ab")["held_out"], 8)
        XCTAssertEqual(summary("all")["pairs"], 50)
        XCTAssertEqual(summary("pp")["prompts"], 20)
        let text = { (stage: String, file: String) in
            try String(contentsOf: store.objectDirectory(for: graph.node(cellIndex: 0, stage: stage)!.hash)
                .appendingPathComponent(file), encoding: .utf8)
        }
        let targeted = try text("p1", "prompts.jsonl").split(separator: "\n")
        XCTAssertEqual(targeted.count, 10)
        XCTAssertTrue(targeted.allSatisfy { $0.contains("world/reasoning") })
        let log = try String(contentsOf: store.logFile(for: graph.node(cellIndex: 0, stage: "bad")!.hash), encoding: .utf8)
        XCTAssertTrue(log.contains("mixes preference sets and prompt sets"), log)
    }
}
