@testable import Engines
import Foundation
import Pipeline
import RecipeSpec
import StageSpecs
import Stages
import XCTest

/// `ppo` on OpenRLHF from models PrefLab does not read (an OPT the site names, a reward model TRL trained from it):
/// their folders go to OpenRLHF as they are, the prompts are rendered by the model's own tokenizer in the job
/// (openrlhf_ppo.py, as TRL tokenises them), and a reward model whose head OpenRLHF would not load as trained is
/// refused. OpenRLHF itself needs a GPU: here the preparation, the render and the launch are checked, not a run.
final class OpenRLHFFolderTests: XCTestCase {
    typealias S = EngineTestSupport

    static let recipe = """
    name: opt-ppo
    stages:
      opt: { kind: hf_model, model: tiny-opt, architecture: opt }
      tokenizer: { kind: tokenizer, task: word_collector, vocab_size: 300, documents: 200 }
      sft: { kind: sft, task: word_collector, tokenizer: tokenizer, examples: 64, epochs: 1, batch_size: 16, micro_batch: 16, d_model: 32, layers: 1, heads: 2, kv_heads: 1, hidden: 64, max_seq_len: 96, seed: 1 }
      preferences: { kind: task_preferences, policy: sft, task: word_collector, size: 8, held_out: 0, max_new_tokens: 12, drop_ties: false, seed: 1 }
      reward_model: { kind: reward_model, engine: trl, init: opt, preferences: preferences, learning_rate: 1.0e-3, epochs: 1, batch_size: 4, micro_batch: 2, seed: 1 }
      prompts: { kind: task_prompts, task: word_collector, size: 6, seed: 1 }
      ppo: { kind: ppo, engine: openrlhf, policy: opt, reward_model: reward_model, prompts: prompts, value_coefficient: 1, warmup_fraction: 0 }

    """

    /// The OPT policy and reward model validate on OpenRLHF; a Llama policy with the OPT reward model does not (one
    /// tokenizer renders the prompts and reads the rollouts).
    func testOPTModelsValidateOnOpenRLHF() throws {
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(SiteModels.errors(try S.graph(Self.recipe, in: dir), siteModels: ["tiny-opt": "/nowhere"]).map(\.description), [])
        let mixed = try S.graph(Self.recipe.replacingOccurrences(of: "ppo, engine: openrlhf, policy: opt", with: "ppo, engine: openrlhf, policy: sft"), in: dir)
        let errors = SiteModels.errors(mixed).map(\.description)
        XCTAssertEqual(errors.count, 1, errors.joined(separator: "\n"))
        XCTAssertTrue(errors[0].contains("stages.ppo.policy: `policy` is a model PrefLab reads (its own tokenizer) and `reward_model` an opt model"), errors[0])
    }

    /// The runner links the folders where the exports would be (the same argument vector), writes the render job,
    /// and openrlhf_ppo.py renders each prompt as text whose tokens, taken as OpenRLHF takes them (no special tokens
    /// added), are TRL's prompt ids (the script checks each; OPT's BOS leads the text).
    func testFoldersAreLinkedAndTheJobRendersThePromptsAsTRL() throws {
        guard let python = S.python else {
            print("OpenRLHFFolderTests: skipped — .venv-engines is absent (bash scripts/setup-engines.sh makes it)")
            throw XCTSkip(".venv-engines is absent")
        }
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let opt = dir.appendingPathComponent("opt"), rm = dir.appendingPathComponent("rm")
        try EngineModelTests.makeTinyOPT(python: python, into: opt)
        try S.runPython(python, ["-c", "import sys; from transformers import AutoModelForSequenceClassification as M, AutoTokenizer as T; "
                                 + "M.from_pretrained(sys.argv[1], num_labels=1).save_pretrained(sys.argv[2]); T.from_pretrained(sys.argv[1]).save_pretrained(sys.argv[2])",
                                 opt.path, rm.path])
        for folder in [opt, rm] { try EngineModel(model: "tiny-opt", architecture: "opt").write(to: folder) }
        let graph = try S.graph(Self.recipe, in: dir)
        let store = try ArtifactStore(root: dir.appendingPathComponent("store"))
        let prompts = try XCTUnwrap(graph.nodes.first { $0.stage.name == "prompts" })
        XCTAssertTrue(try Executor(store: store, runners: EmbeddedRunners.all).run(graph, targets: [prompts.hash]).succeeded)
        let ppo = try XCTUnwrap(graph.nodes.first { $0.stage.name == "ppo" })
        let resume = dir.appendingPathComponent("resume")
        let context = NodeContext(hash: ppo.hash, stage: ppo.stage,
                                  inputs: ["policy": opt, "reward_model": rm, "prompts": store.objectDirectory(for: prompts.hash)],
                                  outputDirectory: dir.appendingPathComponent("out"), resumeDirectory: resume, reporter: Recorder())
        var site = SiteConfig()
        site.gpus = ["ppo": 1]
        let runner = OpenRLHFRunner(inputs: EmbeddedRolloutInputs(), importer: EmbeddedEngineInputs(), site: site)
        XCTAssertEqual(try runner.prepare(context, in: resume), EngineModel(model: "tiny-opt", architecture: "opt"))
        let fm = FileManager.default
        XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: resume.appendingPathComponent("policy").path), opt.path)
        XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: resume.appendingPathComponent("reward_model").path), rm.path)
        let promptFile = resume.appendingPathComponent("prompts.jsonl")
        XCTAssertFalse(fm.fileExists(atPath: promptFile.path), "rendered by the job, not by PrefLab")
        let command = try runner.launch(hash: ppo.hash, stage: ppo.stage, inputs: context.inputs, resumeDirectory: resume).command
        XCTAssertEqual(Array(command.prefix(3)), [site.python(for: "openrlhf"), resume.appendingPathComponent("openrlhf_ppo.py").path, "--actor.model_name_or_path"])
        XCTAssertEqual(command[3], resume.appendingPathComponent("policy").path, "the link, as an export would be")
        try S.runPython(python, ["-c", "import json, sys; sys.path.insert(0, sys.argv[1]); import openrlhf_ppo; "
                                 + "openrlhf_ppo.render(json.load(open(sys.argv[1] + '/prompt-render.json')))", resume.path])
        let rendered = try String(contentsOf: promptFile, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rendered.count, 6)
        XCTAssertTrue(rendered.allSatisfy { $0.hasPrefix("{\"prompt\": \"</s>") }, "OPT's BOS as text, then the plain prompt: \(rendered)")
    }

    /// A reward-model folder OpenRLHF would load with another head is refused, saying why; TRL's OPT head loads.
    func testRewardModelHeadsOpenRLHFWouldNotLoadAreRefused() throws {
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let stage = try XCTUnwrap(try S.graph(Self.recipe, in: dir).nodes.first { $0.stage.name == "ppo" }).stage
        func check(architecture: String = "OPTForSequenceClassification", projection: Int = 16,
                   tensors: [String: [Int]] = ["score.weight": [1, 16], "model.decoder.embed_tokens.weight": [50, 16]]) throws -> String? {
            let folder = dir.appendingPathComponent(UUID().uuidString)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let config: [String: Any] = ["architectures": [architecture], "hidden_size": 16, "word_embed_proj_dim": projection,
                                         "id2label": ["0": "LABEL_0"]]
            try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("config.json"))
            try Self.writeSafetensorsHeader(tensors, to: folder.appendingPathComponent("model.safetensors"))
            do { try OpenRLHFFolders.checkRewardModel(folder, stage: stage); return nil } catch { return "\(error)" }
        }
        XCTAssertNil(try check())
        XCTAssertTrue(try check(architecture: "OPTForCausalLM")?.contains("name no sequence-classification model") ?? false)
        XCTAssertTrue(try check(projection: 8)?.contains("its head reads word_embed_proj_dim 8 features, OpenRLHF's the hidden_size 16") ?? false)
        XCTAssertTrue(try check(tensors: ["v_head.weight": [1, 16]])?.contains("its weights hold no `score.weight`") ?? false)
        XCTAssertTrue(try check(tensors: ["score.weight": [1, 8]])?.contains("`score.weight` has shape [1, 8], not [1, 16]") ?? false)
        let bias = try check(tensors: ["score.weight": [1, 16], "score.bias": [1]])
        XCTAssertTrue(bias?.contains("stages.ppo.reward_model:") ?? false, bias ?? "accepted")
        XCTAssertTrue(bias?.contains("a `score.bias`, which OpenRLHF's head lacks") ?? false, bias ?? "accepted")
    }

    /// A safetensors file holding only its header (shapes; the tensors' bytes are not read by the check).
    static func writeSafetensorsHeader(_ tensors: [String: [Int]], to url: URL) throws {
        var header: [String: Any] = ["__metadata__": ["format": "pt"]]
        for (name, shape) in tensors { header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [0, 0]] }
        let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var length = UInt64(json.count).littleEndian
        try (Data(bytes: &length, count: 8) + json).write(to: url)
    }
}
