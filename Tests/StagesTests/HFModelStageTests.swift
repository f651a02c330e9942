import Foundation
import Llama
import Pipeline
import Preference
import RecipeSpec
import StageSpecs
import Tensor
import XCTest
@testable import Stages

/// `hf_model`: a Hugging Face folder as a recipe's base policy, fingerprinted by content, checked by
/// validate; and `ModelExport` back to a folder.
final class HFModelStageTests: XCTestCase {
    /// The folder transformers made (see Tests/PreferenceTests/HFFolderTests.swift).
    static let fixture = QuickstartTests.root.appendingPathComponent("Tests/PreferenceTests/Fixtures/hf-tiny")

    private func temporary(_ label: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    private func load(_ yaml: String, in dir: URL) throws -> ResolvedRecipe {
        try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: dir.appendingPathComponent("r.yaml").path)
    }

    private func copyFixture(to dir: URL) throws -> URL {
        let copy = dir.appendingPathComponent("model")
        try FileManager.default.copyItem(at: Self.fixture, to: copy)
        return copy
    }

    func testTransformersFolderIsABasePolicyWithItsLogProbs() throws {
        let dir = try temporary("hfstage")
        defer { try? FileManager.default.removeItem(at: dir) }
        let recipe = try load("""
            name: hf
            stages:
              base: { kind: hf_model, path: \(Self.fixture.path), max_seq_len: 128 }
              eval: { kind: gold_reward, policy: base, task: word_collector, prompts: 2, max_new_tokens: 4 }
            """, in: dir)
        let graph = try StageSpecs.graph(recipe)
        let store = try ArtifactStore(root: dir.appendingPathComponent("store"))
        let report = try Executor(store: store, runners: EmbeddedRunners.all, jobs: 1, display: SilentProgressDisplay()).run(graph)
        XCTAssertTrue(report.succeeded, "\(report.failures.map { "\($0.stage): \($0.outcome)" })")
        let node = try XCTUnwrap(graph.node(cellIndex: 0, stage: "base"))
        XCTAssertNotNil(node.external, "the folder's contents are part of the node hash")

        // The node gives the log-probs transformers computed from the folder.
        let policy = try ModelArtifact.loadPolicy(from: store.objectDirectory(for: node.hash))
        let reference = try JSONDecoder().decode(HFFolderReference.self,
                                                 from: Data(contentsOf: Self.fixture.appendingPathComponent("reference.json")))
        var worst = 0.0
        for (i, rendered) in reference.chat.enumerated() {
            let row = rendered.prompt + rendered.response + [policy.codec.eos]
            let lp = policy.model.tokenLogProbs(TokenBatch(sequences: [row], pad: 0), keepActivations: false)
            for (t, theirs) in zip(rendered.prompt.count..<row.count, reference.token_logprobs[i]) {
                worst = max(worst, abs(Double(lp[t]) - theirs))
            }
        }
        XCTAssertLessThan(worst, 1e-4)
    }

    func testTheHashFollowsTheFolderContents() throws {
        let dir = try temporary("hfhash")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try copyFixture(to: dir)
        let yaml = "name: hf\nstages:\n  base: { kind: hf_model, path: \(model.path), allow_outside: true }\n"
        func hash() throws -> String { try XCTUnwrap(StageSpecs.graph(try load(yaml, in: dir)).node(cellIndex: 0, stage: "base")).hash }
        let before = try hash()
        XCTAssertEqual(try hash(), before)
        let shard = model.appendingPathComponent("model-00002-of-00003.safetensors")
        var bytes = try Data(contentsOf: shard)
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: shard)
        let afterWeights = try hash()
        XCTAssertNotEqual(afterWeights, before, "a changed shard is a new node")
        try (String(contentsOf: model.appendingPathComponent("chat_template.jinja"), encoding: .utf8) + " ")
            .write(to: model.appendingPathComponent("chat_template.jinja"), atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try hash(), afterWeights, "a changed chat template is a new node")
    }

    func testValidateNamesTheStageAndTheFile() throws {
        let dir = try temporary("hfvalidate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try copyFixture(to: dir)
        try FileManager.default.removeItem(at: model.appendingPathComponent("tokenizer.json"))
        // The folder check is the catalogue's (compute-free), and so is the wiring check: this causal LM
        // is refused as a reward model (Tests/StageSpecsTests/HFWiringTests.swift).
        XCTAssertThrowsError(try load("""
            name: hf
            stages:
              base: { kind: hf_model, path: \(model.path), allow_outside: true }
              pick: { kind: best_of_n, policy: base, reward_model: base, task: word_collector }
            """, in: dir)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("r.yaml:3:") && text.contains("tokenizer.json") && text.contains("does not exist"), text)
            XCTAssertTrue(text.contains("r.yaml:4:") && text.contains("stages.pick.reward_model: stage 'base' (kind 'hf_model'"), text)
        }
    }

    func testExportWritesAFolderThatReadsBackAndDropsAnOldBias() throws {
        let dir = try temporary("hfexport")
        defer { try? FileManager.default.removeItem(at: dir) }
        let policy = try ModelArtifact.loadPolicy(from: HFModelStageTests.fixture)
        let rm = LlamaModel(bodyOf: policy.model, head: .scalar, seed: 1)
        var named = rm.namedTensors()
        named["score.bias"] = Tensor(shape: [1], data: [0.5])  // as a node trained before the bias was held at zero
        try rm.load(named)
        let node = dir.appendingPathComponent("node")
        try FileManager.default.createDirectory(at: node, withIntermediateDirectories: true)
        try ModelArtifact.save(model: rm, codec: try XCTUnwrap(policy.codec as? TokenizerCodec), to: node)
        XCTAssertEqual(try ModelArtifact.load(from: node).model.scoreBias, 0.5, "PrefLab keeps its own bias")

        let out = dir.appendingPathComponent("export")
        let notes = try ModelExport.export(node: node, to: out)
        XCTAssertEqual(notes.count, 1)
        XCTAssertTrue(notes[0].contains("score.bias 0.5 left out"), notes[0])
        let back = try ModelArtifact.load(from: out).model
        XCTAssertEqual(back.scoreBias, 0)
        XCTAssertEqual(back.namedTensors().filter { $0.key != "score.bias" }, rm.namedTensors().filter { $0.key != "score.bias" })
        XCTAssertThrowsError(try ModelExport.export(node: node, to: out)) { error in
            XCTAssertTrue("\(error)".contains("exists and is not an empty folder"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["export", "node"], "no temporary left")
    }
}

/// What reference.json of the committed fixture holds (the parts these tests read).
struct HFFolderReference: Decodable {
    struct Rendered: Decodable { var prompt: [Int32]; var response: [Int32] }
    var chat: [Rendered]
    var token_logprobs: [[Double]]
}
