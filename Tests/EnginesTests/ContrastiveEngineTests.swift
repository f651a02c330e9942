@testable import Engines
import Foundation
import Pipeline
@testable import Preference
import RecipeSpec
import StageSpecs
@testable import Stages
import XCTest

/// Contrastive Distillation's scorers as models PrefLab does not read (site-named OPTs): vLLM's text mode scores the
/// samples' text from the scorers' folders (`mean_logprob` of a text scoring request), the TRL bridge scores its
/// online pairs itself and hands the log-likelihoods to `preflab annotate`; R*, the labels, ties and budget stay
/// PrefLab's. The rule (trl_text.py's `response_logprob_ids`) is checked against PrefLab's own scorer on a Llama
/// folder both read. The runs are skipped, saying why, without `.venv-engines`; the validate checks always run.
final class ContrastiveEngineTests: XCTestCase {
    typealias S = EngineTestSupport

    static let models = """
    name: cd-on-engines
    stages:
      opt: { kind: hf_model, model: tiny-opt, architecture: opt }
      large: { kind: hf_model, model: tiny-opt-large, architecture: opt }

    """

    static let vllm = """
      preferences: { kind: task_preferences, engine: vllm, policy: opt, task: contrastive_distillation, scorer_large: large, scorer_small: opt, size: 4, held_out: 2, max_new_tokens: 8, drop_ties: false, seed: 1 }
      eval: { kind: gold_reward, engine: vllm, policy: opt, task: contrastive_distillation, scorer_large: large, scorer_small: opt, prompts: 3, samples: 2, max_new_tokens: 8, seed: 1 }

    """

    /// OPO with gold labels and D2PO (its own implicit reward as discriminator), CD's gold annotator on TRL.
    static let trl = """
      prompts: { kind: task_prompts, task: contrastive_distillation, size: 8, seed: 1 }
      opo_gold: { kind: opo, engine: trl, policy: opt, prompts: prompts, labeler: gold, task: contrastive_distillation, scorer_large: large, scorer_small: opt, prompts_per_step: 4, update_epochs: 1, gold_budget: 8, max_new_tokens: 8, learning_rate: 1.0e-3, seed: 1 }
      d2po: { kind: d2po, engine: trl, policy: opt, prompts: prompts, task: contrastive_distillation, scorer_large: large, scorer_small: opt, discriminator: self, prompts_per_step: 4, rollouts_per_gold_round: 8, gold_per_round: 2, gold_budget: 4, max_new_tokens: 8, learning_rate: 1.0e-3, probe_every: 1, seed: 1 }

    """

    /// The OPT scorers validate on vLLM's task_preferences and gold_reward and on TRL's opo and d2po; PrefLab's own
    /// scorers on TRL stay refused, and so do OPT scorers on best_of_n (its pick is not scored through an engine), and
    /// best_of_n judging PrefLab's policy by an OPT reward model (one tokenizer for the samples).
    func testValidate() throws {
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sites = ["tiny-opt": "/nowhere", "tiny-opt-large": "/nowhere"]
        let graph = try S.graph(Self.models + Self.vllm + Self.trl, in: dir)
        XCTAssertEqual(SiteModels.refusals(graph, siteModels: sites).map(\.error.description), [])
        for node in graph.nodes where ["opo", "d2po"].contains(node.kind) {
            XCTAssertEqual(try XCTUnwrap(TRLChecks.check(kind: node.kind))(node.stage).map(\.message), [], node.stage.name)
        }
        let refused = try S.graph(Self.models + """
          tokenizer: { kind: tokenizer, task: contrastive_distillation, vocab_size: 300, documents: 200 }
          sft: { kind: sft, task: contrastive_distillation, tokenizer: tokenizer, examples: 16, epochs: 1, batch_size: 16, micro_batch: 16, d_model: 32, layers: 1, heads: 2, kv_heads: 1, hidden: 64, max_seq_len: 96, seed: 1 }
          prompts: { kind: task_prompts, task: contrastive_distillation, size: 8, seed: 1 }
          opo_llama: { kind: opo, engine: trl, policy: sft, prompts: prompts, labeler: gold, task: contrastive_distillation, scorer_large: sft, scorer_small: sft }
          rm: { kind: reward_model, engine: trl, init: opt, preferences: preferences }
          bon: { kind: best_of_n, engine: vllm, policy: sft, reward_model: rm, task: contrastive_distillation, scorer_large: large, scorer_small: opt }
          bon_opt: { kind: best_of_n, engine: vllm, policy: opt, reward_model: rm, task: contrastive_distillation, scorer_large: large, scorer_small: opt }
          preferences: { kind: task_preferences, engine: vllm, policy: opt, task: contrastive_distillation, scorer_large: large, scorer_small: opt }

        """, in: dir)
        let errors = SiteModels.errors(refused, siteModels: sites).map(\.description)
        XCTAssertEqual(errors.count, 6, errors.joined(separator: "\n"))
        for expected in ["stages.opo_llama.scorer_large: 'sft' is a model PrefLab reads; the TRL bridge scores Contrastive Distillation from the folders of scorers it does not read",
                         "stages.bon.policy: `policy` is a model PrefLab reads (its own tokenizer) and `reward_model` an opt model",
                         "stages.bon.scorer_large: 'large' is an opt model", "stages.bon.scorer_small: 'opt' is an opt model",
                         "stages.bon_opt.scorer_large: 'large' is an opt model", "stages.bon_opt.scorer_small: 'opt' is an opt model"] {
            XCTAssertTrue(errors.contains { $0.contains(expected) }, "\(expected)\n" + errors.joined(separator: "\n"))
        }
    }

    /// A stage that reaches CD's OPT scorers without an engine to score them (the embedded runners), or with one OPT and
    /// one model PrefLab reads, fails with the reason before anything is sampled.
    func testScorersPrefLabDoesNotReadNeedAnEngine() throws {
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (opt, llama) = (dir.appendingPathComponent("opt"), dir.appendingPathComponent("llama"))
        for folder in [opt, llama] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        try EngineModel(model: "tiny-opt", architecture: "opt").write(to: opt)
        let stage = try XCTUnwrap(try S.graph(Self.models + Self.vllm, in: dir).nodes.first { $0.stage.name == "eval" }).stage
        func failure(_ large: URL, _ small: URL) -> String {
            let context = NodeContext(hash: "h", stage: stage, inputs: ["scorer_large": large, "scorer_small": small],
                                      outputDirectory: dir, resumeDirectory: dir, reporter: SilentReporter())
            do { _ = try context.goldTask(sampler: .embedded); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(failure(opt, opt).contains("they score in vLLM's text mode (`engine: vllm` on task_preferences or gold_reward) or in the TRL bridge"), failure(opt, opt))
        XCTAssertTrue(failure(opt, llama).contains("must both be models PrefLab reads, or both models it does not"), failure(opt, llama))
    }

    /// task_preferences and gold_reward of the tiny OPT scored by two tiny OPTs through the bridge and the responder:
    /// each draw is followed by one scoring launch per scorer (the scorer's folder and window in the job), and every
    /// margin and reward is PrefLab's difference of the two `mean_logprob`s the launches returned.
    func testVLLMNodesScoreWithTheScorersFolders() throws {
        let python = try Self.enginesPython()
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (opt, large) = try Self.makeScorers(python: python, in: dir)
        let graph = try S.graph(Self.models + Self.vllm, in: dir)
        for stage in ["preferences", "eval"] {
            let node = try XCTUnwrap(graph.nodes.first { $0.stage.name == stage })
            let (out, resume) = (dir.appendingPathComponent("\(stage)-out"), dir.appendingPathComponent("\(stage)-resume"))
            for d in [out, resume] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
            let context = NodeContext(hash: node.hash, stage: node.stage, inputs: ["policy": opt, "scorer_large": large, "scorer_small": opt],
                                      outputDirectory: out, resumeDirectory: resume, reporter: SilentReporter())
            let summary = try Self.runWithResponder(context, kind: node.kind, python: python)
            // preferences: train draw, its two scorings, held-out draw, its two; eval: the draw, then the two scorings.
            let scored = stage == "preferences" ? [1, 2, 4, 5] : [1, 2]
            var means: [String: Double] = [:]   // "large|small" + prompt + response → mean log-likelihood
            for (i, batch) in scored.enumerated() {
                let requests = try Self.lines(resume.appendingPathComponent("batch-\(batch).requests.jsonl"))
                let completions = try Self.lines(resume.appendingPathComponent("batch-\(batch).completions.jsonl"))
                XCTAssertEqual(requests.count, completions.count)
                for (r, c) in zip(requests, completions) {
                    let messages = try XCTUnwrap(r["messages"] as? [[String: String]])
                    let mean = try XCTUnwrap(c["mean_logprob"] as? Double, "a text scoring completion has its mean")
                    means["\(i % 2 == 0 ? "large" : "small")|\(messages.last?["content"] ?? "")|\(try XCTUnwrap(r["response"] as? String))"] = mean
                }
            }
            func reward(_ prompt: String, _ response: String) throws -> Double {
                try XCTUnwrap(means["large|\(prompt)|\(response)"]) - XCTUnwrap(means["small|\(prompt)|\(response)"])
            }
            if stage == "preferences" {
                XCTAssertEqual([summary["pairs"], summary["held_out"]], [4, 2])
                for pair in try PreferenceArtifact.pairs(out) + PreferenceArtifact.heldOut(out) {
                    let gap = try reward(pair.prompt.lastUserText, pair.chosen) - reward(pair.prompt.lastUserText, pair.rejected)
                    XCTAssertEqual(pair.margin ?? .nan, abs(gap), accuracy: 1e-12, "PrefLab's margin of the engine's scores")
                    XCTAssertGreaterThanOrEqual(gap, 0, "the gold annotator prefers the higher R*")
                }
            } else {
                let samples = try Self.lines(out.appendingPathComponent(ArtifactLayout.samplesFile))
                XCTAssertEqual(samples.count, 6)
                for s in samples {
                    let expected = try reward(try XCTUnwrap(s["prompt"] as? String), try XCTUnwrap(s["response"] as? String))
                    XCTAssertEqual(try XCTUnwrap(s["reward"] as? Double), expected, accuracy: 1e-12)
                }
                XCTAssertNotEqual(summary["mean"], 0, "two different scorers")
            }
        }
    }

    /// The text-mode score is PrefLab's own: on a Llama folder PrefLab reads (Tests/PreferenceTests/Fixtures/hf-tiny,
    /// ChatML, a 128-token window) and a copy with scaled weights, vLLM's text scoring through the responder and
    /// PrefLab's LlamaSequenceScorer give the same mean log-likelihoods and R* within 1e-4 (bf16 weights, Float32
    /// against float32 sums), for short, empty and longer-than-the-window responses; so does the TRL bridge's labeller.
    func testTextScoringEqualsPrefLabsScoreOnALlama() throws {
        let python = try Self.enginesPython()
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fixture = S.repo.appendingPathComponent("Tests/PreferenceTests/Fixtures/hf-tiny")
        let scaled = dir.appendingPathComponent("hf-tiny-scaled")
        try Self.python(python, ["-c", Self.scaleScript, fixture.path, scaled.path, "1.5"])
        var folders: [URL] = []
        for (name, source) in [("large", fixture), ("small", scaled)] {
            let copy = dir.appendingPathComponent(name)
            try FileManager.default.copyItem(at: source, to: copy)
            try EngineModel(model: "hf-tiny-\(name)", architecture: "llama").write(to: copy)   // handed to vLLM as a folder
            folders.append(copy)
        }
        let long = String(repeating: "the cat sat on the mat and looked at the dog ", count: 12)
        let prompts = [Prompt("The quick brown fox jumps over", source: "t"), Prompt("Hello there, how are you", source: "t")]
        let items = prompts.flatMap { p in ["the lazy dog.", "", "Red, green and blue.", long].map { EngineLogLikelihoods.Item(prompt: p, response: $0) } }
        let stage = try XCTUnwrap(try S.graph(Self.models + Self.vllm, in: dir).nodes.first { $0.stage.name == "eval" }).stage
        let resume = dir.appendingPathComponent("resume")
        try FileManager.default.createDirectory(at: resume, withIntermediateDirectories: true)
        let context = NodeContext(hash: "h", stage: stage, inputs: ["policy": folders[0], "scorer_large": folders[0], "scorer_small": folders[1]],
                                  outputDirectory: dir, resumeDirectory: resume, reporter: SilentReporter())
        let engine = try XCTUnwrap(try context.goldTask(sampler: Self.responderSampler(context, python: python)) as? ContrastiveDistillationTask)
        try prepareRewards(engine, items)
        let (l, lc) = try HFModelFolder.read(from: fixture), (s, _) = try HFModelFolder.read(from: scaled)
        XCTAssertEqual(l.config.maxSeqLen, 128)
        let own = CodecScorers(large: try LlamaSequenceScorer(model: l), small: try LlamaSequenceScorer(model: s), codec: lc)
        let ownTask = ContrastiveDistillationTask(scorers: own, sentences: [])
        for item in items {
            let p = Prompt(messages: item.messages)
            let theirs = try XCTUnwrap(engine.scorers).meanLogLikelihoods(prompt: p, response: item.response)
            let ours = own.meanLogLikelihoods(prompt: p, response: item.response)
            XCTAssertEqual(theirs.large, ours.large, accuracy: 1e-4, item.response)
            XCTAssertEqual(theirs.small, ours.small, accuracy: 1e-4, item.response)
            XCTAssertEqual(engine.reward(prompt: p, response: item.response), ownTask.reward(prompt: p, response: item.response), accuracy: 1e-4)
            if item.response.isEmpty { XCTAssertEqual(theirs.large, 0, "an empty response scores 0, as PrefLab's") }
        }
        XCTAssertGreaterThan(lc.encode(long).count, 128, "the long response is cut to the window by both")
        // The TRL bridge's labeller scores by the same rule (trl_online.py's ContrastiveScorers, transformers).
        let job: [String: Any] = ["scorers": ["large": folders[0].path, "small": folders[1].path, "large_window": 128, "small_window": 128],
                                  "items": items.map { ["messages": $0.messages.map { ["role": $0.role, "content": $0.content] }, "response": $0.response] }]
        let file = dir.appendingPathComponent("items.json")
        try JSONSerialization.data(withJSONObject: job).write(to: file)
        let out = try VLLMTextModeTests.runPython(["-c", Self.trlScoreScript, S.repo.appendingPathComponent("Sources/Engines/Python").path, file.path])
        let trl = try JSONDecoder().decode([[Double]].self, from: Data(out.utf8))
        XCTAssertEqual(trl.count, items.count)
        for (item, pair) in zip(items, trl) {
            let ours = own.meanLogLikelihoods(prompt: Prompt(messages: item.messages), response: item.response)
            XCTAssertEqual(pair[0], ours.large, accuracy: 1e-4, "trl: \(item.response)")
            XCTAssertEqual(pair[1], ours.small, accuracy: 1e-4, "trl: \(item.response)")
        }
    }

    /// trl_online.py's ContrastiveScorers on the items of argv[2] (the scorers as a TRL job names them).
    static let trlScoreScript = """
    import json, sys, torch
    sys.path.insert(0, sys.argv[1])
    import trl_online
    job = json.load(open(sys.argv[2]))
    scorers = trl_online.ContrastiveScorers(job["scorers"], torch.float32)
    print(json.dumps([scorers.means(i["messages"], i["response"]) for i in job["items"]]))
    """

    /// OPO and D2PO of the tiny OPT on TRL with CD's gold annotator, in one run of the executor: the bridge scores each
    /// pair under the two OPT scorers and `preflab annotate` labels it, within the budget.
    func testOnlineStagesOnTRLWithCDGold() throws {
        let python = try Self.enginesPython()
        guard (try? TRLRunner.preflabExecutable()) != nil else {
            print("ContrastiveEngineTests: skipped — no preflab binary beside the tests for the gold annotator (swift build builds it)")
            throw XCTSkip("no preflab binary")
        }
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (opt, large) = try Self.makeScorers(python: python, in: dir)
        var site = SiteConfig()
        site.python = ["trl": python]
        site.models = ["tiny-opt": opt.path, "tiny-opt-large": large.path]
        let graph = try S.graph(Self.models + Self.trl, in: dir)
        let store = try ArtifactStore(root: dir.appendingPathComponent("store"))
        EmbeddedRunners.configureEngine(threads: 1)
        let runners = EmbeddedRunners.all(siteModels: site.models).merging(DelegatedRunners.all(site: site)) { _, delegated in delegated }
        let report = try Executor(store: store, runners: runners, site: site.provenanceJSON).run(graph)
        XCTAssertTrue(report.succeeded, report.failures.map { "\($0.hash): \($0.outcome)" }.joined(separator: "\n"))
        for name in ["opo_gold", "d2po"] {
            let hash = try XCTUnwrap(graph.nodes.first { $0.stage.name == name }).hash
            XCTAssertEqual(try EngineModel.read(store.objectDirectory(for: hash)), EngineModel(model: "tiny-opt", architecture: "opt"), name)
            let gold = store.metrics(for: hash).compactMap { $0.values["gold_used"] }
            XCTAssertEqual(gold.last, name == "opo_gold" ? 8 : 4, "\(name): the gold budget, spent through preflab annotate")
        }
        try assertProbe(store.metrics(for: try XCTUnwrap(graph.nodes.first { $0.stage.name == "d2po" }).hash))
    }

    /// D2PO's probe (one step per window) with CD's R* from the scorers' log-likelihoods, which the probe requests carry:
    /// real-valued, so pairs count. The discriminator is the policy's implicit reward, so the two judges agree on every
    /// line; before the first update (π = π_ref) every implicit reward is 0, so 1/2; no static RM without a reward model.
    func assertProbe(_ lines: [MetricPoint]) throws {
        XCTAssertEqual(lines.count, 4)
        for line in lines {
            let v = line.values
            print("ContrastiveEngineTests: d2po probe step \(line.step): \(v.filter { $0.key.hasPrefix("probe_") }.sorted { $0.key < $1.key })")
            XCTAssertEqual((v["probe_pairs"] ?? 0) + (v["probe_ties"] ?? 0), 4, "step \(line.step): every pair counted or tied")
            XCTAssertNil(v["probe_static_rm"], "step \(line.step)")
            XCTAssertEqual(v["probe_discriminator"], v["probe_implicit"], "step \(line.step): the same judge")
        }
        XCTAssertTrue(lines.allSatisfy { ($0.values["probe_pairs"] ?? 0) > 0 }, "CD's R* is real-valued: pairs count")
        XCTAssertEqual(lines.first?.values["probe_implicit"] ?? 0, 0.5, accuracy: 1e-12, "π = π_ref: every pair even")
    }

    // MARK: - helpers

    /// The engines venv's interpreter; the test is skipped, saying why, without it.
    static func enginesPython() throws -> String {
        guard let python = S.python else {
            print("ContrastiveEngineTests: skipped — .venv-engines is absent (bash scripts/setup-engines.sh makes it)")
            throw XCTSkip(".venv-engines is absent")
        }
        return python
    }

    /// Multiplies every weight of the model in argv[1] by argv[3] and writes it, with argv[1]'s other files, to argv[2].
    static let scaleScript = """
    import os, shutil, sys, torch
    from transformers import AutoModelForCausalLM
    src, dst, k = sys.argv[1], sys.argv[2], float(sys.argv[3])
    shutil.copytree(src, dst)
    for f in os.listdir(dst):
        if f.startswith("model") and (f.endswith(".safetensors") or f.endswith(".index.json")): os.remove(os.path.join(dst, f))
    m = AutoModelForCausalLM.from_pretrained(src)
    with torch.no_grad():
        for p in m.parameters(): p.mul_(k)
    m.save_pretrained(dst)
    """

    /// The tiny OPT (the policy and small scorer) and a scaled copy (the large scorer), both marked as site models.
    static func makeScorers(python: String, in dir: URL) throws -> (opt: URL, large: URL) {
        let opt = dir.appendingPathComponent("tiny-opt"), large = dir.appendingPathComponent("tiny-opt-large")
        try EngineModelTests.makeTinyOPT(python: python, into: opt)
        try Self.python(python, ["-c", scaleScript, opt.path, large.path, "1.5"])
        try EngineModel(model: "tiny-opt", architecture: "opt").write(to: opt)
        try EngineModel(model: "tiny-opt-large", architecture: "opt").write(to: large)
        return (opt, large)
    }

    /// The node's vLLM runner, its batches answered by the responder on the CPU.
    static func runWithResponder(_ context: NodeContext, kind: String, python: String) throws -> [String: Double] {
        var site = SiteConfig()
        site.gpus = ["default": 1]
        let runner = try XCTUnwrap(DelegatedRunners.all(site: site)[RunnerKey(kind: kind, engine: "vllm")] as? VLLMRunner)
        let job = try runner.prepare(context, in: context.resumeDirectory)
        let launch = responderLaunch(context.resumeDirectory, python: python)
        return try runner.inputs.run(context) { try runner.generate($0, job: job, launch: launch, context: context) }
    }

    /// vLLM's sampler for `context`, answered by the responder.
    static func responderSampler(_ context: NodeContext, python: String) throws -> Sampler {
        var site = SiteConfig()
        site.gpus = ["default": 1]
        let runner = VLLMRunner(inputs: SampledGeneration.goldReward, models: EmbeddedRolloutInputs(), site: site)
        let job = try runner.prepare(context, in: context.resumeDirectory)
        let launch = responderLaunch(context.resumeDirectory, python: python)
        return Sampler.vllm { try runner.generate($0, job: job, launch: launch, context: context) }
    }

    static func responderLaunch(_ resume: URL, python: String) -> EngineLaunch {
        EngineLaunch(directory: resume.path, environment: ["HF_HUB_OFFLINE": "1"],
                     command: [python, S.fixtures.appendingPathComponent("vllm_responder.py").path, resume.appendingPathComponent("job.json").path])
    }

    static func lines(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    static func python(_ python: String, _ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = arguments
        p.environment = ["HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "python \(arguments.prefix(1)) failed")
    }
}
