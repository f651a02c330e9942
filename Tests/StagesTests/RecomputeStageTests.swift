import Foundation
import XCTest
import Pipeline
import RecipeSpec
import StageSpecs
@testable import Stages

/// `recompute: true` on trainer stages trades time for memory: its own node hashes (the streamed LM head may
/// change last bits with some BLAS kernels), and here, where every LM-head tile is the whole product, weights
/// and metrics byte-identical to a run without it; `recompute: false` resolves as absent.
final class RecomputeStageTests: XCTestCase {
    static func yaml(recompute: Bool) -> String {
        let r = recompute ? ", recompute: true" : ""
        return """
            name: rc
            stages:
              tokenizer: { kind: tokenizer, task: word_collector, vocab_size: 300, documents: 200 }
              sft: { kind: sft, task: word_collector, tokenizer: tokenizer, examples: 32, epochs: 1, batch_size: 16, d_model: 32,
                     layers: 2, heads: 2, kv_heads: 1, hidden: 64, max_seq_len: 96\(r) }
              preferences: { kind: task_preferences, policy: sft, task: word_collector, size: 12, held_out: 4, max_new_tokens: 8, drop_ties: false }
              reward_model: { kind: reward_model, preferences: preferences, init: sft, batch_size: 4, micro_batch: 4\(r) }
              dpo: { kind: dpo, policy: sft, preferences: preferences, batch_size: 4, micro_batch: 4, epochs: 1\(r) }
            """
    }

    func testRecomputeHasItsOwnHashesAndTheSameOutputs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-rc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var runs: [(graph: PipelineGraph, store: ArtifactStore)] = []
        for recompute in [false, true] {
            let root = dir.appendingPathComponent(recompute ? "on" : "off")
            let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: Self.yaml(recompute: recompute),
                                                                            file: root.appendingPathComponent("r.yaml").path)
            let graph = try StageSpecs.graph(recipe)
            let store = try ArtifactStore(root: root)
            let report = try Executor(store: store, runners: EmbeddedRunners.all, jobs: 1, display: SilentProgressDisplay()).run(graph)
            XCTAssertTrue(report.succeeded, "\(report.failures.map { "\($0.stage): \($0.outcome)" })")
            runs.append((graph, store))
        }
        for stage in ["sft", "reward_model", "dpo"] {
            let off = try XCTUnwrap(runs[0].graph.node(cellIndex: 0, stage: stage)), on = try XCTUnwrap(runs[1].graph.node(cellIndex: 0, stage: stage))
            XCTAssertNotEqual(on.hash, off.hash, "\(stage): recompute: true is part of the node hash")
            XCTAssertTrue(on.stage.config["recompute"]?.bool == true, stage)
            let a = runs[0].store.objectDirectory(for: off.hash), b = runs[1].store.objectDirectory(for: on.hash)
            for file in ["model.safetensors", "metrics.jsonl"] {
                XCTAssertEqual(try stripTimes(Data(contentsOf: a.appendingPathComponent(file)), file),
                               try stripTimes(Data(contentsOf: b.appendingPathComponent(file)), file), "\(stage)/\(file)")
            }
            let logOn = try String(contentsOf: b.appendingPathComponent("log.txt"), encoding: .utf8)
            let logOff = try String(contentsOf: a.appendingPathComponent("log.txt"), encoding: .utf8)
            XCTAssertTrue(logOn.contains("recompute: block activations are recomputed"), "\(stage) ran with recompute: \(logOn)")
            XCTAssertFalse(logOff.contains("recompute:"), stage)
        }
    }

    /// Writing `recompute: false` changes no hash (nodes hashed before the field existed keep theirs).
    func testRecomputeFalseResolvesAsAbsent() throws {
        let off = Self.yaml(recompute: false)
        let explicit = off.replacingOccurrences(of: "epochs: 1 }", with: "epochs: 1, recompute: false }")
        XCTAssertNotEqual(off, explicit)
        let hashes = try [off, explicit].map { yaml in
            try StageSpecs.graph(try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: "/tmp/rc.yaml")).node(cellIndex: 0, stage: "dpo")?.hash
        }
        XCTAssertNotNil(hashes[0])
        XCTAssertEqual(hashes[0], hashes[1])
    }

    /// metrics.jsonl lines carry timings (wall-clock time, tokens per second); everything else must match.
    private func stripTimes(_ data: Data, _ file: String) -> String {
        let text = String(decoding: data, as: UTF8.self)
        guard file.hasSuffix(".jsonl") else { return text }
        return text.replacingOccurrences(of: #""(wall_?time|time|elapsed|seconds|tokens_per_s)":[0-9.eE+-]+,?"#, with: "", options: .regularExpression)
    }
}
