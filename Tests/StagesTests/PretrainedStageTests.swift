import Foundation
import Llama
import Pipeline
import Preference
import RecipeSpec
import StageSpecs
import Randomness
import XCTest
@testable import Stages

/// `pretrained` puts SmolLM2-135M-Instruct (models/, fetched by scripts/fetch-smollm2.sh; CI fetches it)
/// into a recipe as a policy node; downstream stages load it like any trained policy.
final class PretrainedStageTests: XCTestCase {
    static let model = QuickstartTests.root.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf")

    private func run(_ yaml: String) throws -> (store: ArtifactStore, graph: PipelineGraph, report: RunReport, dir: URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-pre-\(UUID().uuidString)")
        let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: dir.appendingPathComponent("r.yaml").path)
        let graph = try StageSpecs.graph(recipe)
        let store = try ArtifactStore(root: dir)
        let report = try Executor(store: store, runners: EmbeddedRunners.all, jobs: 1, display: SilentProgressDisplay()).run(graph)
        return (store, graph, report, dir)
    }

    func testPretrainedNodeIsAPolicyThatSpeaksLikeTheFile() throws {
        guard FileManager.default.fileExists(atPath: Self.model.path) else {
            throw XCTSkip("models/SmolLM2-135M-Instruct.Q4_1.gguf is absent: run scripts/fetch-smollm2.sh (CI does)")
        }
        let r = try run("""
            name: pre
            stages:
              base: { kind: pretrained, file: \(Self.model.path), max_seq_len: 64 }
              eval: { kind: gold_reward, policy: base, task: word_collector, prompts: 2, max_new_tokens: 4 }
            """)
        defer { try? FileManager.default.removeItem(at: r.dir) }
        XCTAssertTrue(r.report.succeeded, "\(r.report.failures.map { "\($0.stage): \($0.outcome)" })")
        let node = try XCTUnwrap(r.graph.node(cellIndex: 0, stage: "base"))
        XCTAssertNotNil(node.external, "the model file's contents are part of the node hash")
        XCTAssertEqual(r.store.summary(for: node.hash)?["parameters"], 134_515_008)  // SmolLM2-135M, tied head
        // Weights and the 49,152-token tokenizer survive the node's safetensors + tokenizer.json.
        let saved = try ModelArtifact.loadPolicy(from: r.store.objectDirectory(for: node.hash))
        let direct = try Pretrained.policy(gguf: Self.model, maxSeqLen: 64)
        let prompt = "The capital of France is Paris. The capital of Italy is"
        let ids = saved.codec.encode(prompt)
        XCTAssertEqual(ids, direct.codec.encode(prompt))
        var rng = SeededRandom(seed: 1)
        let out = saved.model.generate(prompts: [ids], maxNewTokens: 2, temperature: 0, topP: 1, eos: -1, rng: &rng)
        XCTAssertTrue(saved.codec.decode(out[0]).hasPrefix(" Rome"), saved.codec.decode(out[0]))
    }

    func testMissingModelFileSaysHowToFetchIt() throws {
        // Caught when the recipe loads (validate), before any node runs.
        XCTAssertThrowsError(try run("""
            name: pre
            stages:
              base: { kind: pretrained, file: /nonexistent/SmolLM2-135M-Instruct.Q4_1.gguf }
            """)) { error in
            XCTAssertTrue("\(error)".contains("does not exist (scripts/fetch-smollm2.sh fetches it)"), "\(error)")
        }
    }
}
