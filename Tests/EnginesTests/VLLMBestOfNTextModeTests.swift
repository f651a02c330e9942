@testable import Engines
import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs
@testable import Stages
import XCTest

/// best_of_n in vLLM's text mode: an OPT policy sampled from its folder (here by the test-only responder,
/// Fixtures/vllm_responder.py: transformers' `generate` through vllm_generate.py's own preparation) and its N samples
/// scored by an OPT reward model's folder (made here with a fresh head; in a recipe TRL trains it) through trl_score.py
/// (the launch the vLLM node makes, in vLLM's environment; here the engines venv on the CPU). Skipped, saying why,
/// without `.venv-engines`.
final class VLLMBestOfNTextModeTests: XCTestCase {
    typealias S = EngineTestSupport

    static let recipe = """
    name: opt-best-of-n
    stages:
      opt: { kind: hf_model, model: tiny-opt, architecture: opt }
      tokenizer: { kind: tokenizer, task: word_collector, vocab_size: 300, documents: 200 }
      sft: { kind: sft, task: word_collector, tokenizer: tokenizer, examples: 64, epochs: 1, batch_size: 16, micro_batch: 16, d_model: 32, layers: 1, heads: 2, kv_heads: 1, hidden: 64, max_seq_len: 96, seed: 1 }
      preferences: { kind: task_preferences, policy: sft, task: word_collector, size: 8, held_out: 0, max_new_tokens: 12, drop_ties: false, seed: 1 }
      rm: { kind: reward_model, engine: trl, init: opt, preferences: preferences, learning_rate: 1.0e-3, epochs: 1, batch_size: 4, micro_batch: 2, seed: 1 }
      bon: { kind: best_of_n, engine: vllm, policy: opt, reward_model: rm, task: word_collector, n: 3, prompts: 2, max_new_tokens: 6, seed: 1 }

    """

    /// vLLM takes both folders for best_of_n; a Llama policy with the OPT reward model is refused (one tokenizer).
    func testValidate() throws {
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = ["tiny-opt": "/nowhere"]
        XCTAssertEqual(SiteModels.errors(try S.graph(Self.recipe, in: dir), siteModels: names).map(\.description), [])
        let mixed = try S.graph(Self.recipe.replacingOccurrences(of: "policy: opt, reward_model: rm", with: "policy: sft, reward_model: rm"), in: dir)
        let errors = SiteModels.errors(mixed, siteModels: names).map(\.description)
        XCTAssertEqual(errors.count, 1, errors.joined(separator: "\n"))
        XCTAssertTrue(errors[0].contains("stages.bon.policy: `policy` is a model PrefLab reads"), errors[0])
    }

    /// The node samples N per prompt in text mode and picks by the reward model's scores of the samples' own ids: the
    /// summary's mean is the gold reward of each prompt's highest-scored sample (first on ties).
    func testPicksByTheRewardModelsFolder() throws {
        guard let python = S.python else {
            print("VLLMBestOfNTextModeTests: skipped — .venv-engines is absent (bash scripts/setup-engines.sh makes it)")
            throw XCTSkip(".venv-engines is absent")
        }
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let opt = dir.appendingPathComponent("tiny-opt"), rm = dir.appendingPathComponent("tiny-opt-rm")
        try EngineModelTests.makeTinyOPT(python: python, into: opt)
        try S.runPython(python, ["-c", "import sys, torch; torch.manual_seed(0); from transformers import AutoModelForSequenceClassification as M, AutoTokenizer as T; "
                                 + "M.from_pretrained(sys.argv[1], num_labels=1).save_pretrained(sys.argv[2]); T.from_pretrained(sys.argv[1]).save_pretrained(sys.argv[2])",
                                 opt.path, rm.path])
        for folder in [opt, rm] { try EngineModel(model: folder.lastPathComponent, architecture: "opt").write(to: folder) }
        let node = try XCTUnwrap(try S.graph(Self.recipe, in: dir).nodes.first { $0.stage.name == "bon" })
        let (out, resume) = (dir.appendingPathComponent("out"), dir.appendingPathComponent("resume"))
        for d in [out, resume] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        let context = NodeContext(hash: node.hash, stage: node.stage, inputs: ["policy": opt, "reward_model": rm], outputDirectory: out,
                                  resumeDirectory: resume, reporter: SilentReporter())
        var site = SiteConfig()
        site.gpus = ["default": 1]
        site.python = ["vllm": python]
        let runner = try XCTUnwrap(DelegatedRunners.all(site: site)[RunnerKey(kind: "best_of_n", engine: "vllm")] as? VLLMRunner)
        let job = try runner.prepare(context, in: resume)
        let launch = EngineLaunch(directory: resume.path, environment: ["HF_HUB_OFFLINE": "1"],
                                  command: [python, S.fixtures.appendingPathComponent("vllm_responder.py").path, resume.appendingPathComponent("job.json").path])
        let summary = try runner.inputs.run(context, generate: { try runner.generate($0, job: job, launch: launch, context: context) },
                                            score: { try runner.rewardScores($0, job: job, context: context) })
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let samples = try String(contentsOf: resume.appendingPathComponent("batch-0.completions.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try decoder.decode(VLLMCompletion.self, from: Data($0.utf8)) }
        let scores = try String(contentsOf: resume.appendingPathComponent("reward.scores.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try XCTUnwrap(try decoder.decode(ScoreLine.self, from: Data($0.utf8)).score) }
        XCTAssertEqual(samples.count, 6)
        XCTAssertEqual(scores.count, 6, "one score per sample, from the reward model's folder")
        let items = try String(contentsOf: resume.appendingPathComponent("reward.items.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(items.first?.contains("\"prompt_ids\":[2,") ?? false, "the sample's own OPT ids: \(items.first ?? "")")
        let task = try TaskRegistry.task(named: "word_collector")
        let prompts = task.prompts(count: 2, split: .heldOut, seed: 1)
        let gold = (0..<2).map { i -> Double in
            let block = Array(scores[(3 * i)..<(3 * i + 3)])
            let best = block.firstIndex(of: block.max()!)!
            return task.reward(prompt: prompts[i], response: try! XCTUnwrap(samples[3 * i + best].text))
        }
        XCTAssertEqual(summary["count"], 2)
        XCTAssertEqual(summary["mean"] ?? .nan, gold.reduce(0, +) / 2, accuracy: 1e-12)
    }
}
