@testable import Engines
import Foundation
import Pipeline
import RecipeSpec
import StageSpecs
import Stages
import XCTest

/// A model PrefLab does not read (an OPT the site names) trained by TRL with its own tokenizer: the site's folder
/// becomes the `hf_model` node as it is, TRL's DPO starts from it, and the DPO model (an OPT folder again) initialises
/// a TRL reward model. The OPT is made here by scripts/make-tiny-opt.py (10,904 parameters, OPT's tokenizer
/// conventions). The runs are skipped, saying why, without `.venv-engines`; the validate checks always run.
final class EngineModelTests: XCTestCase {
    typealias S = EngineTestSupport

    /// Pairs from a tiny PrefLab Llama (text: any tokenizer reads them), then DPO and a reward model of the OPT on TRL.
    static let recipe = """
    name: opt-on-trl
    stages:
      tokenizer: { kind: tokenizer, task: word_collector, vocab_size: 300, documents: 200 }
      sft: { kind: sft, task: word_collector, tokenizer: tokenizer, examples: 64, epochs: 1, batch_size: 16, micro_batch: 16, d_model: 32, layers: 1, heads: 2, kv_heads: 1, hidden: 64, max_seq_len: 96, seed: 1 }
      preferences: { kind: task_preferences, policy: sft, task: word_collector, size: 8, held_out: 4, max_new_tokens: 12, drop_ties: false, seed: 1 }
      opt: { kind: hf_model, model: tiny-opt, architecture: opt }
      dpo: { kind: dpo, engine: trl, policy: opt, preferences: preferences, learning_rate: 1.0e-3, epochs: 1, batch_size: 4, micro_batch: 2, seed: 1 }
      reward_model: { kind: reward_model, engine: trl, init: dpo, preferences: preferences, learning_rate: 1.0e-3, epochs: 1, batch_size: 4, micro_batch: 2, seed: 1 }

    """

    /// SFT of the OPT, online DPO with gold labels and D2PO with the OPT reward model as discriminator (and PrefLab's
    /// accuracy probe of its judges, D2PO Fig. 6).
    static let online = """
      sft_opt: { kind: sft, engine: trl, init: opt, task: word_collector, examples: 8, epochs: 1, batch_size: 4, micro_batch: 2, learning_rate: 1.0e-3, seed: 1 }
      prompts: { kind: task_prompts, task: word_collector, size: 8, seed: 1 }
      opo_gold: { kind: opo, engine: trl, policy: opt, prompts: prompts, labeler: gold, task: word_collector, prompts_per_step: 4, update_epochs: 1, gold_budget: 8, max_new_tokens: 8, learning_rate: 1.0e-3, seed: 1 }
      d2po: { kind: d2po, engine: trl, policy: opt, prompts: prompts, task: word_collector, discriminator: reward_model, reward_model: reward_model, prompts_per_step: 4, rollouts_per_gold_round: 8, gold_per_round: 2, gold_budget: 4, max_new_tokens: 8, learning_rate: 1.0e-3, probe_every: 2, seed: 1 }

    """

    func graph(_ text: String, in dir: URL) throws -> PipelineGraph { try S.graph(text, in: dir) }

    /// The chain validates (TRL takes the OPT folders); the node's hash is the name's, not the folder's.
    func testTRLNodesOnAnOPTModelValidate() throws {
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let graph = try graph(Self.recipe, in: dir)
        XCTAssertEqual(SiteModels.refusals(graph, siteModels: ["tiny-opt": "/nowhere"]).map(\.error.description), [])
        let moved = try self.graph(Self.recipe.replacingOccurrences(of: "model: tiny-opt", with: "model: tiny-opt2"), in: dir)
        XCTAssertNotEqual(moved.nodes.first { $0.stage.name == "opt" }?.hash, graph.nodes.first { $0.stage.name == "opt" }?.hash,
                          "another site name is another model")
    }

    /// What still needs PrefLab to load the model is refused at its key: an embedded evaluation of the OPT policy, a
    /// vLLM one's KL to a Llama reference (the OPT's samples are scored in its own ids), and a TRL node mixing an OPT
    /// with a model PrefLab made. vLLM's text mode samples the OPT itself.
    func testStagesThatNeedPrefLabAreRefusedAtTheirKey() throws {
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let graph = try graph(Self.recipe + """
          eval: { kind: gold_reward, policy: dpo, task: word_collector, prompts: 4, max_new_tokens: 8 }
          eval_vllm: { kind: gold_reward, engine: vllm, policy: dpo, task: word_collector, prompts: 4, max_new_tokens: 8 }
          eval_kl: { kind: gold_reward, engine: vllm, policy: dpo, reference: sft, task: word_collector, prompts: 4, max_new_tokens: 8 }
          mixed: { kind: dpo, engine: trl, policy: opt, reference: sft, preferences: preferences }

        """, in: dir)
        let errors = SiteModels.errors(graph).map(\.description)
        XCTAssertEqual(errors.count, 3, errors.joined(separator: "\n"))
        XCTAssertTrue(errors[0].contains("stages.eval.policy: 'dpo' is an opt model (site-named 'tiny-opt', stage opt); this stage would run on the embedded engine"), errors[0])
        XCTAssertTrue(errors[0].contains("recipe.yaml:9:"), "at the key's line: \(errors[0])")
        XCTAssertTrue(errors[1].contains("stages.eval_kl.reference: `reference` is a model PrefLab reads (its own tokenizer) and `policy` an opt model with its own ('tiny-opt')"), errors[1])
        XCTAssertTrue(errors[2].contains("stages.mixed.reference: `reference` is a model PrefLab reads"), errors[2])
    }

    /// DPO and a reward model of the OPT through TRL, SFT from it, then OPO (gold labels from `preflab annotate` on the decoded
    /// samples) and D2PO (that reward model as discriminator), in one run of the executor: every trained node is an OPT
    /// folder (TRL's own files, marked as engine models), each starts from the node before it, and none was read by
    /// PrefLab's model code.
    func testOPTTrainsOnTRLAndFeedsTheNextNodes() throws {
        guard let python = S.python else {
            print("EngineModelTests: skipped — .venv-engines is absent (bash scripts/setup-engines.sh makes it)")
            throw XCTSkip(".venv-engines is absent")
        }
        guard (try? TRLRunner.preflabExecutable()) != nil else {
            print("EngineModelTests: skipped — no preflab binary beside the tests for the gold annotator (swift build builds it)")
            throw XCTSkip("no preflab binary")
        }
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let opt = dir.appendingPathComponent("tiny-opt")
        try Self.makeTinyOPT(python: python, into: opt)
        var site = SiteConfig()
        site.python = ["trl": python]
        site.models = ["tiny-opt": opt.path]
        let graph = try graph(Self.recipe + Self.online, in: dir)
        let store = try ArtifactStore(root: dir.appendingPathComponent("store"))
        EmbeddedRunners.configureEngine(threads: 1)
        let runners = EmbeddedRunners.all(siteModels: site.models).merging(DelegatedRunners.all(site: site)) { _, delegated in delegated }
        let report = try Executor(store: store, runners: runners, site: site.provenanceJSON).run(graph)
        XCTAssertTrue(report.succeeded, report.failures.map { "\($0.hash): \($0.outcome)" }.joined(separator: "\n"))

        func node(_ name: String) throws -> URL { store.objectDirectory(for: try XCTUnwrap(graph.nodes.first { $0.stage.name == name }).hash) }
        func config(_ name: String) throws -> [String: Any] {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: try node(name).appendingPathComponent("config.json"))) as? [String: Any])
        }
        XCTAssertEqual(try Data(contentsOf: try node("opt").appendingPathComponent("model.safetensors")),
                       try Data(contentsOf: opt.appendingPathComponent("model.safetensors")), "the site's folder, as it is")
        for (name, architecture) in [("opt", "OPTForCausalLM"), ("dpo", "OPTForCausalLM"), ("reward_model", "OPTForSequenceClassification"),
                                     ("sft_opt", "OPTForCausalLM"), ("opo_gold", "OPTForCausalLM"), ("d2po", "OPTForCausalLM")] {
            XCTAssertEqual(try EngineModel.read(try node(name)), EngineModel(model: "tiny-opt", architecture: "opt"), name)
            XCTAssertEqual(try config(name)["architectures"] as? [String], [architecture], name)
        }
        XCTAssertNotEqual(try Data(contentsOf: try node("dpo").appendingPathComponent("model.safetensors")),
                          try Data(contentsOf: opt.appendingPathComponent("model.safetensors")), "DPO moved the weights")
        // The reward model's job (what its finished run removed with its resume folder), prepared again.
        let rm = try XCTUnwrap(graph.nodes.first { $0.stage.name == "reward_model" })
        let context = NodeContext(hash: rm.hash, stage: rm.stage, inputs: ["init": try node("dpo"), "preferences": try node("preferences")],
                                  outputDirectory: dir.appendingPathComponent("out"), resumeDirectory: dir.appendingPathComponent("again"),
                                  reporter: Recorder())
        let job = try TRLRunner(inputs: EmbeddedEngineInputs(), site: site).prepare(context, in: context.resumeDirectory)
        XCTAssertEqual(job.tokenization, "model")
        XCTAssertEqual(job.headSeed, 0, "the stage's head_seed draws the new head")
        XCTAssertEqual(job.paths.model, try node("dpo").path, "starts from the DPO node's folder")
        XCTAssertEqual(job.maxLength, 1024, "the OPT's max_position_embeddings")
        let row = try String(contentsOfFile: job.paths.train, encoding: .utf8).split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertTrue(row.contains("\"messages\"") && !row.contains("_preflab"), "text only, no PrefLab ids: \(row)")
        let summary = try XCTUnwrap(store.summary(for: try XCTUnwrap(graph.nodes.first { $0.stage.name == "reward_model" }).hash))
        XCTAssertNotNil(summary["held_out_accuracy"], "TRL's held-out accuracy on the 4 held-out pairs")
        // π = π_ref at the first step: DPO-family losses start at log 2 exactly, whatever the tokens (a metrics line of
        // an online run holds its step's last update: OPO here makes one).
        for name in ["dpo", "opo_gold", "d2po"] {
            let hash = try XCTUnwrap(graph.nodes.first { $0.stage.name == name }).hash
            XCTAssertEqual(store.metrics(for: hash).first?.values["loss"] ?? 0, log(2), accuracy: 1e-5, "\(name): first-step loss")
        }
        for name in ["opo_gold", "d2po"] {
            let hash = try XCTUnwrap(graph.nodes.first { $0.stage.name == name }).hash
            // OPO: 2 steps of 4 prompts, all gold; D2PO: 2 rounds of 2 steps (8 rollouts), 2 gold labels each.
            XCTAssertEqual(store.summary(for: hash)?["steps"], name == "opo_gold" ? 2 : 4, name)
            let gold = store.metrics(for: hash).compactMap { $0.values["gold_used"] }
            XCTAssertEqual(gold.last, name == "opo_gold" ? 8 : 4, "\(name): the gold budget, spent through preflab annotate")
        }
        try assertProbe(store.metrics(for: try XCTUnwrap(graph.nodes.first { $0.stage.name == "d2po" }).hash))
    }

    /// D2PO's probe on the OPT (windows of 2 steps of 4 prompts): lines 2 and 4 carry the window, its 8 pairs counted
    /// or tied; where pairs count, every judge's accuracy, and in the first window the discriminator is still the static
    /// RM (its first gold update ends step 2, after the step's probe), so the two agree exactly. The random OPT's 8
    /// tokens rarely hold a target word, so its pairs may all tie: ContrastiveEngineTests probes with CD's real-valued R*.
    func assertProbe(_ lines: [MetricPoint]) throws {
        XCTAssertEqual(lines.map { $0.values["probe_pairs"] != nil }, [false, true, false, true], "windows end at steps 2 and 4")
        for line in lines where line.values["probe_pairs"] != nil {
            let v = line.values
            print("EngineModelTests: d2po probe step \(line.step): \(v.filter { $0.key.hasPrefix("probe_") }.sorted { $0.key < $1.key })")
            XCTAssertEqual((v["probe_pairs"] ?? 0) + (v["probe_ties"] ?? 0), 8, "step \(line.step): every pair counted or tied")
            guard (v["probe_pairs"] ?? 0) > 0 else { continue }
            for judge in ["discriminator", "static_rm", "implicit"] {
                let accuracy = try XCTUnwrap(v["probe_" + judge], "step \(line.step): \(judge)")
                XCTAssertTrue((0...1).contains(accuracy), "step \(line.step): \(judge) \(accuracy)")
            }
            XCTAssertNotNil(v["probe_gold_reward"])
        }
        let first = try XCTUnwrap(lines.dropFirst().first?.values)
        if (first["probe_pairs"] ?? 0) > 0 {
            XCTAssertEqual(first["probe_discriminator"], first["probe_static_rm"], "the same RM before its first update")
        }
    }

    /// A node PrefLab does not read: its model reader refuses it with the reason (an embedded stage reaching it), and
    /// `preflab export` copies its files as they are.
    func testPrefLabRefusesToReadAnEngineModelAndExportsItsFiles() throws {
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let node = dir.appendingPathComponent("node")
        try FileManager.default.createDirectory(at: node, withIntermediateDirectories: true)
        try Data("{\"model_type\": \"opt\"}".utf8).write(to: node.appendingPathComponent("config.json"))
        try Data("{}".utf8).write(to: node.appendingPathComponent("node.json"))
        try EngineModel(model: "opt-125m", architecture: "opt").write(to: node)
        let exported = dir.appendingPathComponent("exported")
        let notes = try ModelExport.export(node: node, to: exported)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: exported.path), ["config.json"], "the model's files, not PrefLab's records")
        XCTAssertEqual(notes, ["an opt model (from 'opt-125m') kept as its engine saved it: its files copied"])
        XCTAssertThrowsError(try EmbeddedEngineInputs().importModel(from: node, context: NodeContext(
            hash: "h", stage: try S.stage(try S.recipe("Recipes/quickstart.yaml"), "dpo"), inputs: [:], outputDirectory: dir,
            resumeDirectory: dir, reporter: Recorder()))) {
            XCTAssertTrue("\($0)".contains("is an opt model (from 'opt-125m') kept for the delegated engines; PrefLab's own model code reads Llama models only"), "\($0)")
        }
    }

    /// Runs scripts/make-tiny-opt.py into `dir`.
    static func makeTinyOPT(python: String, into dir: URL) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [S.repo.appendingPathComponent("scripts/make-tiny-opt.py").path, dir.path]
        p.environment = ["HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "make-tiny-opt.py failed")
    }
}
