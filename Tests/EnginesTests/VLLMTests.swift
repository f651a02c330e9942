import Engines
import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs
@testable import Stages
import XCTest

/// `engine: vllm` on gold_reward and best_of_n without a GPU: the request file (golden) carries PrefLab's own prompt ids and the
/// embedded sampler's settings; PrefLab's scoring of completions gives the embedded node's numbers when the
/// completions are the embedded sampler's own; without a GPU the node fails with the reason.
final class VLLMTests: XCTestCase {
    typealias S = EngineTestSupport

    static let overrides = ["scale=smoke", "stages.eval.engine=vllm"]

    func testValidate() throws {
        XCTAssertNoThrow(try S.recipe("Recipes/quickstart.yaml", overrides: Self.overrides + ["stages.eval.engine_args={precision: fp16}"]))
        XCTAssertThrowsError(try S.recipe("Recipes/quickstart.yaml", overrides: Self.overrides + ["stages.eval.engine_args={precision: fp8}"])) {
            XCTAssertTrue("\($0)".contains("stages.eval.engine_args: precision 'fp8' is not one vLLM loads weights in"), "\($0)")
        }
        XCTAssertThrowsError(try S.recipe("Recipes/quickstart.yaml", overrides: ["stages.dpo.engine=vllm"])) {
            XCTAssertTrue("\($0)".contains("stage kind 'dpo' has no runner on engine 'vllm'"), "\($0)")
        }
    }

    /// The quickstart's smoke SFT policy evaluated through vLLM: its requests (golden), and its completions scored by
    /// PrefLab equal the embedded gold_reward node's summary when they are PrefLab's own samples.
    func testRequestsAndScoring() throws {
        let recipe = try S.recipe("Recipes/quickstart.yaml", overrides: Self.overrides)
        let graph = try StageSpecs.graph(recipe)
        let sft = try XCTUnwrap(graph.nodes.first { $0.kind == "sft" })
        let eval = try XCTUnwrap(graph.nodes.first { $0.kind == "gold_reward" && $0.inputs.contains { $0.field == "policy" && $0.hash == sft.hash } })
        XCTAssertEqual(eval.engine, "vllm")
        let embeddedGraph = try StageSpecs.graph(try S.recipe("Recipes/quickstart.yaml", overrides: ["scale=smoke"]))
        let embeddedEval = try XCTUnwrap(embeddedGraph.nodes.first { $0.kind == "gold_reward" && $0.inputs.contains { $0.field == "policy" && $0.hash == sft.hash } })
        XCTAssertNotEqual(eval.hash, embeddedEval.hash, "a delegated node is another node")

        let (store, out, context) = try Self.dryRun(eval, embedded: embeddedGraph, target: embeddedEval.hash)
        defer { for dir in [store.root, out] { try? FileManager.default.removeItem(at: dir) } }
        let requests = try SampledGeneration.goldReward.requests(context)
        let plan = try GoldRewardStage.plan(context)
        XCTAssertEqual(requests.count, plan.prompts.count * plan.perPrompt)
        for r in requests {
            XCTAssertEqual([r.temperature, r.topP], [plan.options.temperature, plan.options.topP])
            XCTAssertEqual(r.stopTokenIds, [Int(plan.policy.codec.eos)])
            XCTAssertEqual(r.maxTokens, plan.options.maxNewTokens, "the smoke prompts leave the whole budget")
        }
        try S.checkGolden("vllm-requests-quickstart-smoke.jsonl", String(decoding: try JSONLinesEncoding.encode(requests, snakeCaseKeys: true), as: UTF8.self))

        // PrefLab's own samples, as vLLM would return them, scored by the bridge: the embedded node's numbers.
        let samples = try Evaluation.sample(policy: plan.policy, prompts: plan.prompts, samplesPerPrompt: plan.perPrompt, options: plan.options)
        let summary = try SampledGeneration.goldReward.finish(context, completions: Self.completions(samples))
        let embedded = try XCTUnwrap(store.summary(for: embeddedEval.hash))
        XCTAssertEqual(summary, embedded)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("samples.jsonl")),
                       try Data(contentsOf: store.objectDirectory(for: embeddedEval.hash).appendingPathComponent("samples.jsonl")))
    }

    /// best_of_n through vLLM (Unpacking Table 3 at smoke scale): its requests (golden: n samples per prompt at the
    /// node's temperature, top-p 1), and PrefLab's own samples fed back as completions give the embedded node's pick
    /// and numbers.
    func testBestOfNRequestsAndScoring() throws {
        let recipe = "Recipes/unpacking/table3.yaml"
        let graph = try StageSpecs.graph(try S.recipe(recipe, overrides: ["scale=smoke", "stages.bon.engine=vllm"]))
        let embeddedGraph = try StageSpecs.graph(try S.recipe(recipe, overrides: ["scale=smoke"]))
        let bon = try XCTUnwrap(graph.nodes.first { $0.kind == "best_of_n" && $0.engine == "vllm" })
        let embeddedBon = try XCTUnwrap(embeddedGraph.nodes.first { $0.kind == "best_of_n" && $0.inputs.map(\.hash) == bon.inputs.map(\.hash) })
        let (store, out, context) = try Self.dryRun(bon, embedded: embeddedGraph, target: embeddedBon.hash)
        defer { for dir in [store.root, out] { try? FileManager.default.removeItem(at: dir) } }
        let requests = try SampledGeneration.bestOfN.requests(context)
        let plan = try BestOfNStage.plan(context)
        XCTAssertEqual(requests.count, plan.prompts.count * 4, "smoke: n = 4 per prompt")
        XCTAssertEqual(Set(requests.map { [$0.temperature, $0.topP] }), [[0.7, 1]])
        try S.checkGolden("vllm-requests-best-of-n-smoke.jsonl", String(decoding: try JSONLinesEncoding.encode(requests, snakeCaseKeys: true), as: UTF8.self))

        let samples = try Evaluation.sample(policy: plan.policy, prompts: plan.prompts, samplesPerPrompt: plan.perPrompt, options: plan.options)
        let summary = try SampledGeneration.bestOfN.finish(context, completions: Self.completions(samples))
        let embedded = try XCTUnwrap(store.summary(for: embeddedBon.hash))
        XCTAssertEqual(Set(summary.keys), Set(embedded.keys))
        // summary.json's text round trip may move a value's last bit (std read 0.08660254037844387 for ...385).
        for (key, value) in embedded { XCTAssertEqual(summary[key] ?? .nan, value, accuracy: 1e-15, key) }
    }

    /// Runs the embedded graph up to `target` (the node's embedded twin) and gives the vLLM node's context over the same
    /// inputs, with a fresh output folder (the caller removes the store and that folder).
    static func dryRun(_ node: GraphNode, embedded: PipelineGraph, target: String) throws -> (ArtifactStore, URL, NodeContext) {
        let store = try ArtifactStore(root: try S.temporaryDirectory())
        EmbeddedRunners.configureEngine(threads: 1)
        XCTAssertTrue(try Executor(store: store, runners: EmbeddedRunners.all).run(embedded, targets: [target]).succeeded)
        var inputs: [String: URL] = [:]
        for input in node.inputs { inputs[input.field] = store.objectDirectory(for: input.hash) }
        let out = try S.temporaryDirectory()
        return (store, out, NodeContext(hash: node.hash, stage: node.stage, inputs: inputs, outputDirectory: out,
                                        resumeDirectory: out, reporter: SilentReporter()))
    }

    /// PrefLab's own samples as vLLM would return them (the end-of-turn token is vLLM's stop, not part of the text).
    static func completions(_ samples: [Sample]) -> [VLLMCompletion] {
        samples.map { s in
            VLLMCompletion(tokenIds: s.pair.response.dropLast(s.hitLengthLimit ? 0 : 1).map(Int.init), finishReason: s.hitLengthLimit ? "length" : "stop")
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
}

/// Drops progress (the test reads the returned summary).
struct SilentReporter: ProgressReporter {
    func record(step: Int, of total: Int, values: [String: Double]) {}
    func log(_ message: String) {}
    func summary(_ values: [String: Double]) {}
}
