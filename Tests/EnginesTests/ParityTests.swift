import Engines
import Foundation
import Pipeline
import RecipeSpec
import StageSpecs
import Stages
import XCTest

/// PrefLab's own nodes through TRL: the quickstart (smoke scale) runs on the embedded engine, then its sft,
/// reward_model and dpo nodes are trained again by TRL from the same inputs. Identical initial weights and
/// identical batches in identical order give the same first-step loss (within 1e-4); the TRL model is read
/// back by PrefLab. Skipped, saying why, without `.venv-engines`.
final class ParityTests: XCTestCase {
    typealias S = EngineTestSupport

    func testQuickstartNodesOnTRL() throws {
        guard let python = S.python else {
            print("ParityTests: skipped — .venv-engines is absent (bash scripts/setup-engines.sh makes it)")
            throw XCTSkip(".venv-engines is absent")
        }
        let recipe = try S.recipe("Recipes/quickstart.yaml", overrides: ["scale=smoke"])
        let graph = try StageSpecs.graph(recipe)
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ArtifactStore(root: dir.appendingPathComponent("store"))
        let kinds: Set = ["sft", "reward_model", "dpo"]
        let targets = Set(graph.nodes.filter { kinds.contains($0.kind) }.map(\.hash))
        let report = try Executor(store: store, runners: EmbeddedRunners.all).run(graph, targets: targets)
        XCTAssertTrue(report.succeeded, "\(report.failures)")
        var site = SiteConfig()
        site.python = ["trl": python]
        let runner = TRLRunner(inputs: EmbeddedEngineInputs(), site: site)
        for node in graph.nodes where kinds.contains(node.kind) {
            let out = dir.appendingPathComponent("trl-\(node.kind)")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let reporter = Recorder()
            var inputs: [String: URL] = [:]
            for input in node.inputs { inputs[input.field] = store.objectDirectory(for: input.hash) }
            try runner.run(NodeContext(hash: node.hash, stage: node.stage, inputs: inputs, outputDirectory: out,
                                       resumeDirectory: dir.appendingPathComponent("resume-\(node.kind)"), reporter: reporter))
            let embedded = store.metrics(for: node.hash)
            XCTAssertEqual(reporter.steps.count, embedded.count, "\(node.kind): steps")
            let ours = try XCTUnwrap(embedded.first?.values["loss"]), theirs = try XCTUnwrap(reporter.steps.first?.values["loss"])
            print("ParityTests: \(node.kind) first-step loss embedded \(ours) trl \(theirs) (|Δ| \(abs(ours - theirs)))")
            XCTAssertEqual(theirs, ours, accuracy: 1e-4, "\(node.kind): first-step loss")
            XCTAssertEqual(reporter.steps.first?.values["lr"] ?? -1, embedded.first?.values["lr"] ?? -2, accuracy: 1e-9)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("model.safetensors").path))
        }
    }
}

/// Collects what a runner reports (thread-safe).
final class Recorder: ProgressReporter, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var steps: [(step: Int, total: Int, values: [String: Double])] = []
    private(set) var logs: [String] = []
    private(set) var summaries: [String: Double] = [:]

    func record(step: Int, of total: Int, values: [String: Double]) { lock.withLock { steps.append((step, total, values)) } }
    func log(_ message: String) { lock.withLock { logs.append(message) } }
    func summary(_ values: [String: Double]) { lock.withLock { summaries.merge(values) { $1 } } }
}
