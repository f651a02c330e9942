@testable import Engines
import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs
@testable import Stages
import XCTest

/// vLLM's text mode: a model PrefLab does not read (a site-named OPT) sampled by vLLM from its own folder, with its own
/// tokenizer. The requests (golden) carry each prompt's messages and the node's settings; the dry runs answer them
/// on the CPU with `vllm_responder.py` (test-only: transformers' `generate` on the tiny OPT of
/// scripts/make-tiny-opt.py, through vllm_generate.py's own tokenisation, window fitting and output lines), skipped
/// with the reason without `.venv-engines`.
final class VLLMTextModeTests: XCTestCase {
    typealias S = EngineTestSupport

    static let recipe = """
    name: opt-on-vllm
    stages:
      opt: { kind: hf_model, model: tiny-opt, architecture: opt }
      ref: { kind: hf_model, model: tiny-opt-ref, architecture: opt }
      preferences: { kind: task_preferences, engine: vllm, policy: opt, task: word_collector, size: 4, held_out: 2, max_new_tokens: 8, drop_ties: false, seed: 1 }
      eval: { kind: gold_reward, engine: vllm, policy: opt, reference: ref, task: word_collector, prompts: 3, samples: 2, max_new_tokens: 8, seed: 1 }
      world: { kind: category_scores, engine: vllm, policy: opt, task: world, prompts: 4, max_new_tokens: 8, seed: 1 }

    """

    func graph(in dir: URL) throws -> PipelineGraph { try S.graph(Self.recipe, in: dir) }

    /// vLLM takes the OPT as its folder for the stages that read samples as text, and for best_of_n (its reward model's
    /// folder scores the samples' own ids; VLLMBestOfNTextModeTests); the benchmarks still need PrefLab's tokenizer.
    func testValidate() throws {
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(SiteModels.refusals(try graph(in: dir), siteModels: ["tiny-opt": "/nowhere", "tiny-opt-ref": "/nowhere"]).map(\.error.description), [])
        XCTAssertTrue(SiteModels.takesFolder(engine: "vllm", kind: "best_of_n", field: "reward_model"))
        XCTAssertFalse(SiteModels.takesFolder(engine: "vllm", kind: "gsm8k", field: "policy"))
        XCTAssertTrue(SiteModels.takesFolder(engine: "vllm", kind: "gold_reward", field: "reference"))
        XCTAssertTrue(SiteModels.takesFolder(engine: "vllm", kind: "category_scores", field: "policy"))
    }

    /// Policy.responseBudget and vllm_generate.py's `response_budget`/`fitted` agree (the window-fitting rule is
    /// stated once per language).
    func testResponseBudgetAgreesWithPolicy() throws {
        let cases = [(1024, 30, 8), (24, 29, 8), (24, 10, 20), (16, 0, 64), (2, 5, 3), (96, 95, 48)]
        let script = """
        import sys; sys.path.insert(0, sys.argv[1]); import vllm_generate as v
        for w, n, m in [\(cases.map { "(\($0.0), \($0.1), \($0.2))" }.joined(separator: ", "))]:
            ids, b = v.fitted([list(range(n))], w, m)
            print(v.response_budget(w, n, m), b, len(ids[0]), ids[0][:1])
        """
        let out = try Self.runPython([ "-c", script, S.repo.appendingPathComponent("Sources/Engines/Python").path])
        let expected = cases.map { w, n, m -> String in
            let b = Policy.responseBudget(window: w, longestPrompt: n, maxNewTokens: m)
            let kept = Array((0..<n).suffix(w - b))
            return "\(b) \(b) \(kept.count) \(kept.first.map { "[\($0)]" } ?? "[]")"
        }
        XCTAssertEqual(out.split(separator: "\n").map(String.init), expected)
    }

    /// The requests of the three nodes (golden): each prompt's messages twice in a row for preferences (train round,
    /// then held-out), once per sample for gold_reward and category_scores, the node's max_new_tokens, temperature and top-p, seeds the round's seed + the request's index, no
    /// PrefLab ids or stop tokens. Answered here by a fixed text (the runs below answer with the model); the reference
    /// is the policy's own folder, so the KL is 0 with no scoring launched.
    func testTextRequests() throws {
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = dir.appendingPathComponent("opt")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try EngineModel(model: "tiny-opt", architecture: "opt").write(to: folder)
        var all: [VLLMRequest] = []
        for stage in ["preferences", "eval", "world"] {
            let node = try XCTUnwrap(try graph(in: dir).nodes.first { $0.stage.name == stage })
            let context = NodeContext(hash: node.hash, stage: node.stage, inputs: stage == "eval" ? ["policy": folder, "reference": folder] : ["policy": folder],
                                      outputDirectory: dir.appendingPathComponent(stage), resumeDirectory: dir, reporter: SilentReporter())
            try FileManager.default.createDirectory(at: context.outputDirectory, withIntermediateDirectories: true)
            var batches: [GenerationBatch] = []
            let summary = try XCTUnwrap(SampledGeneration.all[node.kind]).run(context) { batch in
                batches.append(batch)
                return batch.requests.map { _ in VLLMCompletion(tokenIds: [5, 2], finishReason: "stop", text: "x", promptTokenIds: [2]) }
            }
            let requests = batches.flatMap(\.requests)
            XCTAssertTrue(requests.allSatisfy { $0.promptTokenIds == nil && $0.messages != nil && $0.stopTokenIds.isEmpty && $0.maxTokens == 8 })
            XCTAssertEqual(batches.map(\.name), stage == "preferences" ? ["batch-0", "batch-1"] : ["batch-0"])
            XCTAssertEqual(batches[0].requests.map(\.seed), (0..<UInt64(batches[0].requests.count)).map { 1 + $0 })
            if stage == "eval" { XCTAssertEqual(summary["kl"], 0, "the policy's own folder as reference") }
            if stage == "world" { XCTAssertNotNil(summary["mean"], "category_scores scores the texts per category") }
            all += requests
        }
        XCTAssertEqual(all.count, 2 * 4 + 2 * 2 + 3 * 2 + 4)
        try S.checkGolden("vllm-text-requests-opt.jsonl", try VLLMTests.jsonl(all))
    }

    /// task_preferences and gold_reward of the tiny OPT through the bridge: the job names the site's folder and its
    /// window, the responder answers through vllm_generate.py, and the nodes' files are well formed — text pairs as
    /// TRL's nodes take them, samples with their gold reward.
    func testNodesCompleteOnTinyOPT() throws {
        guard let python = S.python else {
            print("VLLMTextModeTests: skipped — .venv-engines is absent (bash scripts/setup-engines.sh makes it)")
            throw XCTSkip(".venv-engines is absent")
        }
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = dir.appendingPathComponent("tiny-opt")
        try EngineModelTests.makeTinyOPT(python: python, into: folder)
        try EngineModel(model: "tiny-opt", architecture: "opt").write(to: folder)
        let reference = dir.appendingPathComponent("tiny-opt-ref")
        try FileManager.default.copyItem(at: folder, to: reference)
        let graph = try graph(in: dir)
        var site = SiteConfig()
        site.gpus = ["default": 1]   // the job's tensor_parallel_size; the responder runs on the CPU
        for stage in ["preferences", "eval"] {
            let node = try XCTUnwrap(graph.nodes.first { $0.stage.name == stage })
            let (out, resume) = (dir.appendingPathComponent("\(stage)-out"), dir.appendingPathComponent("\(stage)-resume"))
            for d in [out, resume] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
            let inputs = stage == "eval" ? ["policy": folder, "reference": reference] : ["policy": folder]
            let context = NodeContext(hash: node.hash, stage: node.stage, inputs: inputs, outputDirectory: out,
                                      resumeDirectory: resume, reporter: SilentReporter())
            let runner = try XCTUnwrap(DelegatedRunners.all(site: site)[RunnerKey(kind: node.kind, engine: "vllm")] as? VLLMRunner)
            let job = try runner.prepare(context, in: resume)
            XCTAssertEqual(job.model, folder.path, "vLLM loads the site's folder as it is")
            XCTAssertEqual(job.maxModelLen, 1024, "the OPT's max_position_embeddings")
            let launch = EngineLaunch(directory: resume.path, environment: ["HF_HUB_OFFLINE": "1"],
                                      command: [python, S.fixtures.appendingPathComponent("vllm_responder.py").path, resume.appendingPathComponent("job.json").path])
            let summary = try runner.inputs.run(context) { try runner.generate($0, job: job, launch: launch, context: context) }
            let lines = try String(contentsOf: resume.appendingPathComponent("batch-0.completions.jsonl"), encoding: .utf8).split(separator: "\n")
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            for line in lines {
                let c = try decoder.decode(VLLMCompletion.self, from: Data(line.utf8))
                XCTAssertNotNil(c.text)
                XCTAssertEqual(c.promptTokenIds?.first, 2, "OPT's tokenizer puts </s> before the plain-text prompt")
                XCTAssertLessThanOrEqual(c.tokenIds.count, 8)
                XCTAssertEqual(c.finishReason == "stop", c.tokenIds.last == 2, "a finished sample keeps its EOS")
            }
            if stage == "preferences" {
                XCTAssertEqual(lines.count, 8)
                XCTAssertEqual([summary["pairs"], summary["held_out"]], [4, 2])
                let pairs = try PreferenceArtifact.pairs(out)
                XCTAssertEqual(pairs.count, 4)
                XCTAssertTrue(pairs.allSatisfy { $0.margin != nil && !$0.prompt.messages.isEmpty })
                XCTAssertEqual(try PreferenceArtifact.heldOut(out).count, 2)
            } else {
                XCTAssertEqual(lines.count, 6)
                XCTAssertEqual(summary["count"], 6)
                XCTAssertGreaterThan(summary["mean_length"] ?? 0, 0)
                // Scored by the policy's folder (batch-1), then the reference's (batch-2, its job naming that folder):
                // the same weights, so every log-ratio is 0.
                XCTAssertEqual(summary["kl"] ?? .nan, 0, accuracy: 1e-12)
                for batch in ["batch-1", "batch-2"] {
                    let scored = try String(contentsOf: resume.appendingPathComponent("\(batch).completions.jsonl"), encoding: .utf8)
                    XCTAssertEqual(scored.split(separator: "\n").count, 6)
                    XCTAssertTrue(scored.contains("\"prompt_logprob\": -"), batch)
                }
                XCTAssertTrue(try String(contentsOf: resume.appendingPathComponent("job.json"), encoding: .utf8).contains(reference.lastPathComponent))
                let samples = try String(contentsOf: out.appendingPathComponent(ArtifactLayout.samplesFile), encoding: .utf8).split(separator: "\n")
                XCTAssertEqual(samples.count, 6)
            }
        }
    }

    static func runPython(_ arguments: [String]) throws -> String {
        let p = Process(), pipe = Pipe()
        p.executableURL = URL(fileURLWithPath: S.python ?? "/usr/bin/python3")
        p.arguments = arguments
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        return String(decoding: data, as: UTF8.self)
    }
}
