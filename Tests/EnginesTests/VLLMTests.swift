@testable import Engines
import Foundation
import Pipeline
import Preference
import Randomness
import RecipeSpec
import StageSpecs
@testable import Stages
import XCTest

/// `engine: vllm` on the stages that only sample, without a GPU: the request files (golden) carry PrefLab's own prompt
/// ids and the embedded sampler's settings; answered by `EmbeddedGenerations` (PrefLab's own generations for the
/// same requests, test-only), the node's numbers and files equal the embedded node's; without a GPU the node fails
/// with the reason.
final class VLLMTests: XCTestCase {
    typealias S = EngineTestSupport

    static let overrides = ["scale=smoke", "stages.eval.engine=vllm"]
    static let benchmarks = "Tests/EnginesTests/Fixtures/vllm-benchmarks.yaml"

    func testValidate() throws {
        XCTAssertNoThrow(try S.recipe("Recipes/quickstart.yaml", overrides: Self.overrides + ["stages.eval.engine_args={precision: fp16}"]))
        XCTAssertNoThrow(try S.recipe("Recipes/quickstart.yaml", overrides: ["stages.preferences.engine=vllm"]))
        XCTAssertNoThrow(try S.recipe(Self.benchmarks, overrides: ["engine=vllm"]), "every benchmark runs on vLLM")
        XCTAssertThrowsError(try S.recipe("Recipes/quickstart.yaml", overrides: Self.overrides + ["stages.eval.engine_args={precision: fp8}"])) {
            XCTAssertTrue("\($0)".contains("stages.eval.engine_args: precision 'fp8' is not one vLLM loads weights in"), "\($0)")
        }
        XCTAssertThrowsError(try S.recipe("Recipes/quickstart.yaml", overrides: ["stages.dpo.engine=vllm"])) {
            XCTAssertTrue("\($0)".contains("stage kind 'dpo' has no runner on engine 'vllm'"), "\($0)")
        }
        XCTAssertThrowsError(try S.recipe(Self.benchmarks, overrides: ["stages.truthfulqa.engine=openrlhf"])) {
            XCTAssertTrue("\($0)".contains("stage kind 'truthfulqa' has no runner on engine 'openrlhf'"), "\($0)")
        }
    }

    /// The quickstart's smoke SFT policy evaluated through vLLM: its requests (golden, unchanged since the bridge's
    /// first version), and PrefLab's own generations as completions give the embedded gold_reward node.
    func testGoldReward() throws {
        let (node, twin) = try Self.nodes("Recipes/quickstart.yaml", stage: "eval", kind: "gold_reward") { node, graph in
            node.inputs.contains { input in input.field == "policy" && graph.nodes.contains { $0.hash == input.hash && $0.kind == "sft" } }
        }
        let run = try Self.dryRun(node, twin: twin)
        defer { run.remove() }
        let plan = try GoldRewardStage.plan(run.context, sampler: .embedded)
        let requests = try XCTUnwrap(run.engine.batches.first).requests
        XCTAssertEqual(run.engine.batches.count, 1)
        XCTAssertEqual(requests.count, plan.prompts.count * plan.perPrompt)
        for r in requests {
            XCTAssertEqual([r.temperature, r.topP], [plan.options.temperature, plan.options.topP])
            XCTAssertEqual(r.stopTokenIds, [Int(try plan.policy.policy().codec.eos)])
            XCTAssertEqual(r.maxTokens, plan.options.maxNewTokens, "the smoke prompts leave the whole budget")
        }
        try S.checkGolden("vllm-requests-quickstart-smoke.jsonl", try Self.jsonl(requests))
        XCTAssertEqual(run.summary, run.embeddedSummary)
        try run.assertSameFile(ArtifactLayout.samplesFile)
    }

    /// best_of_n through vLLM (Unpacking Table 3 at smoke scale): n samples per prompt at the node's temperature, top-p 1.
    func testBestOfN() throws {
        let (node, twin) = try Self.nodes("Recipes/unpacking/table3.yaml", stage: "bon", kind: "best_of_n") { _, _ in true }
        let run = try Self.dryRun(node, twin: twin)
        defer { run.remove() }
        let requests = try XCTUnwrap(run.engine.batches.first).requests
        XCTAssertEqual(requests.count, try BestOfNStage.plan(run.context).prompts.count * 4, "smoke: n = 4 per prompt")
        XCTAssertEqual(Set(requests.map { [$0.temperature, $0.topP] }), [[0.7, 1]])
        try S.checkGolden("vllm-requests-best-of-n-smoke.jsonl", try Self.jsonl(requests))
        run.assertSameSummary()
    }

    /// The world's per-category scores through vLLM (Unpacking's evaluation at smoke scale): one sample per held-out
    /// prompt at the node's temperature, top-p 1; the embedded node's per-category means and spreads.
    func testCategoryScores() throws {
        let (node, twin) = try Self.nodes("Recipes/unpacking/table3.yaml", stage: "eval", kind: "category_scores") { _, _ in true }
        let run = try Self.dryRun(node, twin: twin)
        defer { run.remove() }
        let requests = try XCTUnwrap(run.engine.batches.first).requests
        XCTAssertEqual(run.engine.batches.count, 1)
        XCTAssertEqual(requests.count, 16, "smoke: 16 prompts, one sample each")
        XCTAssertEqual(Set(requests.map { [$0.temperature, $0.topP] }), [[0.7, 1]])
        run.assertSameSummary()
    }

    /// Preference sampling through vLLM: one batch per sampling round (train rounds, then held-out ones), two samples
    /// per prompt with the round's seed; PrefLab labels what comes back into the embedded node's pairs.
    func testTaskPreferences() throws {
        let (node, twin) = try Self.nodes("Recipes/quickstart.yaml", stage: "preferences", kind: "task_preferences") { _, _ in true }
        let run = try Self.dryRun(node, twin: twin)
        defer { run.remove() }
        XCTAssertEqual(run.engine.batches.map(\.name), ["batch-0", "batch-1"], "smoke: no ties dropped, one round per split")
        let train = run.engine.batches[0].requests
        XCTAssertEqual(train.count, 2 * 16)
        XCTAssertEqual(train[0].promptTokenIds, train[1].promptTokenIds, "two samples per prompt")
        XCTAssertEqual(train.map(\.seed), (0..<32).map { 1 + UInt64($0) }, "round 0: the node's seed + the request's index")
        XCTAssertEqual(Set(train.map { [$0.temperature, $0.topP] }), [[1, 1]])
        try S.checkGolden("vllm-requests-preferences-smoke.jsonl", try Self.jsonl(run.engine.batches.flatMap(\.requests)))
        XCTAssertEqual(run.summary, run.embeddedSummary)
        try run.assertSameFile(ArtifactLayout.pairsFile)
        try run.assertSameFile(ArtifactLayout.heldOutFile)
    }

    /// The benchmarks through vLLM (HumanEval shares their path): greedy requests, each block of 2 fitted to the
    /// window as the embedded model fits it; PrefLab extracts and scores the responses into the embedded node's items
    /// and summary. TruthfulQA: one scoring request per choice (27 for its first 2 questions; the continuation's ids
    /// scored, fitted as the policy fits the pair).
    func testBenchmarks() throws {
        for (kind, count) in [("gsm8k", 3), ("xstest", 4), ("bbh", 3), ("ifeval", 3), ("alpaca_eval", 3), ("truthfulqa", 27)] {
            let (node, twin) = try Self.nodes(Self.benchmarks, stage: kind, kind: kind) { _, _ in true }
            let run = try Self.dryRun(node, twin: twin, block: 2)
            defer { run.remove() }
            let requests = try XCTUnwrap(run.engine.batches.first).requests
            XCTAssertEqual(run.engine.batches.count, 1, "every prompt in one launch")
            XCTAssertEqual(requests.count, count, kind)
            XCTAssertEqual(requests.allSatisfy { $0.scoreTokens != nil }, kind == "truthfulqa", kind)
            XCTAssertEqual(Set(requests.map { [$0.temperature, $0.topP] }), [[0, 1]], "greedy, as the references decode")
            try S.checkGolden("vllm-requests-\(kind)-smoke.jsonl", try Self.jsonl(requests))
            run.assertSameSummary()
            if kind == "gsm8k" { XCTAssertGreaterThan(run.summary["prompts_cut"] ?? 0, 0, "the 96-token window cuts the 1-shot prompts") }
            try run.assertSameFile(StageSpecs.benchmarkItemsFile)
        }
    }

    /// Without a GPU the vLLM node fails with the reason; its policy's node still finishes.
    func testRunWithoutAGPUFails() throws {
        try XCTSkipIf(GPUPlacement.machineHasGPU(), "this machine has a GPU; the refusal is for machines without one")
        let graph = try StageSpecs.graph(try S.recipe("Recipes/quickstart.yaml", overrides: Self.overrides))
        let eval = try XCTUnwrap(graph.nodes.first { $0.engine == "vllm" })
        let store = try ArtifactStore(root: try S.temporaryDirectory())
        defer { try? FileManager.default.removeItem(at: store.root) }
        let runners = EmbeddedRunners.all.merging(DelegatedRunners.all(site: SiteConfig())) { embedded, _ in embedded }
        let report = try Executor(store: store, runners: runners).run(graph, targets: [eval.hash])
        guard case .failed(let error, _)? = report.node(eval.hash)?.outcome else { return XCTFail("\(report.nodes.map(\.outcome))") }
        XCTAssertTrue(error.contains("stages.eval.engine: vLLM needs a CUDA GPU and this machine has none"), error)
        XCTAssertEqual(report.failures.count, 1)
    }

    /// Without a GPU, preference sampling on vLLM fails with the reason and exactly its dependents are skipped (the
    /// reward model, DPO, PPO and their evaluations); the SFT policy's own evaluation still runs.
    func testWithoutAGPUThePreferencesFailAndOnlyTheirDependentsAreSkipped() throws {
        try XCTSkipIf(GPUPlacement.machineHasGPU(), "this machine has a GPU; the refusal is for machines without one")
        let graph = try StageSpecs.graph(try S.recipe("Recipes/quickstart.yaml", overrides: ["scale=smoke", "stages.preferences.engine=vllm"]))
        let store = try ArtifactStore(root: try S.temporaryDirectory())
        defer { try? FileManager.default.removeItem(at: store.root) }
        EmbeddedRunners.configureEngine(threads: 1)
        let runners = EmbeddedRunners.all.merging(DelegatedRunners.all(site: SiteConfig())) { embedded, _ in embedded }
        let report = try Executor(store: store, runners: runners).run(graph)
        XCTAssertEqual(report.failures.map(\.stage), ["preferences"])
        guard case .failed(let error, _)? = report.failures.first?.outcome else { return XCTFail("not failed") }
        XCTAssertTrue(error.contains("stages.preferences.engine: vLLM needs a CUDA GPU and this machine has none"), error)
        XCTAssertEqual(Set(report.skipped.map(\.stage)), ["reward_model", "dpo", "ppo", "eval"])
        XCTAssertTrue(report.nodes.contains { $0.stage == "eval" && $0.succeeded }, "the SFT policy's evaluation runs")
    }

    /// A batch whose completions an interrupted attempt left is read back, not relaunched; a short completions file is
    /// an error naming the counts.
    func testABatchWhoseCompletionsExistIsNotRelaunched() throws {
        let graph = try StageSpecs.graph(try S.recipe("Recipes/quickstart.yaml", overrides: Self.overrides))
        let eval = try XCTUnwrap(graph.nodes.first { $0.engine == "vllm" })
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let context = NodeContext(hash: eval.hash, stage: eval.stage, inputs: [:], outputDirectory: dir, resumeDirectory: dir,
                                  reporter: SilentReporter())
        let runner = try XCTUnwrap(DelegatedRunners.all(site: SiteConfig())[RunnerKey(kind: "gold_reward", engine: "vllm")] as? VLLMRunner)
        let job = VLLMRunner.Job(model: "", requests: "", output: "", dtype: "bfloat16", tensorParallelSize: 1)
        let refused = EngineLaunch(directory: dir.path, environment: [:], command: ["/bin/false"])   // launched: an error
        let request = VLLMRequest(promptTokenIds: [1], maxTokens: 2, temperature: 1, topP: 1, seed: 0, stopTokenIds: [5])
        try "{\"token_ids\":[7,5],\"finish_reason\":\"stop\"}\n".write(to: dir.appendingPathComponent("batch-0.completions.jsonl"),
                                                                      atomically: true, encoding: .utf8)
        let kept = try runner.generate(GenerationBatch(name: "batch-0", requests: [request]), job: job, launch: refused, context: context)
        XCTAssertEqual(kept, [VLLMCompletion(tokenIds: [7, 5], finishReason: "stop")])
        XCTAssertThrowsError(try runner.generate(GenerationBatch(name: "batch-0", requests: [request, request]), job: job,
                                                 launch: refused, context: context)) {
            XCTAssertTrue("\($0)".contains("vLLM returned 1 completions for 2 requests"), "\($0)")
        }
    }

    // MARK: - Support

    /// The stage's node with `engine: vllm` at smoke scale and its embedded twin (same inputs, other hash).
    static func nodes(_ recipe: String, stage: String, kind: String,
                      where extra: (GraphNode, PipelineGraph) -> Bool) throws -> (GraphNode, (GraphNode, PipelineGraph)) {
        let graph = try StageSpecs.graph(try S.recipe(recipe, overrides: ["scale=smoke", "stages.\(stage).engine=vllm"]))
        let embedded = try StageSpecs.graph(try S.recipe(recipe, overrides: ["scale=smoke"]))
        let node = try XCTUnwrap(graph.nodes.first { $0.kind == kind && $0.engine == "vllm" && extra($0, graph) })
        let twin = try XCTUnwrap(embedded.nodes.first {
            $0.kind == kind && $0.inputs.map(\.hash) == node.inputs.map(\.hash) && $0.stage.name == node.stage.name
        })
        XCTAssertNotEqual(node.hash, twin.hash, "a delegated node is another node")
        return (node, (twin, embedded))
    }

    /// A vLLM node run by its bridge, answered by PrefLab's own generations, beside its embedded twin.
    struct DryRun {
        var store: ArtifactStore
        var out: URL
        var context: NodeContext
        var engine: EmbeddedGenerations
        var summary: [String: Double]
        var embeddedSummary: [String: Double]
        var twin: String

        func remove() { for dir in [store.root, out] { try? FileManager.default.removeItem(at: dir) } }

        /// The embedded node's summary, read back from summary.json, whose text round trip may move a value's last bit
        /// (a std read 0.08660254037844387 for ...385).
        func assertSameSummary(line: UInt = #line) {
            XCTAssertEqual(Set(summary.keys), Set(embeddedSummary.keys), line: line)
            for (key, value) in embeddedSummary { XCTAssertEqual(summary[key] ?? .nan, value, accuracy: 1e-15, key, line: line) }
        }

        func assertSameFile(_ name: String, line: UInt = #line) throws {
            XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent(name)),
                           try Data(contentsOf: store.objectDirectory(for: twin).appendingPathComponent(name)), name, line: line)
        }
    }

    /// Runs the embedded graph up to the twin, then the vLLM node's bridge over the same inputs (into a fresh folder),
    /// with `EmbeddedGenerations` as the engine.
    static func dryRun(_ node: GraphNode, twin: (GraphNode, PipelineGraph), block: Int? = nil) throws -> DryRun {
        let store = try ArtifactStore(root: try S.temporaryDirectory())
        EmbeddedRunners.configureEngine(threads: 1)
        XCTAssertTrue(try Executor(store: store, runners: EmbeddedRunners.all).run(twin.1, targets: [twin.0.hash]).succeeded)
        var inputs: [String: URL] = [:]
        for input in node.inputs { inputs[input.field] = store.objectDirectory(for: input.hash) }
        let out = try S.temporaryDirectory()
        let context = NodeContext(hash: node.hash, stage: node.stage, inputs: inputs, outputDirectory: out,
                                  resumeDirectory: out, reporter: SilentReporter())
        let engine = EmbeddedGenerations(policy: try ModelArtifact.loadPolicy(from: try XCTUnwrap(inputs["policy"])), block: block)
        let bridge = try XCTUnwrap(DelegatedRunners.all(site: SiteConfig())[RunnerKey(kind: node.kind, engine: "vllm")] as? VLLMRunner)
        let summary = try bridge.inputs.run(context, generate: engine.answer)
        return DryRun(store: store, out: out, context: context, engine: engine, summary: summary,
                      embeddedSummary: try XCTUnwrap(store.summary(for: twin.0.hash)), twin: twin.0.hash)
    }

    static func jsonl(_ requests: [VLLMRequest]) throws -> String {
        String(decoding: try JSONLinesEncoding.encode(requests, snakeCaseKeys: true), as: UTF8.self)
    }
}

/// Test-only stand-in for vLLM (never shipped as an engine): answers each batch with PrefLab's own generations for the
/// same fitted prompt ids and settings — one `Policy.sample` call per batch, seeded as `Evaluation.sample` seeds one
/// (its stream from the batch's sampling seed, the first request's), or per `block` of requests for the benchmarks,
/// whose embedded model generates a block at a time (greedy: no draw) — so the bridge's node must equal the embedded one.
final class EmbeddedGenerations {
    let policy: Policy
    let block: Int?
    private(set) var batches: [GenerationBatch] = []

    init(policy: Policy, block: Int?) {
        self.policy = policy
        self.block = block
    }

    func answer(_ batch: GenerationBatch) throws -> [VLLMCompletion] {
        batches.append(batch)
        if batch.requests.first?.scoreTokens != nil { return try score(batch.requests) }
        let size = block ?? max(1, batch.requests.count)
        return try stride(from: 0, to: batch.requests.count, by: size).flatMap { lo -> [VLLMCompletion] in
            let chunk = Array(batch.requests[lo..<min(batch.requests.count, lo + size)])
            var rng = SeededRandom(seed: chunk[0].seed).derived("evaluation-sample")
            let samples = try policy.sample(chunk.map { ($0.promptTokenIds ?? []).map(Int32.init) }, maxNewTokens: chunk[0].maxTokens,
                                        temperature: Float(chunk[0].temperature), topP: Float(chunk[0].topP), rng: &rng)
            // The end-of-turn token is vLLM's stop, not part of the completion it returns.
            return samples.map { s in
                VLLMCompletion(tokenIds: s.pair.response.dropLast(s.hitLengthLimit ? 0 : 1).map(Int.init),
                               finishReason: s.hitLengthLimit ? "length" : "stop")
            }
        }
    }

    /// Scoring requests: PrefLab's own log p of each request's scored ids (`Policy.sequenceLogProbs`).
    func score(_ requests: [VLLMRequest]) throws -> [VLLMCompletion] {
        let pairs = requests.map { r -> SequencePair in
            let ids = (r.promptTokenIds ?? []).map(Int32.init), k = r.scoreTokens ?? 0
            return SequencePair(prompt: Array(ids.dropLast(k)), response: Array(ids.suffix(k)))
        }
        return try policy.sequenceLogProbs(pairs).map { VLLMCompletion(tokenIds: [], finishReason: "length", promptLogprob: $0) }
    }
}

/// Drops progress (the test reads the returned summary).
struct SilentReporter: ProgressReporter {
    func record(step: Int, of total: Int, values: [String: Double]) {}
    func log(_ message: String) {}
    func summary(_ values: [String: Double]) {}
}
